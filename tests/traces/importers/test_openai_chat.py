from pathlib import Path

import pytest
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from pydantic import TypeAdapter

from deploysim.errors import TraceFormatError
from deploysim.traces import Reasoning, Text, ToolCall, ToolResult, import_file, read_document


def test_fixtures_match_the_openai_sdk_types(fixtures: Path) -> None:
    """Hand-made fixtures are valid OpenAI SDK message params and completion objects."""
    adapter = TypeAdapter(list[ChatCompletionMessageParam])
    doc = read_document(fixtures / "openai-chat" / "requests.jsonl")
    for rec in doc.data:
        adapter.validate_python(rec["messages"])
        if "response" in rec:
            ChatCompletion.model_validate(rec["response"])
    adapter.validate_python(read_document(fixtures / "openai-chat" / "bare_messages.json").data)


def test_requests_with_tools_and_response(fixtures: Path) -> None:
    """Request tools become specs; the logged response is the last turn; bad JSON stays raw."""
    f = import_file(fixtures / "openai-chat" / "requests.jsonl")
    assert f.format == "openai-chat"
    first, _legacy = f.traces
    assert first.id == "chatcmpl-7f3a"
    assert [t.name for t in first.tools] == ["get_order", "refund_order"]
    assert first.tool("refund_order") is not None
    assert first.metadata["model"] == "gpt-4.1-2025-04-14"
    calls = first.tool_calls()
    assert calls[0].arguments == {"order_id": "W4821"}
    assert calls[1].arguments is None
    assert calls[1].raw_arguments == '{"order_id": "W4821", "amount": 86.4'
    assert calls[1].parse_error and "invalid JSON" in calls[1].parse_error
    assert first.tool_results()[1].output == "error: arguments were not valid JSON"
    assert first.messages[-1].role == "assistant"
    assert "did not go through" in first.messages[-1].text
    assert first.raw["id"] == "chatcmpl-7f3a"


def test_legacy_function_call_pairs_with_function_message(fixtures: Path) -> None:
    """Legacy function_call / role=function pairs by a synthetic id; developer maps to system."""
    legacy = import_file(fixtures / "openai-chat" / "requests.jsonl").traces[1]
    assert legacy.messages[0].role == "system"
    assert legacy.messages[0].metadata == {"original_role": "developer"}
    (call,) = legacy.tool_calls()
    (result,) = legacy.tool_results()
    assert call.name == "get_weather" and result.call_id == call.id
    assert result.name == "get_weather"
    assert [t.name for t in legacy.tools] == ["get_weather"]


def test_bare_message_list_is_one_trace(fixtures: Path) -> None:
    """A JSON list of messages is a single trace; an unanswered last call is kept."""
    f = import_file(fixtures / "openai-chat" / "bare_messages.json")
    assert f.format == "openai-chat" and len(f.traces) == 1
    t = f.traces[0]
    kinds = [type(p) for m in t.messages for p in m.parts]
    assert kinds.count(ToolCall) == 2 and kinds.count(ToolResult) == 1
    assert Text in kinds and Reasoning not in kinds
    assert t.id.startswith("openai-chat-")  # content-derived, stable
    assert import_file(fixtures / "openai-chat" / "bare_messages.json").traces[0].id == t.id


def test_malformed_record_names_record_and_field(fixtures: Path) -> None:
    """A call without an id fails naming the file, record 1 and the field path."""
    with pytest.raises(TraceFormatError) as e:
        import_file(fixtures / "openai-chat" / "malformed.jsonl")
    err = e.value
    assert err.record == 1
    assert err.field == "messages[1].tool_calls[0].id"
    assert "malformed.jsonl" in str(err) and "record 1" in str(err)


def test_skip_invalid_keeps_good_records(fixtures: Path) -> None:
    """With skip_invalid the good records import and every bad one is listed with its reason."""
    f = import_file(fixtures / "openai-chat" / "malformed.jsonl", skip_invalid=True)
    assert [t.id for t in f.traces] == ["ok-1", "ok-4"]
    assert [(s.record, s.field) for s in f.skipped] == [
        (1, "messages[1].tool_calls[0].id"),
        (2, None),
    ]
    assert "not JSON" in f.skipped[1].reason
