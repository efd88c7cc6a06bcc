"""Validate a snapshot folder: structure (every pydantic error) and deep checks.

Structural checks run on each layer of the ``extends`` chain, so an error is reported against
the file that holds it. Then the checks every load runs (a snapshot is untrusted input: no
system paths, setuid modes or root agent, no content path or symlink leading out of its
folder, nothing written through its own links), all of them reported rather than the first.
Deep checks need a loadable snapshot and run on the merged model: content files exist, rows
parse and fit their columns, primary keys are unique, foreign keys resolve, services name
existing databases, handlers name existing tables and columns, python handler modules define
their functions, tool bindings name existing services, hostnames are unique. Deep-check
fields use names (``databases.shop.tables.orders.rows[3].customer_id``); structural and
load-time ones use indices as pydantic gives them (``services[0].hostnames``).
"""

from __future__ import annotations

import ast
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deploysim._errors import SnapshotError
from deploysim.snapshots._ident import quote_identifier
from deploysim.snapshots._model import Column, Database, Service, Snapshot, Table
from deploysim.snapshots._store import (
    SNAPSHOT_FILE,
    SnapshotDir,
    _read_yaml,
    _resolve_extends,
    load_collecting,
    snapshot_errors,
)

__all__ = ["Issue", "ValidationReport", "validate_snapshot"]

_MAX_PER_KIND = 20
"""Row problems of one kind reported per table before they are summarized in one issue."""


