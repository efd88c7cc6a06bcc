"""The prefix as inspect messages, the original's steps, and the per-turn comparison."""

from __future__ import annotations

from pathlib import Path

from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageTool

from deploysim.replay._messages import IdMap, prefix_messages, sanitize_id
from deploysim.replay._original import compare_turn, original_steps, steps_of_turn
from deploysim.replay._record import Step
from deploysim.traces import (
    Message,
    Reasoning,
    Text,
    ToolCall,
    ToolResult,
    Trace,
    TraceSource,
    import_file,
    load_tools_file,
)


def _trace0(shared_traces: Path) -> Trace:
    d = shared_traces / "tau-bench-airline"
    return import_file(d / "traces.json", tools=load_tools_file(d / "tool_schemas.json")).traces[0]


def test_reused_call_ids_become_unique_and_results_follow(shared_traces: Path) -> None:
    """tau-bench reuses call ids; the prefix gets unique ids, each result on its own call."""
    trace = _trace0(shared_traces)
    prefix = prefix_messages(trace, 28)
    calls = [
        c
        for m in prefix.messages
        if isinstance(m, ChatMessageAssistant)
        for c in m.tool_calls or []
    ]
    results = [m for m in prefix.messages if isinstance(m, ChatMessageTool)]
    ids = [c.id for c in calls]
    assert len(ids) == len(set(ids)) == 7  # tau-bench used two ids twice each
    assert "call_oIHazX6yQrB8hUwl4cRilFKj_2" in ids and "call_HGn16KZh9oNCruxsMJ4gYXan_2" in ids
    assert [r.tool_call_id for r in results] == ids
    assert [r.function for r in results] == [c.function for c in calls]
    assert results[2].text.startswith("[[{") and calls[2].function == "search_onestop_flight"
    assert isinstance(prefix.messages[0], ChatMessageSystem)


def test_ids_are_sanitized_for_every_provider() -> None:
    """Ids keep only [A-Za-z0-9_-] (Anthropic's rule) and stay unique."""
    ids = IdMap()
    assert sanitize_id("toolu:01/ab.c") == "toolu_01_ab_c"
    assert [ids.assign("a.b"), ids.assign("a_b"), ids.assign("a.b")] == ["a_b", "a_b_2", "a_b_3"]


def _small_trace() -> Trace:
    return Trace(
        id="t",
        source=TraceSource(format="anthropic"),
        messages=[
            Message(role="user", parts=[Text(text="hi")]),
            Message(
                role="assistant",
                parts=[
                    Reasoning(text="thinking", opaque="sig"),
                    ToolCall(id="a", name="lookup", arguments={"q": 1}),
                    ToolCall(id="s", name="web", arguments={}, executed_by="server"),
                    ToolCall(id="x", name="never_answered", arguments={}),
                ],
            ),
            Message(role="tool", parts=[ToolResult(call_id="a", output="boom", is_error=True)]),
            Message(role="assistant", parts=[Text(text="sorry")]),
            Message(role="user", parts=[Text(text="ok")]),
        ],
    )


def test_what_the_prefix_leaves_out_is_noted() -> None:
    """Server-run and unanswered calls, and reasoning, are left out and listed in the notes."""
    prefix = prefix_messages(_small_trace(), 4, system_prompt="policy", flag_errors=True)
    assert isinstance(prefix.messages[0], ChatMessageSystem)
    assistant = prefix.messages[2]
    assert isinstance(assistant, ChatMessageAssistant)
    assert [c.function for c in assistant.tool_calls or []] == ["lookup"]
    tool = prefix.messages[3]
    assert isinstance(tool, ChatMessageTool) and tool.error is not None
    assert tool.error.message == "boom" and tool.text == ""
    notes = " | ".join(prefix.notes)
    for expected in ("system prompt added", "provider-run", "no recorded result", "reasoning"):
        assert expected in notes


def test_errors_as_text_when_the_original_saw_text() -> None:
    """Without the error flag a recorded error is the plain text the original model saw."""
    prefix = prefix_messages(_small_trace(), 4)
    tool = prefix.messages[2]
    assert isinstance(tool, ChatMessageTool)
    assert tool.error is None and tool.text == "boom"


def test_original_steps_and_turn_comparison(shared_traces: Path) -> None:
    """The original's steps after the cut carry turns; a turn matches on its tool calls only."""
    trace = _trace0(shared_traces)
    steps = original_steps(trace, 20, {"book_reservation": "write"})
    by_call = original_steps(trace, 20, lambda name, args: "write" if "book" in name else "read")
    assert [s.effect for s in by_call if s.kind == "tool_call"][:2] == ["write", "read"]
    turn6 = steps_of_turn(steps, 6)
    assert [s.tool for s in turn6 if s.kind == "tool_call"] == [
        "book_reservation",
        "think",
        "calculate",
    ]
    assert (
        turn6[0].effect == "write"
        and turn6[1].effect == "unknown"
        and turn6[0].output
        and turn6[0].output.startswith("Error")
    )
    first_user = next(s.text for s in steps if s.kind == "user")
    assert first_user == "Yes, I confirm. Please go ahead with this payment."
    same = [Step(kind="message", turn=6, text="other words"), *turn6]
    assert compare_turn(turn6, same).same
    other = [
        s.model_copy(update={"arguments": {"x": 1}}) if s.tool == "think" else s for s in turn6
    ]
    result = compare_turn(turn6, other)
    assert not result.same and result.detail and "call 2" in result.detail
    assert "stopped" in (compare_turn(turn6, turn6[:1]).detail or "")
