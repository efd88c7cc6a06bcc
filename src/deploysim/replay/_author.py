"""Author scenarios: create one from traces, validate one, list a folder of suites."""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from deploysim._errors import InputError
from deploysim.replay._errors import ScenarioError
from deploysim.replay._load import LoadedScenario, load_scenario
from deploysim.replay._paths import SHARED_DATA_VAR, shared_data_dir
from deploysim.replay._scenario import (
    CutSpec,
    Mode,
    Scenario,
    TraceSet,
    dump_scenario,
    read_scenario,
)
from deploysim.tools import default_chain, normalize_schema
from deploysim.traces import SkippedLink

__all__ = [
    "ScenarioInfo",
    "ScenarioReport",
    "list_scenarios",
    "new_scenario",
    "validate_scenario",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScenarioReport(_Model):
    """What ``scenario validate`` found."""

    path: str
    ok: bool
    errors: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    traces: int = 0
    samples: int = Field(default=0, description="Samples the cut policy selects.")
    bindings: dict[str, int] = Field(
        default_factory=dict, description="Tools by first backend of their chain."
    )
    schema_changes: int = Field(default=0, description="Rewrites needed for inspect.")
    skipped_links: list[SkippedLink] = Field(
        default_factory=list,
        description="Symlinks in the trace folders that lead outside them: not followed.",
    )


class ScenarioInfo(_Model):
    """One line of ``scenario list``."""

    path: str
    suite: str
    name: str
    mode: str
    cut: str
    snapshot: str | None
    tags: list[str]
    description: str
    error: str | None = None


def _check(loaded: LoadedScenario, report: ScenarioReport) -> None:
    sc = loaded.scenario
    report.traces = len(loaded.traces)
    first_backend: dict[str, int] = {}
    seen_tools: set[str] = set()
    for trace in loaded.traces:
        cuts = loaded.cuts(trace)
        report.samples += len(cuts)
        if not cuts:
            report.warnings.append(f"trace {trace.id}: no agent turn matches cut={sc.cut!r}")
        if not trace.tools:
            report.warnings.append(f"trace {trace.id}: declares no tools (give traces[].tools)")
        for spec in trace.tools:
            if spec.name in seen_tools:
                continue
            seen_tools.add(spec.name)
            report.schema_changes += len(normalize_schema(spec.parameters).changes)
            chain = default_chain(spec, loaded.snapshot)
            if sc.binding == "recorded":
                chain = ["recorded"]
            head = sc.bindings.get(spec.name) or chain[0]
            first_backend[head] = first_backend.get(head, 0) + 1
            if loaded.snapshot is not None and head in ("recorded", "unavailable"):
                report.warnings.append(
                    f"tool {spec.name}: the snapshot does not serve it live ({head})"
                )
    report.bindings = first_backend
    _check_graders(sc.graders, report)
    if report.samples == 0:
        report.errors.append(f"no samples: no trace has an agent turn matching cut={sc.cut!r}")


def _check_graders(names: list[str], report: ScenarioReport) -> None:
    """Every grader the scenario names must be registered (built in or a plugin)."""
    from deploysim.graders import grader_names  # registry: loads plugins on first use

    known = grader_names()
    for i, name in enumerate(names):
        if name not in known:
            hint = difflib.get_close_matches(name, known, n=1)
            also = f" (did you mean {hint[0]!r}?)" if hint else ""
            report.errors.append(
                f"graders[{i}]: unknown grader {name!r}{also}; known: {', '.join(known)}"
            )


def validate_scenario(path: str | Path) -> ScenarioReport:
    """Load a scenario and everything it points at; report problems (nothing raises)."""
    report = ScenarioReport(path=str(path), ok=False)
    try:
        loaded = load_scenario(path)
    except InputError as e:
        report.errors.append(str(e))
        return report
    report.skipped_links = list(loaded.skipped_links)
    _check(loaded, report)
    if loaded.snapshot_path is not None:
        from deploysim.snapshots import validate_snapshot

        snap = validate_snapshot(loaded.snapshot_path)
        report.errors.extend(f"snapshot: {i}" for i in snap.errors)
        report.warnings.extend(f"snapshot: {i}" for i in snap.warnings)
    report.ok = not report.errors
    return report


def list_scenarios(root: str | Path) -> list[ScenarioInfo]:
    """Every scenario file under ``root`` (``<suite>/<name>.yaml``), read but not loaded."""
    out: list[ScenarioInfo] = []
    for p in sorted(Path(root).rglob("*.yaml")):
        try:
            sc = read_scenario(p)
        except ScenarioError as e:
            out.append(
                ScenarioInfo(
                    path=str(p),
                    suite=p.parent.name,
                    name=p.stem,
                    mode="?",
                    cut="?",
                    snapshot=None,
                    tags=[],
                    description="",
                    error=e.reason,
                )
            )
            continue
        out.append(
            ScenarioInfo(
                path=str(p),
                suite=sc.suite,
                name=sc.name,
                mode=sc.mode,
                cut=str(sc.cut),
                snapshot=sc.snapshot,
                tags=sc.tags,
                description=sc.description,
            )
        )
    return out


def _relative(target: Path, base: Path) -> str:
    """How a scenario in ``base`` refers to ``target``.

    Below the shared data folder: ``${DEPLOYSIM_SHARED_DATA}/...``; otherwise a path relative
    to the scenario's folder.
    """
    resolved = target.resolve()
    shared = shared_data_dir(base)
    if shared is not None:
        try:
            return f"${{{SHARED_DATA_VAR}}}/{resolved.relative_to(shared.resolve()).as_posix()}"
        except ValueError:
            pass
    return os.path.relpath(resolved, base.resolve())


def new_scenario(
    out: str | Path,
    traces: Sequence[str | Path],
    *,
    tools: str | Path | None = None,
    snapshot: str | Path | None = None,
    reconstruct_to: str | Path | None = None,
    cut: CutSpec = "last",
    mode: Mode = "resample",
    graders: Sequence[str] = (),
    tags: Sequence[str] = (),
    description: str = "",
    force: bool = False,
) -> Path:
    """Write a scenario file; with ``reconstruct_to``, rebuild the snapshot from the traces.

    Paths are written relative to the scenario's folder when they are near it.

    Raises:
        ScenarioError: the file exists (without ``force``), the inputs do not load, or the
            reconstruction failed.
    """
    p = Path(out)
    if p.exists() and not force:
        raise ScenarioError(p, "exists; pass --force to replace it")
    if snapshot is not None and reconstruct_to is not None:
        raise ScenarioError(p, "give a snapshot or a folder to reconstruct one into, not both")
    base = p.parent.resolve()
    if reconstruct_to is not None:
        snapshot = _reconstruct(p, traces, tools, Path(reconstruct_to))
    sc = Scenario(
        name=p.stem.lower(),
        suite=base.name.lower(),
        description=description,
        traces=[
            TraceSet(
                path=_relative(Path(t), base),
                tools=_relative(Path(tools), base) if tools else None,
            )
            for t in traces
        ],
        snapshot=_relative(Path(snapshot), base) if snapshot is not None else None,
        binding="auto" if snapshot is not None else "recorded",
        cut=cut,
        mode=mode,
        graders=list(graders),
        tags=list(tags),
    )
    dump_scenario(sc, p)
    try:
        load_scenario(p)
    except InputError:
        p.unlink()
        raise
    return p


def _reconstruct(
    where: Path, traces: Sequence[str | Path], tools: str | Path | None, folder: Path
) -> Path:
    from deploysim.traces import import_traces, load_tools_file

    specs = load_tools_file(tools) if tools else []
    found = import_traces(list(traces), tools=specs).traces
    try:
        from deploysim.reconstruct import reconstruct
    except ImportError as e:  # the reconstruction stage is optional in a partial install
        raise ScenarioError(where, f"reconstruction is not available: {e}") from e
    try:
        reconstruct(found, folder, tools=specs)
    except InputError as e:
        raise ScenarioError(where, f"reconstructing the snapshot failed: {e}") from e
    return folder
