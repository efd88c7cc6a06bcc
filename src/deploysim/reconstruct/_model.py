"""What reconstruction reports: conflicts, how each tool is served, the summary."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from deploysim.snapshots import Provenance

__all__ = [
    "Conflict",
    "FileEffect",
    "ReconstructResult",
    "SkippedObservation",
    "ToolReport",
    "short",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def short(value: Any, limit: int = 160) -> str:
    """A value as a one-line text, cut to ``limit`` characters."""
    text = value if isinstance(value, str) else repr(value)
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Conflict(_Frozen):
    """Two observations that disagree about the same fact. Never merged silently."""

    subject: str = Field(description="What they disagree on: 'users[mia_li_3668].email'.")
    kept: str = Field(description="The value kept in the snapshot (short form).")
    other: str = Field(description="The value that disagrees (short form).")
    kept_provenance: Provenance
    other_provenance: Provenance
    resolution: str = Field(description="What the snapshot holds and why.")


class FileEffect(_Frozen):
    """A path the original agent created, changed or removed: its effect, not initial state."""

    path: str
    how: str = Field(description="created, changed or removed.")
    provenance: Provenance


class SkippedObservation(_Frozen):
    """A path the traces showed but the snapshot never takes: a system path.

    ``cat /etc/passwd`` in a trace is an observation of the machine the agent ran on, not
    state to rebuild: the image's own user database (loader, sudoers, ...) is used.
    """

    path: str
    reason: str = Field(description="Why it is a system path: 'the user database'.")
    observations: int = Field(description="How many observations of it were skipped.")
    provenance: Provenance = Field(description="The first observation skipped.")


Strategy = Literal[
    "lookup",
    "find",
    "constant",
    "pure",
    "write",
    "recorded",
    "live",
    "unavailable",
]


class ToolReport(_Frozen):
    """How one tool is served by the rebuilt snapshot, and from what evidence."""

    tool: str
    kind: str = Field(description="Tool kind (function, shell, editor, sql, http).")
    effect: str = Field(description="read, write or unknown, as learned or declared.")
    strategy: Strategy = Field(
        description="lookup/find: computed from the entity store; constant/pure: the same "
        "answer or a verified pure function; write: learned effects plus recorded writes; "
        "recorded: exact-argument pairs only; live: runs in the pod; unavailable: nothing."
    )
    calls: int = Field(description="Calls of this tool in the traces.")
    detail: str = Field(default="", description="The learned rule, in words.")
    notes: list[str] = Field(default_factory=list, description="Why something was not learned.")


class ReconstructResult(_Frozen):
    """The outcome of one reconstruction."""

    snapshot: str = Field(description="Folder written.")
    traces: int
    calls: int
    facts: int = Field(description="Observed facts with provenance kept in the snapshot.")
    files: int
    tables: int
    rows: int
    services: int
    function_tools: int
    conflicts: list[Conflict] = Field(default_factory=list)
    effects: list[FileEffect] = Field(
        default_factory=list, description="Files the original agent changed (not initial state)."
    )
    tools: list[ToolReport] = Field(default_factory=list)
    skipped: list[SkippedObservation] = Field(
        default_factory=list,
        description="System paths the traces showed, left out (the image's own are used).",
    )
    warnings: list[str] = Field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The ``--json`` summary of ``deploysim reconstruct``."""
        return {
            "snapshot": self.snapshot,
            "facts": self.facts,
            "files": self.files,
            "tables": self.tables,
            "rows": self.rows,
            "services": self.services,
            "function_tools": self.function_tools,
            "conflicts": len(self.conflicts),
            "skipped": len(self.skipped),
        }
