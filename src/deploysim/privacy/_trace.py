"""Scrubbing Trace objects: which fields are protocol, which are prose, which are data.

Never touched: trace, message and call ids, roles, tool names, tool specs (schemas),
``source``, and dict keys. Scrubbed: message text and speaker names (prose), reasoning text,
tool-call arguments (the parsed dict and the raw string), tool results (text and structured),
metadata, and the original record in ``Trace.raw`` (inspect-log attachments included), which
holds all of the above again. Opaque reasoning (encrypted by the provider, or a signature
over the original thinking) cannot be scrubbed or stay valid, so it is dropped and counted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from deploysim.privacy._walk import Collector, Rewriter, WalkOptions
from deploysim.traces._model import Message, Part, Reasoning, Text, ToolCall, ToolResult, Trace

__all__ = ["PROTECTED_KEYS", "collect_trace", "rewrite_trace", "trace_options"]

# Keys whose values are protocol in provider payloads kept in Trace.raw and metadata.
PROTECTED_KEYS = frozenset(
    {
        "id",
        "call_id",
        "tool_call_id",
        "tool_use_id",
        "message_id",
        "simulation_id",
        "trace_id",
        "span_id",
        "parent_id",
        "role",
        "type",
        "model",
        "object",
        "finish_reason",
        "stop_reason",
        "requestor",
        "timestamp",
        "created",
        "created_at",
        "system_fingerprint",
        "signature",
        "encrypted_content",
    }
)


def trace_options(trace: Trace, base: WalkOptions) -> WalkOptions:
    """``base`` with the trace's tool names protected."""
    names = {t.name for t in trace.tools} | {c.name for c in trace.tool_calls()}
    return base._replace(
        protected_values=base.protected_values | frozenset(names),
        protected_keys=base.protected_keys | PROTECTED_KEYS,
    )


def _where(trace: Trace) -> str:
    src = trace.source
    loc = src.path or "<memory>"
    if src.index is not None:
        loc += f" record {src.index}"
    return f"{loc} trace {trace.id}"


def collect_trace(collector: Collector, trace: Trace) -> None:
    """Phase 1 on one trace: note every private value with the collector's pseudonymizer."""
    base = f"{_where(trace)}: "
    collector.walk(trace.metadata, base + "metadata")
    for i, m in enumerate(trace.messages):
        mp = f"{base}messages[{i}]"
        if m.name:
            collector.walk(m.name, mp + ".name", prose=True)
        collector.walk(m.metadata, mp + ".metadata")
        for j, p in enumerate(m.parts):
            _visit_part(collector, p, f"{mp}.parts[{j}]")
    collector.walk(trace.raw, base + "raw")


def _visit_part(w: Collector | Rewriter, p: Part, path: str) -> Part:
    """The part with its scrubbable fields walked by ``w`` (returned unchanged if none)."""
    update: dict[str, Any] = {}

    def field(name: str, value: Any, *, prose: bool = False) -> None:
        new = w.walk(value, f"{path}.{name}", prose=prose)
        if new is not value:
            update[name] = new

    if isinstance(p, Text):
        field("text", p.text, prose=True)
    elif isinstance(p, Reasoning):
        field("text", p.text, prose=True)
        if p.opaque is not None:
            update["opaque"] = None
    elif isinstance(p, ToolCall):
        field("arguments", p.arguments)
        if p.raw_arguments is not None:
            field("raw_arguments", p.raw_arguments)
        if p.parse_error is not None:
            field("parse_error", p.parse_error)
    elif isinstance(p, ToolResult):
        field("output", p.output)
        field("structured", p.structured)
    return p.model_copy(update=update) if update else p


def rewrite_trace(
    rewriter: Rewriter, trace: Trace, on_dropped: Callable[[str], None] | None = None
) -> Trace:
    """Phase 2 on one trace: a new Trace with every known private value replaced.

    Args:
        rewriter: the phase-2 walker.
        trace: the trace (unchanged; pydantic models are frozen).
        on_dropped: called with the location of each opaque reasoning block dropped.
    """
    base = f"{_where(trace)}: "
    messages: list[Message] = []
    for i, m in enumerate(trace.messages):
        mp = f"{base}messages[{i}]"
        parts: Sequence[Part] = [
            _visit_part(rewriter, p, f"{mp}.parts[{j}]") for j, p in enumerate(m.parts)
        ]
        if on_dropped:
            for j, (old, new) in enumerate(zip(m.parts, parts, strict=True)):
                if isinstance(old, Reasoning) and old.opaque is not None and new is not old:
                    on_dropped(f"{mp}.parts[{j}].opaque")
        update: dict[str, Any] = {}
        if any(a is not b for a, b in zip(parts, m.parts, strict=True)):
            update["parts"] = list(parts)
        if m.name:
            name = rewriter.walk(m.name, mp + ".name", prose=True)
            if name != m.name:
                update["name"] = name
        meta = rewriter.walk(m.metadata, mp + ".metadata")
        if meta is not m.metadata:
            update["metadata"] = meta
        messages.append(m.model_copy(update=update) if update else m)
    return trace.model_copy(
        update={
            "messages": messages,
            "metadata": rewriter.walk(trace.metadata, base + "metadata"),
            "raw": rewriter.walk(trace.raw, base + "raw"),
        }
    )
