"""``reconstruct``: traces in, a snapshot folder out, every fact with its provenance.

Steps: pair every trace's calls; let each registered extractor claim the tools it reads; run
the extractors over all traces at once (observations are pooled); write the draft as a
snapshot folder; load it back, so a snapshot that does not validate is an error here and
not at replay time. Observations of system paths (``cat /etc/passwd``) are skipped and
reported (``ReconstructResult.skipped``, a warning each, the snapshot's provenance).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from deploysim._errors import InputError, SnapshotError, ToolSchemaError

# The built-in extractors register on import, as a plugin would.
from deploysim.reconstruct import _functions as _functions
from deploysim.reconstruct import _live as _live
from deploysim.reconstruct import _swe as _swe
from deploysim.reconstruct._calls import collect_calls, tool_specs
from deploysim.reconstruct._draft import GENERATED_BY, SnapshotDraft
from deploysim.reconstruct._model import ReconstructResult
from deploysim.reconstruct._registry import (
    ExtractContext,
    ReconstructOptions,
    extractor_names,
    extractors,
)
from deploysim.snapshots import Provenance, load_snapshot
from deploysim.traces import ToolSpec, Trace

__all__ = ["extractor_names", "load_effects_file", "reconstruct"]

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_EFFECTS = {"read", "write", "generic"}


def load_effects_file(path: str | Path) -> dict[str, str]:
    """Read a tool-effects side file: a JSON object tool -> read / write / generic (tau2).

    Raises:
        ToolSchemaError: the file is unreadable, not JSON, or holds another shape.
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise ToolSchemaError(f"{p}: cannot read tool effects: {e.strerror or e}") from e
    except json.JSONDecodeError as e:
        raise ToolSchemaError(f"{p}: not JSON: {e.msg} at line {e.lineno}") from e
    if not isinstance(data, dict):
        raise ToolSchemaError(f"{p}: expected a JSON object mapping tool names to effects")
    for tool, effect in data.items():
        if effect not in _EFFECTS:
            raise ToolSchemaError(
                f"{p}, tool {tool!r}: effect {effect!r} is not one of {sorted(_EFFECTS)}"
            )
    return {str(k): str(v) for k, v in data.items()}


def _claims(
    calls_traces: list[Trace], specs: dict[str, ToolSpec]
) -> dict[str, dict[str, set[str]]]:
    """Extractor name -> trace id -> tools it claimed there."""
    out: dict[str, dict[str, set[str]]] = {}
    order = extractors()
    for trace in calls_traces:
        for name in sorted({c.name for c in trace.tool_calls()}):
            spec = specs[name]
            for ex in order:
                if ex.claims(spec, trace):
                    out.setdefault(ex.name, {}).setdefault(trace.id, set()).add(name)
                    break
    return out


def reconstruct(
    traces: Sequence[Trace],
    out: str | Path,
    *,
    tools: Sequence[ToolSpec] = (),
    effects: dict[str, str] | None = None,
    closed_world: bool = False,
    force: bool = False,
) -> ReconstructResult:
    """Rebuild the environment the traces ran against, as a snapshot folder at ``out``.

    Args:
        traces: traces of one environment (observations are pooled across them).
        out: the snapshot folder to write; its last segment is the snapshot's name.
        tools: tool specs for tools the traces do not declare (``--tools``).
        effects: tool -> read / write / generic, declared (tau2's tool types).
        closed_world: keys the traces never showed do not exist (lookups of them get the
            tool's own "not found" answer); by default they are left unanswered.
        force: replace an existing snapshot folder.

    Raises:
        InputError: no traces, or a name that is not a valid snapshot name.
        SnapshotError: the folder exists (without ``force``), or the result does not load.
    """
    folder = Path(out)
    name = folder.name
    if not _NAME.match(name):
        raise SnapshotError(
            folder, f"{name!r} is not a valid snapshot name (lowercase letters, digits, . _ -)"
        )
    if not traces:
        raise InputError("reconstruct needs at least one trace")
    specs = tool_specs(traces, tools)
    trace_calls = collect_calls(traces)
    draft = SnapshotDraft(name)
    options = ReconstructOptions(name=name, effects=effects or {}, closed_world=closed_world)
    claims = _claims(list(traces), specs)
    for ex in extractors():
        if ex.name in claims:
            ex.extract(ExtractContext(trace_calls, specs, draft, options, claims[ex.name]))
    draft.provenance.append(
        Provenance(source="trace", detail=f"{GENERATED_BY} from {len(traces)} traces")
    )
    sources = sorted({t.source.path for t in traces if t.source.path})
    description = f"Rebuilt by {GENERATED_BY} from {len(traces)} traces" + (
        f" ({', '.join(Path(s).name for s in sources[:3])})" if sources else ""
    )
    for s in draft.skipped:
        draft.warnings.append(
            f"{s.path}: not rebuilt, {s.reason} ({s.observations} observations skipped; "
            "system files come from the image)"
        )
    snapshot = draft.snapshot(description)
    draft.write(folder, snapshot, force=force)
    sd = load_snapshot(folder)
    rows = sum(len(r) for d in draft.databases.values() for r in d.rows.values())
    return ReconstructResult(
        snapshot=str(folder),
        traces=len(traces),
        calls=sum(len(tc.calls) for tc in trace_calls),
        facts=draft.facts,
        files=len(sd.snapshot.files),
        tables=sum(len(d.tables) for d in sd.snapshot.databases),
        rows=rows,
        services=len(sd.snapshot.services),
        function_tools=sum(len(s.function_tools) for s in sd.snapshot.services),
        conflicts=draft.conflicts,
        effects=draft.effects,
        tools=sorted(draft.tools, key=lambda t: t.tool),
        skipped=sorted(draft.skipped, key=lambda s: s.path),
        warnings=draft.warnings,
    )