class Issue(BaseModel):
    """One problem found in a snapshot."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str = Field(description="The file at fault (snapshot.yaml, a rows file, ...).")
    field: str | None = Field(default=None, description="Dotted path of the field, if any.")
    message: str
    level: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = self.file + (f", field {self.field}" if self.field else "")
        return f"{self.level}: {where}: {self.message}"


class ValidationReport(BaseModel):
    """All problems found; ``ok`` when there is no error (warnings allowed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ok: bool
    errors: list[Issue] = Field(default_factory=list)
    warnings: list[Issue] = Field(default_factory=list)


class _Collector:
    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def error(self, file: Path | str, message: str, field: str | None = None) -> None:
        self.issues.append(Issue(file=str(file), field=field, message=message))

    def warn(self, file: Path | str, message: str, field: str | None = None) -> None:
        self.issues.append(Issue(file=str(file), field=field, message=message, level="warning"))

    def report(self) -> ValidationReport:
        errors = [i for i in self.issues if i.level == "error"]
        warnings = [i for i in self.issues if i.level == "warning"]
        return ValidationReport(ok=not errors, errors=errors, warnings=warnings)


# --------------------------------------------------------------------------- structure


def _layers(root: Path, out: _Collector) -> list[tuple[Path, Snapshot]]:
    """Parse each layer of the extends chain; report every structural error of each."""
    layers: list[tuple[Path, Snapshot]] = []
    seen: list[Path] = []
    current: Path | None = root
    while current is not None:
        yaml_path = current / SNAPSHOT_FILE
        if current in seen:
            chain = " -> ".join(str(s) for s in (*seen, current))
            out.error(seen[-1] / SNAPSHOT_FILE, f"extends loops: {chain}", "extends")
            break
        seen.append(current)
        try:
            data = _read_yaml(yaml_path)
        except SnapshotError as e:
            out.error(e.path, e.reason, e.field)
            break
        try:
            layers.append((current, Snapshot.model_validate(data)))
        except ValidationError as e:
            for field, reason in snapshot_errors(e):
                out.error(yaml_path, reason, field or None)
        ref = data.get("extends")
        if not isinstance(ref, str):
            break
        try:
            current = _resolve_extends(current, ref)
        except SnapshotError as e:
            out.error(e.path, e.reason, e.field)
            break
    return layers


def _dupes(values: Iterable[Any]) -> list[Any]:
    return sorted(v for v, n in Counter(values).items() if n > 1)


def _layer_checks(root: Path, snap: Snapshot, out: _Collector) -> None:
    """Checks within one layer: duplicate keys (the merge would silently keep the last)."""
    f = root / SNAPSHOT_FILE
    for what, field, values in [
        ("file path", "files", [e.path for e in snap.files]),
        ("repository path", "repos", [r.path for r in snap.repos]),
        ("database name", "databases", [d.name for d in snap.databases]),
        ("database path", "databases", [d.path for d in snap.databases]),
        ("service name", "services", [s.name for s in snap.services]),
        ("tool binding", "tool_bindings", [b.tool for b in snap.tool_bindings]),
    ]:
        for v in _dupes(values):
            out.error(f, f"duplicate {what} {v!r}", field)
    for d in snap.databases:
        for v in _dupes(t.name for t in d.tables):
            out.error(f, f"duplicate table {v!r}", f"databases.{d.name}.tables")
    for s in snap.services:
        for v in _dupes(t.name for t in s.function_tools):
            out.error(f, f"duplicate function tool {v!r}", f"services.{s.name}.function_tools")
    _unreferenced(root, snap, out)


def _unreferenced(root: Path, snap: Snapshot, out: _Collector) -> None:
    used = {"files": set(), "databases": set(), "services": set()}  # type: dict[str, set[str]]
    used["files"] |= {e.source for e in snap.files if e.source}
    used["files"] |= {
        c.source for r in snap.repos for cm in r.commits for c in cm.changes if c.source
    }
    used["databases"] |= {t.rows_file for d in snap.databases for t in d.tables if t.rows_file}
    used["services"] |= {
        ft.handler.module
        for s in snap.services
        for ft in s.function_tools
        if ft.handler.kind == "python"
    }
    for folder, names in used.items():
        base = root / folder
        if not base.is_dir():
            continue
        for p in sorted(base.rglob("*")):
            rel = p.relative_to(base).as_posix()
            if p.is_file() and rel not in names and "__pycache__" not in p.parts:
                out.warn(p, f"not referenced by {SNAPSHOT_FILE} (unused content)")


# --------------------------------------------------------------------------- content


def _content_checks(sd: SnapshotDir, out: _Collector) -> None:
    for e in sd.snapshot.files:
        if e.kind == "file" and e.source is not None:
            try:
                sd.file_bytes(e)
            except SnapshotError as err:
                out.error(err.path, err.reason, f"files.{e.path}.source")
    for r in sd.snapshot.repos:
        for i, c in enumerate(r.commits):
            for ch in c.changes:
                if ch.source is not None:
                    try:
                        sd.change_bytes(r, ch)
                    except SnapshotError as err:
                        out.error(err.path, err.reason, f"repos.{r.path}.commits[{i}].{ch.path}")


def _fit(col: Column, value: Any) -> str | None:
    """Why ``value`` does not fit ``col``, or None."""
    if value is None:
        return None if col.nullable else "is null but the column is NOT NULL"
    ok = {
        "INTEGER": isinstance(value, int),
        "REAL": isinstance(value, int | float) and not isinstance(value, bool),
        "NUMERIC": isinstance(value, int | float) and not isinstance(value, bool),
        "TEXT": isinstance(value, str),
        "BLOB": isinstance(value, str),
        "JSON": True,
    }[col.type]
    if not ok:
        return f"{type(value).__name__} value {value!r} does not fit a {col.type} column"
    if col.values is not None and value not in col.values:
        return f"{value!r} is not one of the allowed values {col.values}"
    return None


class _TableCheck:
    """Row checks of one table, with per-kind caps so a bad file does not flood the report."""

    def __init__(self, file: Path, db: Database, table: Table, out: _Collector) -> None:
        self.file, self.db, self.table, self.out = file, db, table, out
        self.counts: Counter[str] = Counter()
        self.base = f"databases.{db.name}.tables.{table.name}"

    def add(self, kind: str, message: str, field: str) -> None:
        self.counts[kind] += 1
        if self.counts[kind] <= _MAX_PER_KIND:
            self.out.error(self.file, message, field)

    def finish(self) -> None:
        for kind, n in self.counts.items():
            if n > _MAX_PER_KIND:
                self.out.error(
                    self.file,
                    f"{n - _MAX_PER_KIND} more rows with the same problem ({kind})",
                    f"{self.base}.rows",
                )

    def rows(self, rows: list[dict[str, Any]]) -> None:
        cols = {c.name: c for c in self.table.columns}
        auto_pk = (
            len(self.table.primary_key) == 1 and cols[self.table.primary_key[0]].type == "INTEGER"
        )
        seen: dict[tuple[Any, ...], int] = {}
        for i, row in enumerate(rows):
            where = f"{self.base}.rows[{i}]"
            for k in sorted(set(row) - set(cols)):
                self.add("unknown column", f"unknown column {k!r}", f"{where}.{k}")
            for name, col in cols.items():
                generated = auto_pk and name in self.table.primary_key
                if name not in row and not col.nullable and not generated:
                    self.add("missing", "missing value for a NOT NULL column", f"{where}.{name}")
                elif name in row:
                    why = _fit(col, row[name])
                    if why:
                        self.add(f"type of {name}", why, f"{where}.{name}")
            key = tuple(row.get(k) for k in self.table.primary_key)
            if any(v is None for v in key):
                if not auto_pk:
                    self.add("null key", "primary key is null", where)
                continue
            if key in seen:
                self.add(
                    "duplicate key",
                    f"duplicate primary key {list(key)} (also row {seen[key]})",
                    where,
                )
            else:
                seen[key] = i


def _database_checks(sd: SnapshotDir, out: _Collector) -> None:
    for db in sd.snapshot.databases:
        all_rows: dict[str, list[dict[str, Any]]] = {}
        for t in db.tables:
            file = sd.origins.get(f"table:{db.name}/{t.name}", sd.root) / SNAPSHOT_FILE
            try:
                rows = sd.table_rows(db, t)
            except SnapshotError as err:
                out.error(err.path, err.reason, f"databases.{db.name}.tables.{t.name}.rows_file")
                continue
            all_rows[t.name] = rows
            rows_at = file.parent / "databases" / t.rows_file if t.rows_file else file
            check = _TableCheck(rows_at, db, t, out)
            check.rows(rows)
            check.finish()
        _foreign_keys(sd, db, all_rows, out)


def _foreign_keys(
    sd: SnapshotDir, db: Database, all_rows: dict[str, list[dict[str, Any]]], out: _Collector
) -> None:
    for t in db.tables:
        file = sd.origins.get(f"table:{db.name}/{t.name}", sd.root) / SNAPSHOT_FILE
        for c in t.columns:
            if c.references is None:
                continue
            field = f"databases.{db.name}.tables.{t.name}.columns.{c.name}.references"
            other_name, _, other_col = c.references.partition(".")
            other = db.table(other_name)
            if other is None:
                out.error(file, f"references table {other_name!r}, not in {db.name}", field)
                continue
            if other_col not in {oc.name for oc in other.columns}:
                out.error(file, f"references column {c.references!r}, which does not exist", field)
                continue
            if t.name not in all_rows or other_name not in all_rows:
                continue
            targets = {r.get(other_col) for r in all_rows[other_name]}
            check = _TableCheck(file, db, t, out)
            for i, r in enumerate(all_rows[t.name]):
                v = r.get(c.name)
                if v is not None and v not in targets:
                    check.add(
                        f"foreign key {c.name}",
                        f"{v!r} is not a {c.references} value",
                        f"databases.{db.name}.tables.{t.name}.rows[{i}].{c.name}",
                    )
            check.finish()


# --------------------------------------------------------------------------- services


def _service_checks(sd: SnapshotDir, out: _Collector) -> None:
    f = sd.root / SNAPSHOT_FILE
    snap = sd.snapshot
    hosts = Counter(h for s in snap.services for h in s.hostnames)
    for h, n in sorted(hosts.items()):
        if n > 1:
            owners = [s.name for s in snap.services if h in s.hostnames]
            out.error(f, f"hostname {h!r} is served by {n} services: {owners}", "services")
    for s in snap.services:
        base = f"services.{s.name}"
        db = snap.database(s.database) if s.database else None
        if s.database and db is None:
            out.error(f, f"names database {s.database!r}, which does not exist", f"{base}.database")
        for i, ex in enumerate(s.exchanges):
            if not ex.request.path.startswith("/"):
                out.error(f, "request path must start with '/'", f"{base}.exchanges[{i}].path")
        for r in s.resources:
            _resource_check(f, s, db, r.path, r.table, [r.id_field, *r.filters], out)
        for ft in s.function_tools:
            _tool_check(sd, s, db, ft.name, ft.handler, out)


def _need_table(
    f: Path,
    s: Service,
    db: Database | None,
    table: str,
    columns: list[str],
    field: str,
    out: _Collector,
) -> None:
    if db is None:
        if s.database is None:
            out.error(f, "needs a database but the service names none", field)
        return
    t = db.table(table)
    if t is None:
        out.error(f, f"table {table!r} is not in database {db.name!r}", field)
        return
    names = {c.name for c in t.columns}
    for c in columns:
        if c not in names:
            out.error(f, f"column {c!r} is not in table {table!r}", field)


def _resource_check(
    f: Path,
    s: Service,
    db: Database | None,
    path: str,
    table: str,
    cols: list[str],
    out: _Collector,
) -> None:
    field = f"services.{s.name}.resources.{path}"
    if not path.startswith("/"):
        out.error(f, "resource path must start with '/'", field)
    _need_table(f, s, db, table, cols, field, out)


def _tool_check(
    sd: SnapshotDir, s: Service, db: Database | None, name: str, h: Any, out: _Collector
) -> None:
    f = sd.root / SNAPSHOT_FILE
    field = f"services.{s.name}.function_tools.{name}.handler"
    if h.kind == "lookup":
        _need_table(
            f, s, db, h.table, [*h.key.values(), *([h.field] if h.field else [])], field, out
        )
    elif h.kind == "update":
        _need_table(f, s, db, h.table, [*h.key.values(), *h.set], field, out)
    elif h.kind == "query":
        _query_check(f, s, db, h.sql, field, out)
    elif h.kind == "python":
        _module_check(sd, s, h.module, h.function, field, out)


def _query_check(
    f: Path, s: Service, db: Database | None, sql: str, field: str, out: _Collector
) -> None:
    if db is None:
        if s.database is None:
            out.error(f, "needs a database but the service names none", field)
        return
    conn = sqlite3.connect(":memory:")
    try:
        for t in db.tables:
            cols = ", ".join(f"{quote_identifier(c.name)} {c.type}" for c in t.columns)
            conn.execute(f"CREATE TABLE {quote_identifier(t.name)} ({cols})")
        params = dict.fromkeys(re.findall(r"(?<!:):([A-Za-z_]\w*)", sql))
        conn.execute("EXPLAIN " + sql, params)
    except sqlite3.Error as e:
        out.error(f, f"SQL does not compile against the schema: {e}", f"{field}.sql")
    finally:
        conn.close()


def _module_check(
    sd: SnapshotDir, s: Service, module: str, function: str, field: str, out: _Collector
) -> None:
    path = sd.module_path(s.name, module)
    try:
        source = sd.module_files(s.name, module)[module]
        tree = ast.parse(source, filename=str(path))
    except SnapshotError as e:
        out.error(path, f"handler module cannot be read: {e.reason}", f"{field}.module")
        return
    except (SyntaxError, ValueError, RecursionError) as e:
        if not isinstance(e, SyntaxError):
            out.error(path, f"handler module is not valid Python: {e}", f"{field}.module")
            return
        out.error(
            path,
            f"handler module is not valid Python: {e.msg} (line {e.lineno})",
            f"{field}.module",
        )
        return
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    if function not in defined:
        out.error(path, f"defines no function {function!r}", f"{field}.function")


def _binding_checks(sd: SnapshotDir, out: _Collector) -> None:
    f = sd.root / SNAPSHOT_FILE
    for b in sd.snapshot.tool_bindings:
        field = f"tool_bindings.{b.tool}.service"
        if b.service is None:
            continue
        s = sd.snapshot.service(b.service)
        if s is None:
            out.error(f, f"names service {b.service!r}, which does not exist", field)
        elif b.backend == "live" and all(t.name != b.tool for t in s.function_tools):
            out.warn(f, f"service {b.service!r} has no function tool {b.tool!r}", field)


# --------------------------------------------------------------------------- entry point


def validate_snapshot(path: str | Path) -> ValidationReport:
    """Check a snapshot folder (or its snapshot.yaml) and report every problem found.

    Never raises for a bad snapshot: problems, including unreadable YAML and a missing
    folder, are issues of the report.
    """
    root = Path(path)
    if root.name == SNAPSHOT_FILE:
        root = root.parent
    root = root.resolve()
    out = _Collector()
    layers = _layers(root, out)
    if out.issues:
        return out.report()
    for layer_root, snap in layers:
        _layer_checks(layer_root, snap, out)
    try:
        sd, problems = load_collecting(root)
    except SnapshotError as e:  # structural checks passed, so this is a merge-level problem
        out.error(e.path, e.reason, e.field)
        return out.report()
    for p in problems:
        out.error(p.file, p.message, p.field)
    if problems:  # reading content that leads out of the folder is what they refuse
        return out.report()
    _content_checks(sd, out)
    _database_checks(sd, out)
    _service_checks(sd, out)
    _binding_checks(sd, out)
    if sd.snapshot.clock is None:
        out.warn(root / SNAPSHOT_FILE, "no frozen clock: the sandbox will see real time", "clock")
    return out.report()
