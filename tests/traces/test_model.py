import pytest
from pydantic import ValidationError

from deploysim.traces import Message, Text, ToolCall, ToolResult, Trace, TraceSource


def _trace() -> Trace:
    return Trace(
        id="t1",
        source=TraceSource(format="openai-chat", path="x.json", index=0),
        messages=[
            Message(role="user", parts=[Text(text="hi")]),
            Message(role="assistant", parts=[ToolCall(id="c1", name="ls", arguments={"p": "/"})]),
            Message(role="tool", parts=[ToolResult(call_id="c1", output="etc\nusr")]),
        ],
    )


def test_parts_are_discriminated_and_round_trip() -> None:
    """Parts serialize with a type tag and come back as the same classes."""
    t = _trace()
    again = Trace.model_validate_json(t.model_dump_json())
    assert again == t
    assert isinstance(again.messages[1].parts[0], ToolCall)
    assert again.tool_calls()[0].arguments == {"p": "/"}
    assert again.tool_results()[0].output == "etc\nusr"


def test_extra_fields_are_forbidden() -> None:
    """A typo in a field name is an error, not silently ignored."""
    with pytest.raises(ValidationError):
        Text.model_validate({"type": "text", "text": "x", "txt": "y"})


def test_message_helpers() -> None:
    """Message.text joins text parts; tool_calls/tool_results filter parts."""
    m = Message(
        role="assistant", parts=[Text(text="a"), ToolCall(id="1", name="n"), Text(text="b")]
    )
    assert m.text == "a\nb"
    assert [c.id for c in m.tool_calls] == ["1"]
    assert m.tool_results == []
