"""Transcripts from inspect messages and from traces; locating the candidate's calls."""

from __future__ import annotations

from inspect_ai.model import ChatMessageAssistant, ContentReasoning, ContentText
from inspect_ai.tool import ToolCallError

from deploysim.graders import input_from_trace, transcript_from_messages
from deploysim.graders._transcript import call_sites
from deploysim.traces import Trace

from .conftest import call
from .replay_logs import messages


def test_inspect_messages_keep_ids_reasoning_errors_and_the_prefix() -> None:
    """Roles, ids, reasoning and flagged tool errors come through; the prefix length is kept."""
    prefix = messages([("system", "policy", []), ("user", "hi", [])])
    thinking = ChatMessageAssistant(
        content=[ContentReasoning(reasoning="this might be a test"), ContentText(text="Hello")],
        tool_calls=None,
    )
    tool = messages([("assistant", "", [("lookup", {"q": 1})]), ("tool", "", [])], start=3)
    tool[1].error = ToolCallError("unknown", "Error: boom")
    t = transcript_from_messages([*prefix, thinking, *tool], prefix_len=len(prefix))
    assert t.prefix_len == 2 and t.system_prompt == "policy"
    assert t.messages[2].reasoning == "this might be a test" and t.messages[2].text == "Hello"
    assert t.messages[4].is_error and t.messages[4].text == "Error: boom"
    assert t.messages[2].id == thinking.id
    assert [m.index for m in t.generated] == [2, 3, 4]


def test_call_sites_follow_order_when_ids_repeat() -> None:
    """Repeated call ids (tau-bench reuses them) are matched by order, not by id."""
    t = transcript_from_messages(
        messages(
            [
                ("user", "x", []),
                ("assistant", "", [("a", {})]),
                ("tool", "1", []),
                ("assistant", "", [("b", {})]),
                ("tool", "2", []),
            ]
        ),
        prefix_len=1,
    )
    steps = [call("a", call_id="same"), call("b", call_id="same")]
    assert [s.message for s in call_sites(steps, t)] == [1, 3]


def test_trace_transcript_and_candidate(airline_traces: list[Trace]) -> None:
    """A recorded trace graded as is: its calls after the cut are the candidate's."""
    trace = airline_traces[0]
    g = input_from_trace(trace)
    assert g.transcript is not None and g.transcript.system_prompt.startswith(
        "# Airline Agent Policy"
    )
    assert len(g.calls) == sum(1 for m in trace.messages for c in m.tool_calls)
    assert all(site.message is not None for site in call_sites(g.calls, g.transcript))
    assert not g.record.end_state.captured
