"""Author snapshot folders: create one, add files, tables, services; fill tables with Faker.

Every function edits the folder's own ``snapshot.yaml`` (never the layers it extends, which
may be shared) and writes content into its ``files/``, ``databases/`` and ``services/``.
A table or service defined only by a parent layer is copied into the own layer before it is
changed, which is how ``extends`` overrides work.
"""

from __future__ import annotations

import base64
import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from deploysim._errors import SnapshotError
from deploysim.snapshots._diff import exchange_key
from deploysim.snapshots._fake import fake_rows
from deploysim.snapshots._fake_values import singular
from deploysim.snapshots._har import exchanges_from_har
from deploysim.snapshots._ident import fold_identifier, rows_file_name
from deploysim.snapshots._model import (
    Column,
    Database,
    FileEntry,
    Provenance,
    Service,
    Snapshot,
    Table,
)
from deploysim.snapshots._openapi import service_from_openapi
from deploysim.snapshots._store import (
    SNAPSHOT_FILE,
    SnapshotDir,
    _parse,
    _read_yaml,
    _resolve_extends,
    load_snapshot,
    save_snapshot,
)
from deploysim.snapshots._tables import choose_primary_key, read_rows_file

__all__ = [
    "AddedService",
    "AddedTable",
    "FakedTable",
    "add_file",
    "add_service_har",
    "add_service_openapi",
    "add_table",
    "fake_table",
    "new_snapshot",
]


class AddedTable(NamedTuple):
    """A table written into a snapshot."""

    table: Table
    rows: int
    primary_key_inferred: bool
    references_inferred: list[str]


class FakedTable(NamedTuple):
    """A table filled with Faker rows."""

    table: Table
    rows: int
    generic_columns: list[str]


class AddedService(NamedTuple):
    """A service created or extended from an OpenAPI document or a HAR file."""

    service: Service
    tables: list[str]
    exchanges_added: int
    skipped: list[str]


def _own(root: Path) -> Snapshot:
    return _parse(root / SNAPSHOT_FILE, _read_yaml(root / SNAPSHOT_FILE))


def _write_rows(root: Path, rel: str, rows: list[dict[str, Any]]) -> None:
    p = root / "databases" / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in rows)
    p.write_text(text, encoding="utf-8")


