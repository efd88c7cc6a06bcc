"""What a replay task works out once and every sample reuses.

Per trace: the tools offered to the candidate (normalized for inspect), the backend chain of
each tool, each tool's effect (read / write / unknown) and how tool errors reach the model.
Per task: the snapshot's services rows (the baseline the end-state diff compares against).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from deploysim.replay._load import LoadedScenario
from deploysim.replay._scenario import Binding
from deploysim.snapshots import SnapshotDir, Table
from deploysim.tools import default_chain
from deploysim.tools._inspect import OfferedTools, offered_tools
from deploysim.traces import ToolEffect, ToolSpec, Trace

__all__ = ["FLAG_ERROR_FORMATS", "ReplayPlan", "TableIndex", "TracePlan", "call_effect"]

FLAG_ERROR_FORMATS = frozenset({"anthropic", "inspect"})
"""Trace formats whose model saw tool errors through a flag rather than as plain text."""

_LIVE_BY_KIND = {"shell": "shell", "editor": "editor", "sql": "sql", "http": "http"}
_POD_KINDS = frozenset(_LIVE_BY_KIND)


_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_READ_SQL = ("select", "with", "pragma", "explain")
_READ_EDITS = frozenset({"view"})


def call_effect(kind: str, arguments: dict[str, Any]) -> ToolEffect:
    """Whether one call of a shell/editor/sql/http tool changes state, from its arguments.

    HTTP GET/HEAD/OPTIONS read, other methods write; SQL SELECT/WITH/PRAGMA/EXPLAIN read,
    other statements write; the editor's ``view`` reads, its other commands write. Shell
    commands stay ``unknown``: a command line does not say.
    """
    if kind == "http":
        method = str(arguments.get("method") or "GET").upper()
        has_body = any(k in arguments for k in ("body", "json", "data"))
        return "read" if method in _READ_METHODS and not has_body else "write"
    if kind == "sql":
        sql = next((arguments[k] for k in ("query", "sql", "statement") if k in arguments), "")
        return "read" if str(sql).strip().lower().startswith(_READ_SQL) else "write"
    if kind == "editor":
        command = arguments.get("command")
        return "read" if command in _READ_EDITS else "write"
    return "unknown"


@dataclass(frozen=True)
class TracePlan:
    """How one trace is replayed."""

    trace: Trace
    offered: OfferedTools
    chains: dict[str, list[str]]
    effects: dict[str, ToolEffect]
    flag_errors: bool

    def effect(self, tool: str, arguments: dict[str, Any] | None = None) -> ToolEffect:
        """The effect of a call: the tool's, or for http/sql/editor tools the call's own."""
        declared = self.effects.get(tool, "unknown")
        if declared != "unknown" or arguments is None:
            return declared
        spec = self.trace.tool(tool)
        return call_effect(spec.kind, arguments) if spec is not None else "unknown"


def _bound_chain(spec: ToolSpec, binding: Binding, emulate: bool) -> list[str]:
    tail = ["emulated", "unavailable"] if emulate else ["unavailable"]
    head = {
        "live": [_LIVE_BY_KIND.get(spec.kind, "function")],
        "recorded": ["recorded"],
        "emulated": ["emulated"],
        "unavailable": [],
    }[binding]
    if binding == "unavailable":
        return ["unavailable"]
    return [*head, *(t for t in tail if t not in head)]


def _effects(trace: Trace, sd: SnapshotDir | None) -> dict[str, ToolEffect]:
    declared: dict[str, ToolEffect] = {}
    if sd is not None:
        for svc in sd.snapshot.services:
            for ft in svc.function_tools:
                declared[ft.name] = ft.effect
    out: dict[str, ToolEffect] = {}
    for spec in trace.tools:
        authored = declared.get(spec.name, "unknown")
        out[spec.name] = authored if authored != "unknown" else spec.effect
    return out


class TableIndex(NamedTuple):
    """A snapshot table's rows by primary key, and their canonical JSON (for fast diffs)."""

    rows: dict[str, dict[str, Any]]
    canonical: dict[str, str]


@dataclass
class ReplayPlan:
    """The compiled scenario a replay task runs."""

    loaded: LoadedScenario
    _traces: dict[str, TracePlan] = field(default_factory=dict)
    _baseline: dict[str, dict[str, list[dict[str, Any]]]] | None = None
    _index: dict[str, TableIndex] = field(default_factory=dict)

    @property
    def emulate(self) -> bool:
        """Whether a simulator model answers what nothing else can."""
        return self.loaded.scenario.simulator is not None

    def needs_pod(self) -> bool:
        """A pod is needed when there is a snapshot or a tool that runs in the workspace."""
        if self.loaded.snapshot is not None:
            return True
        return any(t.kind in _POD_KINDS for tr in self.loaded.traces for t in tr.tools)

    def trace_plan(self, trace_id: str) -> TracePlan:
        """The plan of one trace (computed once)."""
        if trace_id not in self._traces:
            self._traces[trace_id] = self._compile(self.loaded.trace(trace_id))
        return self._traces[trace_id]

    def _compile(self, trace: Trace) -> TracePlan:
        sc = self.loaded.scenario
        sd = self.loaded.snapshot
        chains: dict[str, list[str]] = {}
        for spec in trace.tools:
            if spec.name in sc.bindings:
                chains[spec.name] = _bound_chain(spec, sc.bindings[spec.name], self.emulate)
            elif sc.binding == "recorded":
                chains[spec.name] = _bound_chain(spec, "recorded", self.emulate)
            else:
                chains[spec.name] = default_chain(spec, sd, emulate=self.emulate)
        flag = sc.tool_errors == "flag" or (
            sc.tool_errors == "auto" and trace.source.format in FLAG_ERROR_FORMATS
        )
        return TracePlan(
            trace=trace,
            offered=offered_tools(trace.tools),
            chains=chains,
            effects=_effects(trace, sd),
            flag_errors=flag,
        )

    def services_baseline(self) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """Rows of the databases the snapshot's services use, by database and table."""
        if self._baseline is None:
            sd = self.loaded.snapshot
            out: dict[str, dict[str, list[dict[str, Any]]]] = {}
            if sd is not None:
                used = {s.database for s in sd.snapshot.services if s.database}
                for db in sd.snapshot.databases:
                    if db.name in used:
                        out[db.name] = {t.name: sd.table_rows(db, t) for t in db.tables}
            self._baseline = out
        return self._baseline

    def services_index(self, database: str, table: Table) -> TableIndex:
        """The baseline rows of one services table, indexed (computed once)."""
        from deploysim.replay._capture import canonical_row, row_key

        key = f"{database}.{table.name}"
        if key not in self._index:
            rows = self.services_baseline().get(database, {}).get(table.name, [])
            by_key = {row_key(table, r): r for r in rows}
            self._index[key] = TableIndex(by_key, {k: canonical_row(r) for k, r in by_key.items()})
        return self._index[key]
