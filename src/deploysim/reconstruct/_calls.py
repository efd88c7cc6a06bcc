"""Tool calls of traces, paired with their results, as the observations reconstruction reads.

Pairing is positional (:func:`deploysim.traces.pair_calls`), because tau-bench reuses call
ids within a trace. Every call keeps where it came from (trace id, message index, call id),
which becomes the provenance of every fact learned from it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from deploysim.snapshots import Provenance
from deploysim.traces import ToolSpec, Trace, pair_calls
from deploysim.traces._toolspecs import classify_effect, classify_kind

__all__ = ["NOT_JSON", "CallObs", "TraceCalls", "collect_calls", "parse_json", "tool_specs"]


class _NotJson:
    """Marker for a result that is not a JSON document."""

    def __repr__(self) -> str:
        return "NOT_JSON"


NOT_JSON: Any = _NotJson()


def parse_json(text: str) -> Any:
    """The JSON value of ``text``, or :data:`NOT_JSON`."""
    stripped = text.strip()
    if not stripped or stripped[0] not in '[{"-0123456789tfn':
        return NOT_JSON
    try:
        return json.loads(stripped)
    except ValueError:
        return NOT_JSON


class CallObs(NamedTuple):
    """One tool call with the result the original environment gave it."""

    trace_id: str
    seq: int
    """Position among the trace's paired calls (0, 1, 2 ...)."""
    message_index: int
    call_id: str
    tool: str
    arguments: dict[str, Any] | None
    raw_arguments: str | None
    output: str
    is_error: bool
    value: Any
    """The output parsed as JSON, or :data:`NOT_JSON`."""

    def provenance(self, detail: str | None = None) -> Provenance:
        """Where this call is in its trace."""
        return Provenance(
            source="trace",
            trace_id=self.trace_id,
            message_index=self.message_index,
            call_id=self.call_id,
            detail=detail,
        )

    @property
    def args(self) -> dict[str, Any]:
        """The arguments, or an empty mapping when they did not parse."""
        return self.arguments or {}

    def where(self) -> str:
        """A short human locator: ``trace#3 (message 7, call abc)``."""
        return f"{self.trace_id}#{self.seq} (message {self.message_index}, call {self.call_id})"


class TraceCalls(NamedTuple):
    """The paired calls of one trace, in conversation order."""

    trace: Trace
    calls: list[CallObs]
    unpaired: int
    """Client-side calls no result answers (they teach nothing and cannot be replayed)."""


def collect_calls(traces: Iterable[Trace]) -> list[TraceCalls]:
    """Every trace's paired calls, in order; server-run (provider) calls are left out."""
    out: list[TraceCalls] = []
    for trace in traces:
        pairing = pair_calls(trace)
        calls: list[CallObs] = []
        for pair in sorted(pairing.pairs, key=lambda p: p.call.message_index):
            call = pair.call.call
            if call.executed_by == "server":
                continue
            result = pair.result.result
            calls.append(
                CallObs(
                    trace_id=trace.id,
                    seq=len(calls),
                    message_index=pair.call.message_index,
                    call_id=call.id,
                    tool=call.name,
                    arguments=call.arguments,
                    raw_arguments=call.raw_arguments,
                    output=result.output,
                    is_error=result.is_error,
                    value=parse_json(result.output),
                )
            )
        out.append(TraceCalls(trace, calls, len(pairing.unpaired_calls)))
    return out


def tool_specs(traces: Sequence[Trace], extra: Sequence[ToolSpec] = ()) -> dict[str, ToolSpec]:
    """The spec of every tool declared or called, by name.

    Declared specs win over ``extra`` (``--tools``); tools called without any declaration get
    a spec classified from their name, as the importers do.
    """
    specs: dict[str, ToolSpec] = {t.name: t for t in extra}
    for trace in traces:
        for t in trace.tools:
            specs.setdefault(t.name, t)
    for trace in traces:
        for call in trace.tool_calls():
            if call.name not in specs:
                kind = classify_kind(call.name)
                specs[call.name] = ToolSpec(
                    name=call.name, kind=kind, effect=classify_effect(call.name, kind)
                )
    return specs
