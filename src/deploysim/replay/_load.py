"""Load a scenario: resolve its paths, import its traces, load its snapshot.

Everything that can be wrong with a scenario is found here, before any sample runs, so a bad
path or a broken snapshot is a harness error naming the file and field, never a sample error
that inspect would retry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from deploysim._errors import InputError
from deploysim.replay._cuts import CutPoint, cut_points
from deploysim.replay._errors import ScenarioError
from deploysim.replay._paths import expand_path
from deploysim.replay._scenario import Scenario, read_scenario
from deploysim.snapshots import SnapshotDir, load_snapshot
from deploysim.traces import SkippedLink, ToolSpec, Trace, import_traces, load_tools_file

__all__ = ["LoadedScenario", "load_scenario"]


@dataclass(frozen=True)
class LoadedScenario:
    """A scenario with its traces imported and its snapshot loaded."""

    path: Path
    scenario: Scenario
    traces: list[Trace]
    snapshot_path: Path | None
    snapshot: SnapshotDir | None
    system_prompt: str | None = None
    by_id: dict[str, Trace] = field(default_factory=dict)
    skipped_links: list[SkippedLink] = field(default_factory=list)
    """Symlinks in the trace folders that lead outside them: not followed, not read."""

    def trace(self, trace_id: str) -> Trace:
        """The trace with this id."""
        try:
            return self.by_id[trace_id]
        except KeyError:
            raise ScenarioError(self.path, f"no trace {trace_id!r} in this scenario") from None

    def cuts(self, trace: Trace) -> list[CutPoint]:
        """The trace's cut points under the scenario's cut policy."""
        return cut_points(trace, self.scenario.cut)


class _Imported(NamedTuple):
    traces: list[Trace]
    skipped_links: list[SkippedLink]


def _traces(sc: Scenario, path: Path) -> _Imported:
    base = path.parent
    out: list[Trace] = []
    links: list[SkippedLink] = []
    for i, ts in enumerate(sc.traces):
        where = f"traces[{i}]"
        src = expand_path(ts.path, base, where=path, field=f"{where}.path")
        if not src.exists():
            raise ScenarioError(path, f"no such trace file or folder: {src}", field=f"{where}.path")
        tools: list[ToolSpec] = []
        if ts.tools:
            tools_path = expand_path(ts.tools, base, where=path, field=f"{where}.tools")
            try:
                tools = load_tools_file(tools_path)
            except InputError as e:
                raise ScenarioError(path, str(e), field=f"{where}.tools") from e
        try:
            imported = import_traces([src], format=ts.format, tools=tools)
        except InputError as e:
            raise ScenarioError(path, str(e), field=f"{where}.path") from e
        found = imported.traces
        links += imported.skipped_links
        if ts.ids:
            index = {t.id: t for t in found}
            missing = [x for x in ts.ids if x not in index]
            if missing:
                raise ScenarioError(
                    path, f"trace ids not found in {src}: {missing}", field=f"{where}.ids"
                )
            found = [index[x] for x in ts.ids]
        if ts.limit is not None:
            found = found[: ts.limit]
        if not found:
            raise ScenarioError(path, f"no traces in {src}", field=f"{where}.path")
        out.extend(found)
    seen: set[str] = set()
    for t in out:
        if t.id in seen:
            raise ScenarioError(path, f"trace id {t.id!r} appears twice", field="traces")
        seen.add(t.id)
    return _Imported(out, links)


def _snapshot(sc: Scenario, path: Path) -> tuple[Path | None, SnapshotDir | None]:
    if sc.snapshot is None:
        return None, None
    snap_path = expand_path(sc.snapshot, path.parent, where=path, field="snapshot")
    try:
        return snap_path, load_snapshot(snap_path)
    except InputError as e:
        raise ScenarioError(path, f"snapshot {snap_path}: {e}", field="snapshot") from e


def _system_prompt(sc: Scenario, path: Path) -> str | None:
    if sc.system_prompt is None:
        return None
    p = expand_path(sc.system_prompt.file, path.parent, where=path, field="system_prompt.file")
    try:
        content = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ScenarioError(
            path, f"cannot read {p}: {e.strerror or e}", field="system_prompt.file"
        ) from e
    return sc.system_prompt.template.replace("{content}", content)


def load_scenario(path: str | Path) -> LoadedScenario:
    """Read a scenario file and everything it points at.

    Symlinks in a trace folder that lead outside it are not followed; they are listed in
    :attr:`LoadedScenario.skipped_links` for the caller to report.

    Raises:
        ScenarioError: the scenario, a trace file, the tools file or the snapshot is invalid
            (the message names the scenario file and the field).
    """
    p = Path(path).resolve()
    sc = read_scenario(p)
    traces, links = _traces(sc, p)
    snap_path, snapshot = _snapshot(sc, p)
    unknown = sorted(set(sc.bindings) - {t.name for tr in traces for t in tr.tools})
    if unknown:
        raise ScenarioError(p, f"bindings for tools no trace declares: {unknown}", field="bindings")
    return LoadedScenario(
        path=p,
        scenario=sc,
        traces=traces,
        snapshot_path=snap_path,
        snapshot=snapshot,
        system_prompt=_system_prompt(sc, p),
        by_id={t.id: t for t in traces},
        skipped_links=links,
    )
