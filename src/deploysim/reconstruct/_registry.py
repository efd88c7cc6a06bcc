"""The registry of observation extractors: one per tool family, built-ins register like plugins.

Each tool call of each trace is claimed by exactly one extractor: the first, by priority,
whose :meth:`Extractor.claims` accepts the tool (SWE-agent's commands before generic shell,
then shell, editor, SQL, HTTP, and function tools last). The extractor then reads the calls
it claimed, across all traces, and adds facts to the :class:`SnapshotDraft`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar, overload

from pydantic import BaseModel, ConfigDict, Field

from deploysim.reconstruct._calls import CallObs, TraceCalls
from deploysim.reconstruct._draft import SnapshotDraft
from deploysim.traces import ToolSpec, Trace

__all__ = [
    "ExtractContext",
    "Extractor",
    "ReconstructOptions",
    "extractor",
    "extractor_names",
    "extractors",
]


class ReconstructOptions(BaseModel):
    """Knobs of a reconstruction."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Snapshot name (the output folder's name).")
    effects: dict[str, str] = Field(
        default_factory=dict,
        description="Tool -> read / write / generic, declared (tau2's tool types); wins over "
        "what names and traces suggest.",
    )
    closed_world: bool = Field(
        default=False,
        description="Entities the traces never showed do not exist: lookups of unknown keys "
        "get the tool's 'not found' answer instead of no answer.",
    )


@dataclass
class ExtractContext:
    """What an extractor sees: its claimed calls, every tool spec, the draft to fill."""

    traces: list[TraceCalls]
    specs: dict[str, ToolSpec]
    draft: SnapshotDraft
    options: ReconstructOptions
    claimed: dict[str, set[str]] = field(default_factory=dict)
    """Trace id -> names of the tools this extractor claimed in that trace."""

    def calls(self) -> list[TraceCalls]:
        """Every trace, restricted to the calls this extractor claimed (others dropped)."""
        out = []
        for tc in self.traces:
            mine = self.claimed.get(tc.trace.id, set())
            calls = [c for c in tc.calls if c.tool in mine]
            if calls:
                out.append(TraceCalls(tc.trace, calls, tc.unpaired))
        return out

    def by_tool(self) -> dict[str, list[CallObs]]:
        """The claimed calls grouped by tool, in trace order."""
        out: dict[str, list[CallObs]] = {}
        for tc in self.calls():
            for c in tc.calls:
                out.setdefault(c.tool, []).append(c)
        return out


class Extractor(ABC):
    """Reads one family of tool observations into snapshot facts."""

    name: ClassVar[str]
    priority: ClassVar[int] = 100
    """Lower claims first."""

    @abstractmethod
    def claims(self, spec: ToolSpec, trace: Trace) -> bool:
        """Whether this extractor reads calls of ``spec`` in ``trace``."""

    @abstractmethod
    def extract(self, ctx: ExtractContext) -> None:
        """Add what the claimed calls show to ``ctx.draft``."""


_E = TypeVar("_E", bound=type[Extractor])
_REGISTRY: dict[str, Extractor] = {}


@overload
def extractor(cls: _E) -> _E: ...
@overload
def extractor(*, priority: int) -> Callable[[_E], _E]: ...
def extractor(cls: _E | None = None, *, priority: int | None = None) -> _E | Callable[[_E], _E]:
    """Class decorator registering an extractor, with or without ``priority=``."""

    def register(c: _E) -> _E:
        if priority is not None:
            c.priority = priority
        _REGISTRY[c.name] = c()
        return c

    return register(cls) if cls is not None else register


def extractor_names() -> list[str]:
    """Registered extractors, in claiming order."""
    return [e.name for e in extractors()]


def extractors() -> list[Extractor]:
    """Registered extractors, in claiming order (priority, then name)."""
    return sorted(_REGISTRY.values(), key=lambda e: (e.priority, e.name))
