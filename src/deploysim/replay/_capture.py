"""The pod's end state, captured at the end of the solver while the pod is up.

Two scopes (recorded in ``EndState.scope``):

- ``full``: :meth:`Pod.capture_state` (file changes, workspace row changes, the services'
  request log and full tables). Used whenever a tool of the trace can reach the workspace
  (shell, editor, sql, http backends in any tool's chain).
- ``services``: when every tool is answered by the services, the recording, a simulator or an
  error, nothing can have touched the workspace, so only the services are read: their request
  log, and their tables when the log shows a call that may have written (a function tool
  whose effect is not ``read``, or an HTTP method other than GET/HEAD). This keeps capture in
  milliseconds for function-tool scenarios (tau-bench) instead of a second.

The services' full tables are turned into row changes against the snapshot (a 2800-row
airline dump per sample would swamp the log), and row "changes" that differ only by a column
absent on one side and null on the other are dropped: SQLite stores an absent JSON key as
NULL, so they are not changes. A table the dump did not hold whole (over the sidecar's dump
caps, or missing) is a ``table_rows`` capture note, never a table whose rows were deleted.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, NamedTuple

from deploysim._errors import InfrastructureError
from deploysim.replay._plan import ReplayPlan, TracePlan
from deploysim.replay._prefix import LIVE_BACKENDS
from deploysim.replay._record import EndState
from deploysim.snapshots import Table

if TYPE_CHECKING:
    from deploysim.sandbox import Pod, RowChange
    from deploysim.services import TableNotCompared
    from deploysim.tools import PodServices

__all__ = [
    "AGENT_CAUSED",
    "ServicesRows",
    "canonical_row",
    "capture_end_state",
    "row_key",
    "services_log_length",
    "workspace_reachable",
]

AGENT_CAUSED: tuple[type[Exception], ...] = (OSError, OverflowError, ValueError, RecursionError)
"""What a capture raises on conditions the agent can cause: OSError (a full disk, odd files,
``TimeoutError`` of a busy sidecar), OverflowError (a cap), ValueError and RecursionError
(content that does not decode). Infrastructure failures are none of these."""

_POD_BACKENDS = frozenset(LIVE_BACKENDS) - {"function"}
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _real(change: RowChange) -> bool:
    return change.change != "modified" or bool(change.columns)


def canonical_row(row: dict[str, Any]) -> str:
    """A row as sorted JSON without nulls (an absent JSON key is NULL in SQLite)."""
    return json.dumps({k: v for k, v in row.items() if v is not None}, sort_keys=True, default=str)


def row_key(table: Table, row: dict[str, Any]) -> str:
    """The primary key of a row, as JSON."""
    return json.dumps([row.get(k) for k in table.primary_key], default=str)


def _table_changes(
    plan: ReplayPlan, db_name: str, table: Table, now: list[dict[str, Any]]
) -> list[RowChange]:
    """Row changes, diffing only the rows whose canonical JSON differs (fast on big tables)."""
    from deploysim.sandbox import diff_rows

    base = plan.services_index(db_name, table)
    new = {row_key(table, r): r for r in now}
    changed = [k for k, r in new.items() if base.canonical.get(k) != canonical_row(r)]
    gone = [k for k in base.rows if k not in new]
    before = [base.rows[k] for k in changed if k in base.rows] + [base.rows[k] for k in gone]
    return diff_rows(db_name, table, before, [new[k] for k in changed])


class ServicesRows(NamedTuple):
    """Row changes of the services' tables, and the tables that could not be compared."""

    rows: list[dict[str, Any]]
    notes: list[dict[str, Any]]


def _not_compared(
    path: str, detail: str, size: int | None = None, limit: int | None = None
) -> dict[str, Any]:
    """A capture note (the shape of :class:`deploysim.sandbox.CaptureNote`) for a table."""
    return {"kind": "table_rows", "path": path, "size": size, "limit": limit, "detail": detail}


def _marker(value: Any) -> TableNotCompared | None:
    from deploysim.services import TableNotCompared

    if isinstance(value, dict) and value.get("not_compared") is True:
        return TableNotCompared.model_validate(value)
    return None


