"""The fidelity report: per call, per trace, per tool, and the summary scripts read."""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CallResult", "FidelityReport", "ToolStats", "TraceResult"]

Status = Literal["reproduced", "differs", "not_reproducible"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CallResult(_Frozen):
    """One recorded call, re-executed."""

    trace_id: str
    seq: int = Field(description="Position among the trace's calls.")
    message_index: int
    call_id: str
    tool: str
    status: Status
    match: Literal["exact", "normalized"] | None = Field(
        default=None, description="For reproduced calls: equal as recorded, or once normalized."
    )
    how: str | None = Field(default=None, description="The normalization that made them equal.")
    provenance: str | None = Field(default=None, description="live / recorded / unavailable.")
    backend: str | None = None
    diff: str | None = Field(default=None, description="Unified diff recorded -> replayed.")
    reason: str | None = Field(
        default=None, description="Why it is not reproducible: a short category, for counting."
    )
    note: str | None = Field(default=None, description="Details: what each backend said.")
    seen: bool | None = Field(
        default=None,
        description="Whether the snapshot's traces held a call with exactly these arguments "
        "(generalization runs only).",
    )


class ToolStats(_Frozen):
    """Counts for one tool."""

    calls: int = 0
    reproduced: int = 0
    differs: int = 0
    not_reproducible: int = 0


class TraceResult(_Frozen):
    """Counts for one trace."""

    trace_id: str
    calls: int
    reproduced: int
    differs: int
    not_reproducible: int


def _stats(results: list[CallResult]) -> ToolStats:
    c = Counter(r.status for r in results)
    return ToolStats(
        calls=len(results),
        reproduced=c["reproduced"],
        differs=c["differs"],
        not_reproducible=c["not_reproducible"],
    )


class FidelityReport(_Frozen):
    """Every recorded call re-executed against a snapshot, compared with its recorded output."""

    snapshot: str
    results: list[CallResult] = Field(default_factory=list)
    stopped_early: bool = Field(default=False, description="--strict stopped at a difference.")

    @property
    def calls(self) -> int:
        """Calls re-executed."""
        return len(self.results)

    @property
    def reproduced(self) -> int:
        """Calls whose output matched (exactly or normalized)."""
        return sum(r.status == "reproduced" for r in self.results)

    @property
    def rate(self) -> float:
        """Reproduced / calls (0 when there are no calls)."""
        return self.reproduced / self.calls if self.results else 0.0

    def by_tool(self) -> dict[str, ToolStats]:
        """Counts per tool, by name."""
        names = sorted({r.tool for r in self.results})
        return {n: _stats([r for r in self.results if r.tool == n]) for n in names}

    def by_trace(self) -> list[TraceResult]:
        """Counts per trace, in replay order."""
        order = list(dict.fromkeys(r.trace_id for r in self.results))
        out = []
        for t in order:
            s = _stats([r for r in self.results if r.trace_id == t])
            out.append(
                TraceResult(
                    trace_id=t,
                    calls=s.calls,
                    reproduced=s.reproduced,
                    differs=s.differs,
                    not_reproducible=s.not_reproducible,
                )
            )
        return out

    def reasons(self) -> dict[str, int]:
        """Why calls were not reproducible, with counts (most frequent first)."""
        c = Counter(r.reason or "unknown" for r in self.results if r.status == "not_reproducible")
        return dict(c.most_common())

    def summary(self) -> dict[str, Any]:
        """The ``--json`` summary of ``deploysim fidelity``."""
        s = _stats(list(self.results))
        return {
            "calls": s.calls,
            "reproduced": s.reproduced,
            "differs": s.differs,
            "not_reproducible": s.not_reproducible,
            "rate": round(self.rate, 4),
            "by_tool": {
                n: {"calls": t.calls, "reproduced": t.reproduced} for n, t in self.by_tool().items()
            },
        }
