"""The canonical on-disk form: one Trace per line of JSONL (``traces.jsonl``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from deploysim.traces._model import Trace

__all__ = ["dump_trace", "write_traces"]


def dump_trace(trace: Trace) -> str:
    """One trace as a single JSON line (no trailing newline)."""
    return trace.model_dump_json(exclude_none=False)


def write_traces(traces: Iterable[Trace], path: str | Path) -> int:
    """Write traces as canonical JSONL, atomically; return how many were written."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as f:
        for t in traces:
            f.write(dump_trace(t))
            f.write("\n")
            n += 1
    tmp.replace(p)
    return n
