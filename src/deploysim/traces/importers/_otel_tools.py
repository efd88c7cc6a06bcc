"""Tool spans: matching them to the calls of the conversation, and filling results in."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, NamedTuple

from deploysim.traces._model import (
    Message,
    Part,
    ToolCall,
    ToolResult,
)
from deploysim.traces._reader import text_of
from deploysim.traces.importers._otel_merge import Conversation
from deploysim.traces.importers._otel_messages import INFERENCE_OPS
from deploysim.traces.importers._otel_spans import Span
from deploysim.traces.importers._otel_vocab import (
    tool_arguments,
    tool_call_arguments,
    tool_call_id,
    tool_name,
    tool_result,
)

# --- execute_tool spans ------------------------------------------------------------------


class ToolSpan(NamedTuple):
    span: Span
    call_id: str | None
    name: str
    error_type: str | None
    failed: bool

    def call(self, fallback_id: str) -> ToolCall:
        parsed = tool_call_arguments(self.span)
        return ToolCall(
            id=self.call_id or fallback_id,
            name=self.name,
            arguments=parsed.arguments,
            raw_arguments=parsed.raw,
            parse_error=parsed.error,
        )

    def result(self, call_id: str) -> ToolResult | None:
        """The recorded result; an empty one when the span records arguments but no result.

        A span that records its arguments had content capture on, so a missing result means
        the tool returned nothing (a write returning None); without arguments it is unknown.
        """
        value = tool_result(self.span)
        if value is None and not self.failed:
            if tool_arguments(self.span) is None:
                return None
            value = ""
        output = (
            text_of(value)
            if value is not None
            else (self.span.status_error or self.error_type or "error")
        )
        return ToolResult(
            call_id=call_id,
            output=output,
            is_error=self.failed,
            error_type=self.error_type,
            name=self.name,
            structured=None if isinstance(value, str | None) else value,
        )


def read_tool_span(span: Span) -> ToolSpan:
    name = tool_name(span)
    if not name:
        raise span.node.fail("execute_tool span has no gen_ai.tool.name")
    error_type = span.str_attr("error.type")
    return ToolSpan(
        span,
        tool_call_id(span),
        name,
        error_type,
        error_type is not None or span.status_error is not None,
    )


def from_tool_spans(spans: list[Span]) -> list[Message]:
    """Calls and results from tool spans; an inference span between two tool spans splits turns."""
    groups: list[list[ToolSpan]] = []
    open_group = False
    for s in spans:
        if s.op in INFERENCE_OPS:
            open_group = False
        elif s.op == "execute_tool":
            t = read_tool_span(s)
            if open_group and groups[-1][-1].span.parent_id == s.parent_id:
                groups[-1].append(t)
            else:
                groups.append([t])
                open_group = True
    messages: list[Message] = []
    for group in groups:
        calls = [
            t.call(t.span.span_id or f"tool-span-{len(messages)}-{i}") for i, t in enumerate(group)
        ]
        messages.append(Message(role="assistant", parts=list(calls)))
        for t, call in zip(group, calls, strict=True):
            result = t.result(call.id)
            if result is not None:
                messages.append(Message(role="tool", parts=[result]))
    return messages


def _mark_failed(m: Message, failed: dict[str, ToolSpan]) -> Message:
    def fix(p: Part) -> Part:
        if isinstance(p, ToolResult) and p.call_id in failed and not p.is_error:
            return p.model_copy(
                update={
                    "is_error": True,
                    "error_type": p.error_type or failed[p.call_id].error_type,
                }
            )
        return p

    parts = [fix(p) for p in m.parts]
    return m if parts == m.parts else m.model_copy(update={"parts": parts})


class _Matches(NamedTuple):
    matched: dict[int, str]
    """Tool span index -> the id of the call it ran."""
    renames: dict[str, str]
    """Call id -> the id its tool span recorded, for calls that had none."""


def _match_tool_spans(conv: Conversation, tools: list[ToolSpan]) -> _Matches:
    """Which call each tool span executed: by call id, else by tool name and time.

    A tool span without a known id answers the most recent unanswered call to its tool made
    before it started (the first such call when the calling span's time is unknown). When
    that span records an id the call lacks, the call takes it (``renames``: old -> new).
    """
    calls = [(i, c) for i, m in enumerate(conv.messages) for c in m.tool_calls]
    ids = {c.id for _, c in calls}
    matched: dict[int, str] = {}
    claimed: set[str] = set()
    for k, t in enumerate(tools):
        if t.call_id in ids and t.call_id not in claimed:
            matched[k] = t.call_id
            claimed.add(t.call_id)
    renames: dict[str, str] = {}
    for k, t in enumerate(tools):
        if k in matched:
            continue
        open_calls = [
            (conv.produced[i], c)
            for i, c in calls
            if c.name == t.name and c.id not in claimed and _before(conv.produced[i], t.span.start)
        ]
        if not open_calls:
            continue
        latest = max((p for p, _ in open_calls if p is not None), default=None)
        call = next(c for p, c in open_calls if p == latest)
        claimed.add(call.id)
        matched[k] = call.id
        if t.call_id is not None and t.call_id not in ids:
            renames[call.id] = t.call_id
            ids.add(t.call_id)
    return _Matches(matched, renames)


def _ran_after(conv: Conversation, t: ToolSpan) -> int | None:
    """The message a call-less tool span ran after, when span times tell (sequential merge)."""
    start = t.span.start
    if start is None:
        return None
    before = [i for i, p in enumerate(conv.produced) if p is not None and p <= start]
    return before[-1] if before else None


def _call_from_tool_span(t: ToolSpan, fallback_id: str) -> list[Message]:
    """A tool span with no call id and no call (asked for in text, say a ReAct prompt).

    It did run, so its call and result go where it ran, marked as coming from the span.
    """
    call = t.call(t.call_id or t.span.span_id or fallback_id)
    messages = [Message(role="assistant", parts=[call], metadata={"from_tool_span": True})]
    result = t.result(call.id)
    if result is not None:
        messages.append(Message(role="tool", parts=[result]))
    return messages


def _before(produced: int | None, start: int | None) -> bool:
    """Whether a call made at ``produced`` can be the one a span started at ``start`` ran."""
    return produced is None or start is None or produced <= start


def _renamed(m: Message, renames: dict[str, str]) -> Message:
    def fix(p: Part) -> Part:
        if isinstance(p, ToolCall) and p.id in renames:
            return p.model_copy(update={"id": renames[p.id]})
        if isinstance(p, ToolResult) and p.call_id in renames:
            return p.model_copy(update={"call_id": renames[p.call_id]})
        return p

    if not renames:
        return m
    parts = [fix(p) for p in m.parts]
    return m if parts == m.parts else m.model_copy(update={"parts": parts})


def _executed_arguments(m: Message, executed: dict[str, Any]) -> Message:
    """Note on the calling message the arguments a tool span ran with, where they differ."""
    differing = {
        c.id: executed[c.id]
        for c in m.tool_calls
        if c.id in executed and executed[c.id] != c.arguments
    }
    if not differing:
        return m
    return m.model_copy(update={"metadata": {**m.metadata, "executed_arguments": differing}})


def apply_tool_spans(
    conv: Conversation, spans: list[Span]
) -> tuple[list[Message], list[dict[str, Any]]]:
    if not conv.messages:
        return from_tool_spans(spans), []
    tools = [read_tool_span(s) for s in spans if s.op == "execute_tool"]
    matched, renames = _match_tool_spans(conv, tools)
    messages = [_renamed(m, renames) for m in conv.messages]
    call_at = {c.id: i for i, m in enumerate(messages) for c in m.tool_calls}
    answered = {r.call_id for m in messages for r in m.tool_results}
    additions: dict[int, list[Message]] = defaultdict(list)
    unmatched: list[dict[str, Any]] = []
    failed: dict[str, ToolSpan] = {}
    executed: dict[str, Any] = {}
    for k, t in enumerate(tools):
        if k not in matched:
            # With a call id the conversation lacks, the call was made outside it (a
            # sub-agent); without one, it can only have been asked for in text.
            where = _ran_after(conv, t) if t.call_id is None else None
            if where is None:
                unmatched.append({"span_id": t.span.span_id, "name": t.name, "call_id": t.call_id})
            else:
                additions[where].extend(_call_from_tool_span(t, f"tool-span-{k}"))
            continue
        call_id = renames.get(matched[k], matched[k])
        if t.failed:
            failed[call_id] = t
        ran_with = tool_call_arguments(t.span).arguments
        if ran_with is not None and tool_arguments(t.span) is not None:  # recorded, and read
            executed[call_id] = ran_with
        result = None if call_id in answered else t.result(call_id)
        if result is not None:
            additions[call_at[call_id]].append(Message(role="tool", parts=[result]))
            answered.add(call_id)
    out: list[Message] = []
    pending: list[Message] = []
    for i, m in enumerate(messages):
        if m.role != "tool":
            out.extend(pending)
            pending = []
        out.append(_executed_arguments(_mark_failed(m, failed), executed))
        pending.extend(additions.get(i, []))
    return out + pending, unmatched