def _load_doc(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise SnapshotError(path, f"cannot read: {e.strerror or e}") from e
    except yaml.YAMLError as e:
        raise SnapshotError(path, f"not JSON or YAML: {e}") from e
    if not isinstance(data, dict):
        raise SnapshotError(path, "must hold a JSON/YAML object")
    return data


# --------------------------------------------------------------------------- new, files


def new_snapshot(
    folder: str | Path,
    *,
    description: str = "",
    extends: str | None = None,
    clock: datetime | None = None,
) -> Path:
    """Create a snapshot folder named after its last path segment; return snapshot.yaml.

    Raises:
        SnapshotError: a snapshot already exists there, or the name is not valid.
    """
    root = Path(folder)
    if (root / SNAPSHOT_FILE).exists():
        raise SnapshotError(root / SNAPSHOT_FILE, "a snapshot already exists here")
    try:
        snap = Snapshot(
            name=root.name,
            description=description,
            extends=extends,
            clock=clock,
            provenance=[Provenance(source="authored")],
        )
    except ValueError as e:
        raise SnapshotError(
            root, f"{root.name!r} is not a valid snapshot name: {e}", field="name"
        ) from e
    if extends is not None:
        root.mkdir(parents=True, exist_ok=True)
        _resolve_extends(root.resolve(), extends)  # fail now, not at the first load
    return save_snapshot(snap, root)


def add_file(
    folder: str | Path,
    path: str,
    *,
    source: Path | None = None,
    content: str | None = None,
    inline: bool = False,
    mode: str | None = None,
    owner: str = "agent",
    group: str | None = None,
) -> FileEntry:
    """Add (or replace) the file at sandbox ``path``, from a local file or inline text.

    Content from ``source`` is copied to ``files/<path without the leading />``, unless
    ``inline`` asks to keep it in snapshot.yaml (base64 when it is not UTF-8 text).
    ``mode`` defaults to the source's permission bits (or 0644).

    Raises:
        SnapshotError: the source cannot be read, or the entry is invalid.
    """
    root = Path(folder)
    snap = _own(root)
    if (source is None) == (content is None):
        raise SnapshotError(root, "give a source file or inline content, not both", field="files")
    data: dict[str, Any] = {"path": path, "owner": owner, "group": group}
    if source is not None:
        try:
            raw = source.read_bytes()
            bits = source.stat().st_mode & 0o7777
        except OSError as e:
            raise SnapshotError(source, f"cannot read: {e.strerror or e}") from e
        data["mode"] = mode or f"{bits & 0o777:04o}"  # a source's setuid bit is not kept
        data["provenance"] = [Provenance(source="import", detail=str(source))]
        if inline:
            try:
                data["content"] = raw.decode("utf-8")
            except UnicodeDecodeError:
                data["content"], data["encoding"] = base64.b64encode(raw).decode(), "base64"
        else:
            data["source"] = path.lstrip("/")
    else:
        data.update(
            content=content, mode=mode or "0644", provenance=[Provenance(source="authored")]
        )
    try:
        entry = FileEntry.model_validate(data)
    except ValueError as e:
        raise SnapshotError(root / SNAPSHOT_FILE, str(e), field=f"files.{path}") from e
    if source is not None and entry.source is not None:
        dest = root / "files" / entry.source  # after validation: the path decides where
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
    files = [f for f in snap.files if f.path != entry.path] + [entry]
    save_snapshot(snap.model_copy(update={"files": files}), root)
    return entry


# --------------------------------------------------------------------------- tables


def _database(snap: Snapshot, merged: Snapshot, name: str, path: str | None) -> Database:
    own = snap.database(name)
    if own is not None:
        return own if path is None or own.path == path else own.model_copy(update={"path": path})
    inherited = merged.database(name)
    if inherited is not None:
        return inherited.model_copy(update={"tables": [], "path": path or inherited.path})
    if path is None:
        raise SnapshotError(
            snap.name, f"database {name!r} is new: give its path in the sandbox", field="databases"
        )
    return Database(name=name, path=path)


def _put(snap: Snapshot, db: Database, table: Table) -> Snapshot:
    tables = [t for t in db.tables if t.name != table.name] + [table]
    db = db.model_copy(update={"tables": tables})
    dbs = [d for d in snap.databases if d.name != db.name] + [db]
    return snap.model_copy(update={"databases": dbs})


def _infer_references(
    table: str, columns: list[Column], rows: list[dict[str, Any]], sd: SnapshotDir, db: str
) -> tuple[list[Column], list[str]]:
    """Foreign keys for ``<x>_id`` columns whose values all exist in table ``<x>s``."""
    base = sd.snapshot.database(db)
    if base is None or not rows:
        return columns, []
    out, found = [], []
    for c in columns:
        stem = c.name.removesuffix("_id")
        parent = next(
            (
                t
                for t in base.tables
                if t.name != table
                and stem != c.name
                and singular(t.name) == stem
                and len(t.primary_key) == 1
            ),
            None,
        )
        if c.references is None and parent is not None:
            pk = parent.primary_key[0]
            targets = {r.get(pk) for r in sd.table_rows(base, parent)}
            values = {r.get(c.name) for r in rows} - {None}
            if values and values <= targets:
                c = c.model_copy(update={"references": f"{parent.name}.{pk}"})
                found.append(f"{c.name} -> {parent.name}.{pk}")
        out.append(c)
    return out, found


def _choose_key(table: str, cols: list[Column], rows: list[dict[str, Any]]) -> list[str]:
    if rows:
        return choose_primary_key(table, cols, rows)
    if any(c.name == "id" for c in cols):
        return ["id"]
    raise ValueError("no rows to choose a primary key from and no 'id' column; give it")


def add_table(
    folder: str | Path,
    *,
    database: str,
    table: str,
    db_path: str | None = None,
    data: Path | None = None,
    fmt: str | None = None,
    columns: list[Column] | None = None,
    primary_key: list[str] | None = None,
    references: dict[str, str] | None = None,
    replace: bool = False,
) -> AddedTable:
    """Add a table from a CSV/TSV/JSON/JSONL file (schema inferred) or from column specs.

    The primary key is the one given, else the first unique column (``id`` first); foreign
    keys are the ones given plus ``<x>_id`` columns whose values all exist in table ``<x>s``.

    Raises:
        SnapshotError: bad input, an existing table (without ``replace``), or no usable key.
    """
    root = Path(folder)
    snap = _own(root)
    sd = load_snapshot(root)
    yaml_path = root / SNAPSHOT_FILE
    field = f"databases.{database}.tables.{table}"
    db = _database(snap, sd.snapshot, database, db_path)
    if not replace and any(t.name == table for t in db.tables):
        raise SnapshotError(yaml_path, "table exists; pass --replace to overwrite it", field=field)
    merged_db = sd.snapshot.database(database)
    known = {t.name for t in [*db.tables, *(merged_db.tables if merged_db else [])]}
    twins = [n for n in known if n != table and fold_identifier(n) == fold_identifier(table)]
    if twins:
        raise SnapshotError(
            yaml_path,
            f"table {twins[0]!r} exists, and SQLite takes {table!r} for the same name",
            field=field,
        )
    rows: list[dict[str, Any]] = []
    if data is not None:
        imported = read_rows_file(data, fmt)
        rows, cols = imported.rows, imported.columns
        if columns:  # explicit specs override the inferred ones by name
            given = {c.name: c for c in columns}
            cols = [given.pop(c.name, c) for c in cols] + list(given.values())
    elif columns:
        cols = list(columns)
    else:
        raise SnapshotError(yaml_path, "give a data file or column specs", field=field)
    inferred = not primary_key
    try:
        pk = primary_key or _choose_key(table, cols, rows)
    except ValueError as e:
        raise SnapshotError(yaml_path, str(e), field=f"{field}.primary_key") from e
    cols = [c.model_copy(update={"nullable": False}) if c.name in pk else c for c in cols]
    for col, ref in (references or {}).items():
        cols = [c.model_copy(update={"references": ref}) if c.name == col else c for c in cols]
    cols, found = _infer_references(table, cols, rows, sd, database)
    rows_file = rows_file_name(database, table) if rows else None
    detail = str(data) if data is not None else "column specs"
    try:
        t = Table(
            name=table,
            columns=cols,
            primary_key=pk,
            rows_file=rows_file,
            provenance=[Provenance(source="import" if data else "authored", detail=detail)],
        )
    except ValueError as e:
        raise SnapshotError(yaml_path, str(e), field=field) from e
    if rows_file:
        _write_rows(root, rows_file, rows)
    save_snapshot(_put(snap, db, t), root)
    return AddedTable(t, len(rows), inferred, found)


def fake_table(
    folder: str | Path,
    *,
    table: str,
    rows: int,
    seed: int,
    database: str | None = None,
    locale: str = "en_US",
    append: bool = False,
) -> FakedTable:
    """Fill ``table`` with ``rows`` Faker rows (replacing its rows unless ``append``).

    Parent tables named by foreign keys must have rows already. The snapshot's frozen clock
    is "now" for timestamps.

    Raises:
        SnapshotError: the table is unknown or ambiguous, or a parent table is empty.
    """
    root = Path(folder)
    snap = _own(root)
    sd = load_snapshot(root)
    merged = sd.snapshot
    yaml_path = root / SNAPSHOT_FILE
    found = [
        (d, t)
        for d in merged.databases
        for t in d.tables
        if t.name == table and (database is None or d.name == database)
    ]
    if not found:
        raise SnapshotError(yaml_path, f"no table {table!r}; add it first", field="databases")
    if len(found) > 1:
        raise SnapshotError(
            yaml_path,
            f"table {table!r} is in several databases; give the database",
            field="databases",
        )
    db, t = found[0]
    parents = {p.name: sd.table_rows(db, p) for p in db.tables if p.name != t.name}
    existing = sd.table_rows(db, t) if append else []
    ints = [v for r in existing if isinstance(v := r.get(t.primary_key[0]), int)]
    start = 1 + max(ints, default=0)
    try:
        result = fake_rows(
            t, rows, seed=seed, locale=locale, parents=parents, now=merged.clock, start=start
        )
    except ValueError as e:
        raise SnapshotError(yaml_path, str(e), field=f"databases.{db.name}.tables.{t.name}") from e
    all_rows = existing + result.rows
    rows_file = rows_file_name(db.name, t.name)
    _write_rows(root, rows_file, all_rows)
    prov = Provenance(
        source="faker",
        detail=f"seed={seed} locale={locale} rows={rows}" + (" appended" if append else ""),
    )
    kept = [p for p in t.provenance if append or p.source != "faker"]
    new_t = t.model_copy(update={"rows": None, "rows_file": rows_file, "provenance": [*kept, prov]})
    own_db = _database(snap, merged, db.name, None)
    save_snapshot(_put(snap, own_db, new_t), root)
    return FakedTable(new_t, len(all_rows), result.generic_columns)


# --------------------------------------------------------------------------- services


def _merge_service(old: Service | None, new: Service) -> tuple[Service, int]:
    if old is None:
        return new, len(new.exchanges)
    keys = {exchange_key(e) for e in old.exchanges}
    added = [e for e in new.exchanges if exchange_key(e) not in keys]
    res = {r.path: r for r in old.resources} | {r.path: r for r in new.resources}
    merged = old.model_copy(
        update={
            "hostnames": old.hostnames + [h for h in new.hostnames if h not in old.hostnames],
            "exchanges": old.exchanges + added,
            "resources": list(res.values()),
            "database": old.database or new.database,
            "provenance": old.provenance + new.provenance,
        }
    )
    return merged, len(added)


def _service_slot(snap: Snapshot, merged: Snapshot, name: str) -> Service | None:
    return snap.service(name) or merged.service(name)


def add_service_openapi(
    folder: str | Path,
    spec: Path,
    *,
    name: str,
    hostname: str | None = None,
    database: str | None = None,
    db_path: str | None = None,
) -> AddedService:
    """Create or extend service ``name`` from an OpenAPI 3 document (JSON or YAML).

    Collections become resources over new (empty) tables in ``database`` (default: the
    service name, placed at ``db_path`` or ``/srv/services/<name>/<database>.db``).

    Raises:
        SnapshotError: the document is unreadable or not OpenAPI 3.
    """
    root = Path(folder)
    snap = _own(root)
    merged = load_snapshot(root).snapshot
    try:
        imp = service_from_openapi(
            _load_doc(spec), name=name, source=spec.name, hostname=hostname, database=database
        )
    except ValueError as e:
        raise SnapshotError(spec, str(e)) from e
    service, added = _merge_service(_service_slot(snap, merged, name), imp.service)
    if imp.tables:
        db_name = service.database or name
        db = _database(
            snap,
            merged,
            db_name,
            db_path or (None if merged.database(db_name) else f"/srv/services/{name}/{db_name}.db"),
        )
        for t in imp.tables:
            existing = db.table(t.name)
            db = db.model_copy(
                update={"tables": [x for x in db.tables if x.name != t.name] + [existing or t]}
            )
        snap = snap.model_copy(
            update={"databases": [d for d in snap.databases if d.name != db.name] + [db]}
        )
    services = [s for s in snap.services if s.name != name] + [service]
    save_snapshot(snap.model_copy(update={"services": services}), root)
    return AddedService(service, [t.name for t in imp.tables], added, imp.skipped)


def add_service_har(
    folder: str | Path, har: Path, *, name: str | None = None, hostname: str | None = None
) -> list[AddedService]:
    """Create or extend services from a HAR file: one per host (or only ``hostname``).

    With ``name``, all exchanges go to that one service (give ``hostname`` when the file
    holds several hosts).

    Raises:
        SnapshotError: the file is not HAR, or ``name`` is given for several hosts.
    """
    root = Path(folder)
    snap = _own(root)
    merged = load_snapshot(root).snapshot
    try:
        imp = exchanges_from_har(_load_doc(har), source=har.name, host=hostname)
    except ValueError as e:
        raise SnapshotError(har, str(e)) from e
    if name is not None and len(imp.by_host) > 1:
        raise SnapshotError(har, f"holds hosts {sorted(imp.by_host)}; pick one with --host")
    out: list[AddedService] = []
    for host, exchanges in sorted(imp.by_host.items()):
        sname = name or _service_name(host)
        new = Service(
            name=sname,
            hostnames=[host],
            scheme="http" if imp.schemes[host] == "http" else "https",
            exchanges=exchanges,
            provenance=[Provenance(source="har", detail=har.name)],
        )
        service, added = _merge_service(_service_slot(snap, merged, sname), new)
        snap = snap.model_copy(
            update={"services": [s for s in snap.services if s.name != sname] + [service]}
        )
        out.append(AddedService(service, [], added, imp.skipped if not out else []))
    if not out:
        reasons = "; ".join(imp.skipped[:5]) or "the file has no entries"
        raise SnapshotError(har, f"no usable entries: {reasons}")
    save_snapshot(snap, root)
    return out


def _service_name(host: str) -> str:
    parts = [p for p in host.split(".") if p not in ("www", "api")]
    return (parts[0] if parts else host).replace("_", "-")
