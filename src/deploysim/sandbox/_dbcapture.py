"""Row changes of the pod's SQLite databases against the snapshot, bounded.

Each database file (and its write-ahead log) is copied out of the pod in chunks, as root but
without following a symlink and never opening a FIFO or device, up to
:attr:`CaptureLimits.db_limit` bytes. The copy is opened read-only on the host with the
schema untrusted (an agent-made file is hostile input). A database over the cap, a path that
is not a regular file, a file SQLite cannot read, or a table with more rows than
``max_rows`` is not compared, and a :class:`CaptureNote` says why: the agent did that.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from deploysim.sandbox._manifest import CaptureLimits, CaptureNote, NotRegularFileError
from deploysim.snapshots import Database, SnapshotDir, Table, decode_row, quote_identifier

if TYPE_CHECKING:
    from deploysim.sandbox._pod import Pod
    from deploysim.sandbox._state import RowChange

__all__ = ["DatabaseCapture", "copy_out", "database_changes"]

_CHUNK = 4 * 1024 * 1024


class CopyOutcome(NamedTuple):
    """How copying one file out of the pod went."""

    status: Literal["copied", "missing", "over_cap", "not_regular"]
    size: int
    detail: str = ""


class DatabaseCapture(NamedTuple):
    """Row changes, tables the agent created, and what could not be compared."""

    rows: list[RowChange]
    new_tables: list[str]
    notes: list[CaptureNote]


async def copy_out(pod: Pod, path: str, dest: Path, cap: int) -> CopyOutcome:
    """Copy the regular file ``path`` of the pod to ``dest`` in chunks, up to ``cap`` bytes."""
    offset = 0
    try:
        with dest.open("wb") as out:
            while True:
                chunk = await pod.read_range(path, offset, _CHUNK)
                if chunk.size > cap:
                    return CopyOutcome("over_cap", chunk.size)
                out.write(chunk.data)
                offset += len(chunk.data)
                if not chunk.data or offset >= chunk.size:
                    return CopyOutcome("copied", offset)
    except FileNotFoundError:
        return CopyOutcome("missing", 0)
    except NotRegularFileError as e:
        return CopyOutcome("not_regular", 0, str(e))


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    # The file is the agent's: no SQL functions from its schema, no writes, whatever it says.
    conn.execute("PRAGMA trusted_schema = OFF")
    conn.execute("PRAGMA query_only = ON")
    conn.row_factory = sqlite3.Row
    return conn


class _Tables(NamedTuple):
    rows: dict[str, list[dict[str, Any]]]
    new_tables: list[str]
    notes: list[CaptureNote]


def _read_db(path: Path, db: Database, limits: CaptureLimits) -> _Tables:
    """Rows of the snapshot's tables in the copied file; tables the agent added."""
    conn = _connect(path)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows: dict[str, list[dict[str, Any]]] = {}
        notes: list[CaptureNote] = []
        for table in db.tables:
            if table.name not in names:
                rows[table.name] = []
                continue
            q = quote_identifier(table.name)
            (count,) = conn.execute(f"SELECT COUNT(*) FROM {q}").fetchone()
            if count > limits.max_rows:
                notes.append(
                    CaptureNote(
                        kind="table_rows",
                        path=f"{db.name}.{table.name}",
                        size=count,
                        limit=limits.max_rows,
                        detail="table not compared: too many rows",
                    )
                )
                continue
            cur = conn.execute(f"SELECT * FROM {q}")
            rows[table.name] = [decode_row(table, dict(r)) for r in cur]
        known = {t.name for t in db.tables}
        extra = [f"{db.name}.{n}" for n in names if n not in known and not n.startswith("sqlite_")]
        return _Tables(rows, extra, notes)
    finally:
        conn.close()


def _capped(
    db: Database, table: Table, changes: list[RowChange], limits: CaptureLimits
) -> tuple[list[RowChange], list[CaptureNote]]:
    if len(changes) <= limits.max_row_changes:
        return changes, []
    note = CaptureNote(
        kind="row_changes",
        path=f"{db.name}.{table.name}",
        size=len(changes),
        limit=limits.max_row_changes,
        detail=f"listed the first {limits.max_row_changes} row changes only",
    )
    return changes[: limits.max_row_changes], [note]


def _not_compared(db: Database, outcome: CopyOutcome, limits: CaptureLimits) -> CaptureNote:
    tables = ", ".join(t.name for t in db.tables) or "none"
    if outcome.status == "over_cap":
        return CaptureNote(
            kind="database_size",
            path=db.path,
            size=outcome.size,
            limit=limits.db_limit,
            detail=f"database {db.name} over the size cap; tables not compared: {tables}",
        )
    return CaptureNote(
        kind="not_regular",
        path=db.path,
        detail=f"database {db.name}: {outcome.detail}; tables not compared: {tables}",
    )


async def _copy_database(pod: Pod, db: Database, local: Path, limits: CaptureLimits) -> CopyOutcome:
    main = await copy_out(pod, db.path, local, limits.db_limit)
    if main.status != "copied":
        return main
    wal = Path(str(local) + "-wal")
    log = await copy_out(pod, db.path + "-wal", wal, limits.db_limit - main.size)
    if log.status == "missing":
        wal.unlink(missing_ok=True)
        return main
    if log.status == "copied":
        return CopyOutcome("copied", main.size + log.size)
    size = main.size + log.size if log.status == "over_cap" else 0
    return log._replace(size=size)


async def database_changes(
    pod: Pod, sd: SnapshotDir, tmp: Path, limits: CaptureLimits
) -> DatabaseCapture:
    """Row changes of every snapshot database in the pod (files copied into ``tmp``)."""
    from deploysim.sandbox._state import diff_rows

    out = DatabaseCapture([], [], [])
    for i, db in enumerate(sd.snapshot.databases):
        local = tmp / f"db{i}.sqlite"  # not the agent's or the snapshot's name: no path tricks
        copied = await _copy_database(pod, db, local, limits)
        if copied.status == "missing":
            for table in db.tables:
                out.rows.extend(diff_rows(db.name, table, sd.table_rows(db, table), []))
            continue
        if copied.status != "copied":
            out.notes.append(_not_compared(db, copied, limits))
            continue
        try:
            found = _read_db(local, db, limits)
        except sqlite3.DatabaseError as e:
            tables = ", ".join(t.name for t in db.tables) or "none"
            detail = f"SQLite cannot read database {db.name} ({e}); tables not compared: {tables}"
            out.notes.append(CaptureNote(kind="database_unreadable", path=db.path, detail=detail))
            continue
        out.new_tables.extend(found.new_tables)
        out.notes.extend(found.notes)
        for table in db.tables:
            if table.name not in found.rows:
                continue  # not compared (noted)
            changes = diff_rows(db.name, table, sd.table_rows(db, table), found.rows[table.name])
            kept, notes = _capped(db, table, changes, limits)
            out.rows.extend(kept)
            out.notes.extend(notes)
    return out
