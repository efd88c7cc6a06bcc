"""Counters over traces, in the exact shape `deploysim traces stats --json` prints."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from deploysim.traces._model import Trace
from deploysim.traces._pairing import pair_calls

__all__ = ["TraceStats", "trace_stats"]


class TraceStats(BaseModel):
    """Counters over a set of traces."""

    model_config = ConfigDict(extra="forbid")

    traces: int = 0
    messages: int = 0
    tool_calls: int = 0
    tool_results: int = 0
    unpaired_calls: int = 0
    unpaired_results: int = 0
    tools: int = Field(default=0, description="Distinct tool names declared or called.")
    by_tool: dict[str, int] = Field(default_factory=dict, description="Calls per tool name.")


def trace_stats(traces: Iterable[Trace]) -> TraceStats:
    """Count messages, calls, results, pairing and tools over ``traces``.

    Pairing is positional (see :func:`pair_calls`); calls the provider ran itself are not
    expected to have a result and are never counted as unpaired.
    """
    stats = TraceStats()
    by_tool: Counter[str] = Counter()
    names: set[str] = set()
    for t in traces:
        calls = t.tool_calls()
        pairing = pair_calls(t)
        stats.traces += 1
        stats.messages += len(t.messages)
        stats.tool_calls += len(calls)
        stats.tool_results += len(t.tool_results())
        stats.unpaired_calls += len(pairing.unpaired_calls)
        stats.unpaired_results += len(pairing.unpaired_results)
        by_tool.update(c.name for c in calls)
        names.update(s.name for s in t.tools)
    names.update(by_tool)
    stats.tools = len(names)
    stats.by_tool = dict(sorted(by_tool.items()))
    return stats
