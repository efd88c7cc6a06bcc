"""Transcripts: the conversation of a sample, from inspect messages or from a recorded trace.

Inspect messages are read by duck typing (``role``, ``text``, ``content``, ``tool_calls``,
``tool_call_id``, ``error``), so this module does not import inspect-ai.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from deploysim.graders._model import Transcript, TranscriptCall, TranscriptMessage
from deploysim.replay import Step
from deploysim.traces import Reasoning, Trace, pair_calls

__all__ = ["CallSite", "call_sites", "transcript_from_messages", "transcript_from_trace"]

_ROLES = ("system", "user", "assistant", "tool")


def _reasoning(content: Any) -> str:
    if not isinstance(content, list):
        return ""
    parts: list[str] = []
    for item in content:
        if getattr(item, "type", None) == "reasoning":
            text = getattr(item, "reasoning", "") or getattr(item, "summary", "") or ""
            if text and not getattr(item, "redacted", False):
                parts.append(str(text))
    return "\n".join(parts)


def _calls(message: Any) -> list[TranscriptCall]:
    out: list[TranscriptCall] = []
    for c in getattr(message, "tool_calls", None) or []:
        args = getattr(c, "arguments", None)
        out.append(
            TranscriptCall(
                id=str(getattr(c, "id", "")),
                name=str(getattr(c, "function", "")),
                arguments=dict(args) if isinstance(args, dict) else None,
            )
        )
    return out


def transcript_from_messages(messages: Sequence[Any], prefix_len: int) -> Transcript:
    """A transcript of inspect chat messages (``sample.messages`` or ``state.messages``).

    ``prefix_len`` is the number of input messages (``len(sample.input)``).
    """
    out: list[TranscriptMessage] = []
    prefix = 0
    for i, m in enumerate(messages):
        if i == prefix_len:
            prefix = len(out)
        role = getattr(m, "role", "")
        if role not in _ROLES:
            continue
        error = getattr(m, "error", None)
        text = str(getattr(m, "text", "") or "")
        if role == "tool" and error is not None and not text:
            text = str(getattr(error, "message", "") or "")
        out.append(
            TranscriptMessage(
                index=len(out),
                id=str(getattr(m, "id", None) or f"m{i}"),
                role=role,
                text=text,
                reasoning=_reasoning(getattr(m, "content", None)) if role == "assistant" else "",
                calls=_calls(m) if role == "assistant" else [],
                call_id=getattr(m, "tool_call_id", None) if role == "tool" else None,
                tool=getattr(m, "function", None) if role == "tool" else None,
                is_error=error is not None,
            )
        )
    if prefix_len >= len(messages):
        prefix = len(out)
    return Transcript(messages=out, prefix_len=prefix)


def transcript_from_trace(trace: Trace, prefix_len: int = 0) -> Transcript:
    """A transcript of a recorded trace; messages from ``prefix_len`` on count as generated.

    Tool messages holding several results become one transcript message per result.
    """
    names = {id(p.result.result): p.call.call.name for p in pair_calls(trace).pairs}
    out: list[TranscriptMessage] = []
    prefix = 0
    for i, m in enumerate(trace.messages):
        if i == prefix_len:
            prefix = len(out)
        mid = m.id or f"m{i}"
        if m.role == "tool":
            for k, r in enumerate(m.tool_results):
                out.append(
                    TranscriptMessage(
                        index=len(out),
                        id=mid if k == 0 else f"{mid}.{k}",
                        role="tool",
                        text=r.output,
                        call_id=r.call_id,
                        tool=names.get(id(r), r.name),
                        is_error=r.is_error,
                    )
                )
            continue
        out.append(
            TranscriptMessage(
                index=len(out),
                id=mid,
                role=m.role,
                text=m.text,
                reasoning="\n".join(p.text for p in m.parts if isinstance(p, Reasoning)),
                calls=[
                    TranscriptCall(id=c.id, name=c.name, arguments=c.arguments)
                    for c in m.tool_calls
                    if c.requestor == "assistant" and c.executed_by == "client"
                ],
            )
        )
    if prefix_len >= len(trace.messages):
        prefix = len(out)
    return Transcript(messages=out, prefix_len=prefix)


class CallSite(NamedTuple):
    """Where a candidate call sits in the transcript."""

    step: Step
    message: int | None
    """Index of the transcript message holding the call; None when it cannot be found."""


def call_sites(calls: list[Step], transcript: Transcript) -> list[CallSite]:
    """Locate each candidate call in the transcript.

    Calls are matched in order to the tool calls of the generated messages (ids are not
    unique in every format: tau-bench reuses them); when the counts or names disagree, by id.
    """
    generated = [
        (m.index, c) for m in transcript.generated if m.role == "assistant" for c in m.calls
    ]
    in_order = len(generated) == len(calls) and all(
        c.name == s.tool for (_, c), s in zip(generated, calls, strict=True)
    )
    if in_order:
        return [CallSite(s, idx) for s, (idx, _) in zip(calls, generated, strict=True)]
    by_id: dict[str, int] = {}
    for m in transcript.messages:
        for c in m.calls:
            by_id[c.id] = m.index  # the last occurrence: the candidate's comes after the prefix
    return [CallSite(s, by_id.get(s.call_id or "")) for s in calls]