def _table_rows(
    plan: ReplayPlan, db_name: str, table: Table, now: dict[str, Any], out: ServicesRows
) -> None:
    path = f"{db_name}.{table.name}"
    value = now.get(table.name)
    if value is None:
        out.notes.append(_not_compared(path, "table not compared: missing from the services dump"))
        return
    marker = _marker(value)
    if marker is not None:
        hashed = f"; rows sha256 {marker.sha256}" if marker.sha256 else ""
        note = _not_compared(path, f"services {marker.detail}{hashed}", marker.rows, marker.limit)
        out.notes.append(note)
        return
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        out.notes.append(_not_compared(path, "table not compared: the dump holds no row list"))
        return
    changes = _table_changes(plan, db_name, table, value)
    out.rows.extend(c.model_dump(mode="json") for c in changes if _real(c))


def _services_rows(plan: ReplayPlan, tables: dict[str, Any]) -> ServicesRows:
    """Row changes of every services table the dump holds whole.

    A database or table missing from the dump, or sent as a :class:`TableNotCompared` (over
    the dump's caps), is noted as not compared: reading it as empty would report every row
    of the snapshot as deleted by the agent.
    """
    out = ServicesRows([], [])
    sd = plan.loaded.snapshot
    if sd is None:
        return out
    for db_name in plan.services_baseline():
        db = sd.snapshot.database(db_name)
        if db is None:
            continue
        now = tables.get(db_name)
        if not isinstance(now, dict):
            detail = "database not compared: missing from the services dump"
            out.notes.append({**_not_compared(db_name, detail), "kind": "database_unreadable"})
            continue
        for table in db.tables:
            _table_rows(plan, db_name, table, now, out)
    return out


async def services_log_length(services: PodServices | None) -> int:
    """How many requests the services logged so far (0 without services)."""
    if services is None:
        return 0
    _, log = await services.request("GET", "/__deploysim/log")
    return len(log) if isinstance(log, list) else 0


def _may_write(entry: dict[str, Any], tp: TracePlan) -> bool:
    tool = entry.get("tool")
    if tool:
        body = entry.get("body")
        return tp.effect(str(tool), body if isinstance(body, dict) else None) != "read"
    return str(entry.get("method", "GET")).upper() not in _READ_METHODS


def workspace_reachable(tp: TracePlan) -> bool:
    """Whether any tool of the trace runs in the workspace (so files may have changed)."""
    return any(b in _POD_BACKENDS for chain in tp.chains.values() for b in chain)


async def _services_only(
    services: PodServices | None, plan: ReplayPlan, tp: TracePlan, prefix: int
) -> EndState:
    log: list[dict[str, Any]] = []
    rows = ServicesRows([], [])
    if services is not None:
        _, found = await services.request("GET", "/__deploysim/log")
        log = found if isinstance(found, list) else []
        if any(_may_write(e, tp) for e in log):
            _, dump = await services.request("GET", "/__deploysim/state")
            rows = _services_rows(plan, dump.get("databases", {}) if isinstance(dump, dict) else {})
    return EndState(
        captured=True,
        scope="services",
        services_rows=rows.rows,
        services_log=log,
        services_log_prefix_entries=prefix,
        capture_notes=rows.notes,
    )


async def capture_end_state(
    pod: Pod, services: PodServices | None, plan: ReplayPlan, tp: TracePlan, prefix: int
) -> EndState:
    """Files, rows and services effects of the sample, relative to the pod's start.

    What the agent left can stop a capture: a full disk, files or rows past the capture's
    caps, a sidecar it flooded until it no longer answers in time, bodies nested past the
    JSON parser. Those are the agent's behaviour, so they give a record with
    ``captured=False`` and the ``error`` noted, never a failed sample.

    Raises:
        InfrastructureError: the pod itself failed (a container died, the sidecar is gone).
    """
    try:
        return await _capture(pod, services, plan, tp, prefix)
    except InfrastructureError:
        raise
    except AGENT_CAUSED as e:
        return EndState(
            captured=False,
            reason="the capture stopped on what the agent left in the pod",
            error=f"{type(e).__name__}: {e}"[:2000],
            services_log_prefix_entries=prefix,
        )


async def _capture(
    pod: Pod, services: PodServices | None, plan: ReplayPlan, tp: TracePlan, prefix: int
) -> EndState:
    if not workspace_reachable(tp):
        return await _services_only(services, plan, tp, prefix)
    state = await pod.capture_state()
    served = _services_rows(plan, state.services_tables)
    return EndState(
        captured=True,
        scope="full",
        files=[f.model_dump(mode="json") for f in state.files],
        rows=[r.model_dump(mode="json") for r in state.rows if _real(r)],
        new_tables=state.new_tables,
        services_rows=served.rows,
        services_log=state.services_log,
        services_log_prefix_entries=prefix,
        capture_notes=[n.model_dump(mode="json") for n in state.capture_notes] + served.notes,
    )
