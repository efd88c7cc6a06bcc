"""The recorded prefix as inspect-ai chat messages.

What changes on the way, each change listed in the prefix notes:

- tool-call ids are sanitized to ``[A-Za-z0-9_-]`` (Anthropic requires it) and made unique
  over the trace (tau-bench reuses ids once a call is answered); results follow their calls
  by positional pairing (:func:`deploysim.traces.pair_calls`);
- calls the provider ran itself (hosted search), calls made by the user (tau2 telecom) and
  calls the trace never answered are left out, with their results;
- recorded reasoning is dropped unless the scenario keeps it (another provider's reasoning,
  often encrypted, does not transfer);
- with ``flag_errors``, a recorded error result is sent with inspect's error flag (Anthropic
  ``is_error``); otherwise as the plain text the original model saw.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

from deploysim.traces import Message, Reasoning, Text, ToolCall, ToolResult, Trace, pair_calls

if TYPE_CHECKING:
    from inspect_ai.model import ChatMessage

__all__ = ["IdMap", "Prefix", "prefix_messages", "sanitize_id"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def sanitize_id(raw: str) -> str:
    """A call id every provider accepts."""
    return _UNSAFE.sub("_", raw)[:60] or "call"


class IdMap:
    """Unique, sanitized call ids for one conversation."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def assign(self, raw: str) -> str:
        """A fresh id derived from ``raw``."""
        base = sanitize_id(raw)
        new, n = base, 1
        while new in self.used:
            n += 1
            new = f"{base}_{n}"
        self.used.add(new)
        return new


class Prefix(NamedTuple):
    """The converted prefix, the id map (to continue it), and what was changed."""

    messages: list[ChatMessage]
    ids: IdMap
    notes: list[str]


def _content(message: Message, keep_reasoning: bool) -> str | list[object]:
    from inspect_ai._util.content import ContentReasoning, ContentText

    if not keep_reasoning:
        return message.text
    parts: list[object] = []
    for p in message.parts:
        if isinstance(p, Reasoning) and p.text and not p.redacted:
            parts.append(ContentReasoning(reasoning=p.text))
        elif isinstance(p, Text):
            parts.append(ContentText(text=p.text))
    return parts if any(not isinstance(p, ContentText) for p in parts) else message.text


def prefix_messages(
    trace: Trace,
    cut: int,
    *,
    system_prompt: str | None = None,
    keep_reasoning: bool = False,
    flag_errors: bool = False,
) -> Prefix:
    """Convert ``trace.messages[:cut]`` into inspect chat messages."""
    from inspect_ai.model import (
        ChatMessageAssistant,
        ChatMessageSystem,
        ChatMessageUser,
    )
    from inspect_ai.tool import ToolCall as InspectToolCall

    pairing = pair_calls(trace)
    answered = {id(p.call.call): p for p in pairing.pairs if p.call.message_index < cut}
    result_call = {id(p.result.result): p.call.call for p in pairing.pairs}
    ids = IdMap()
    new_id: dict[int, str] = {}
    notes: list[str] = []
    out: list[ChatMessage] = []
    if system_prompt is not None and not any(m.role == "system" for m in trace.messages[:cut]):
        out.append(ChatMessageSystem(content=system_prompt))
        notes.append("system prompt added from the scenario (the trace recorded none)")
    reasoning_dropped = 0
    for i, m in enumerate(trace.messages[:cut]):
        if not keep_reasoning:
            reasoning_dropped += sum(isinstance(p, Reasoning) for p in m.parts)
        if m.role == "system":
            out.append(ChatMessageSystem(content=m.text))
        elif m.role == "user":
            if m.text or not m.tool_calls:
                out.append(ChatMessageUser(content=m.text))
            if m.tool_calls:
                notes.append(f"message {i}: {len(m.tool_calls)} user-side tool call(s) left out")
        elif m.role == "assistant":
            calls = []
            for c in m.tool_calls:
                if not _offered(c, answered, notes, i):
                    continue
                new_id[id(c)] = ids.assign(c.id)
                calls.append(
                    InspectToolCall(
                        id=new_id[id(c)],
                        function=c.name,
                        arguments=c.arguments or {},
                        parse_error=c.parse_error,
                    )
                )
            content = _content(m, keep_reasoning)
            if content or calls:
                out.append(ChatMessageAssistant(content=content, tool_calls=calls or None))
        else:
            for r in m.tool_results:
                call = result_call.get(id(r))
                if call is None or id(call) not in new_id:
                    notes.append(f"message {i}: result for call {r.call_id!r} left out (no call)")
                    continue
                out.append(_tool_message(r, call, new_id[id(call)], flag_errors))
    if reasoning_dropped:
        notes.append(f"{reasoning_dropped} recorded reasoning part(s) dropped")
    return Prefix(out, ids, notes)


def _offered(c: ToolCall, answered: Mapping[int, object], notes: list[str], i: int) -> bool:
    if c.executed_by == "server":
        notes.append(f"message {i}: provider-run call {c.name!r} left out")
        return False
    if c.requestor == "user":
        notes.append(f"message {i}: user-side call {c.name!r} left out")
        return False
    if id(c) not in answered:
        notes.append(f"message {i}: call {c.name!r} has no recorded result; left out")
        return False
    return True


def _tool_message(r: ToolResult, call: ToolCall, call_id: str, flag_errors: bool) -> ChatMessage:
    from inspect_ai.model import ChatMessageTool
    from inspect_ai.tool import ToolCallError

    if flag_errors and r.is_error:
        error = ToolCallError("unknown", r.output)
        return ChatMessageTool(content="", tool_call_id=call_id, function=call.name, error=error)
    return ChatMessageTool(content=r.output, tool_call_id=call_id, function=call.name)
