"""SQL observations: tables, columns and rows from query results; schema from DDL.

Read from SQL tools (``query``/``sql`` argument, results as a JSON list of rows) and from
``sqlite3`` commands in a shell (``-json``, ``-csv -header``, ``-line``-less default output
is not read: it has no column names). DDL seen in a statement (``CREATE TABLE``) or in a
result (``SELECT sql FROM sqlite_master``) is run in an in-memory SQLite to learn columns,
types and the primary key. A ``SELECT *`` of one table gives full rows; a projection that
includes the key fills the fields it shows. After the agent's first write to a table
(``INSERT``/``UPDATE``/``DELETE``/``DROP``/``ALTER``) in a trace, that trace's later results
for the table are its effects, not initial state.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from deploysim.reconstruct._calls import CallObs
from deploysim.reconstruct._model import Conflict, short
from deploysim.snapshots import Column, Provenance, Table, quote_identifier
from deploysim.snapshots._model import ColumnType

__all__ = ["SqlBook", "sqlite3_command"]

_FROM = re.compile(
    r"^\s*select\s+(.*?)\s+from\s+[\"`\[]?(\w+)[\"`\]]?\s*(where\b.*|order\b.*|limit\b.*)?;?\s*$",
    re.I | re.S,
)
_WRITE = re.compile(
    r"^\s*(insert\s+(?:or\s+\w+\s+)?into|update|delete\s+from|drop\s+table|alter\s+table|replace\s+into)\s+[\"`\[]?(\w+)",
    re.I,
)
_CREATE = re.compile(r"create\s+table\s+(?:if\s+not\s+exists\s+)?[\"`\[]?(\w+)", re.I)


def sqlite3_command(command: str) -> tuple[str, str, str] | None:
    """(database path, SQL, output mode) of a ``sqlite3 [-json|-csv -header] DB "SQL"`` command."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if not words or words[0] != "sqlite3":
        return None
    flags = [w for w in words[1:] if w.startswith("-")]
    rest = [w for w in words[1:] if not w.startswith("-")]
    if len(rest) != 2:
        return None
    mode = "json" if "-json" in flags else "csv" if {"-csv", "-header"} <= set(flags) else ""
    return rest[0], rest[1], mode


def _rows(output: str, mode: str) -> list[dict[str, Any]] | None:
    text = output.strip()
    if mode == "csv":
        reader = csv.DictReader(io.StringIO(text))
        return [dict(r) for r in reader]
    if not text and mode == "json":
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(r, dict) for r in value):
        return value
    return None


@dataclass
class _TableFacts:
    name: str
    columns: list[str] = field(default_factory=list)
    types: dict[str, str] = field(default_factory=dict)
    key: list[str] = field(default_factory=list)
    not_null: set[str] = field(default_factory=set)
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    provenance: dict[str, Provenance] = field(default_factory=dict)
    loose: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SqlBook:
    """Tables of one database, pooled across traces."""

    path: str
    tables: dict[str, _TableFacts] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    facts: int = 0
    warnings: list[str] = field(default_factory=list)

    def ddl(self, sql: str) -> None:
        """Learn columns, types and keys from CREATE TABLE statements in ``sql``."""
        for stmt in re.findall(r"create\s+table[^;]*\)", sql, re.I | re.S):
            name = _CREATE.search(stmt)
            if not name:
                continue
            con = sqlite3.connect(":memory:")
            try:
                con.execute(stmt)
                info = con.execute(
                    f"PRAGMA table_info({quote_identifier(name.group(1))})"
                ).fetchall()
            except sqlite3.Error:
                continue
            finally:
                con.close()
            t = self.tables.setdefault(name.group(1), _TableFacts(name.group(1)))
            t.columns = [r[1] for r in info]
            t.types = {r[1]: (r[2] or "TEXT").upper() for r in info}
            t.key = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5]]
            t.not_null = {r[1] for r in info if r[3]}

    def observe(self, call: CallObs, sql: str, output: str, mode: str, written: set[str]) -> None:
        """Pool what one statement and its result show."""
        self.ddl(sql)
        w = _WRITE.match(sql)
        if w:
            written.add(w.group(2))
            return
        if "sqlite_master" in sql:
            self.ddl(output.replace("\\n", "\n"))
            return
        m = _FROM.match(sql)
        if not m or m.group(2) in written or call.is_error:
            return
        rows = _rows(output, mode)
        if rows is None:
            return
        t = self.tables.setdefault(m.group(2), _TableFacts(m.group(2)))
        star = m.group(1).strip() == "*"
        prov = call.provenance(f"{m.group(2)} rows")
        for row in rows:
            for c in row:
                if c not in t.columns and star:
                    t.columns.append(c)
            if star or (t.key and all(k in row for k in t.key)):
                self._row(t, row, prov, complete=star)

    def _row(self, t: _TableFacts, row: dict[str, Any], prov: Provenance, complete: bool) -> None:
        if not t.key:
            t.loose.append(row)
            t.provenance.setdefault(json.dumps(row, sort_keys=True), prov)
            return
        key = json.dumps([row[k] for k in t.key])
        have = t.rows.setdefault(key, {})
        for c, v in row.items():
            if c in have and have[c] != v:
                self.conflicts.append(
                    Conflict(
                        subject=f"{t.name}[{key}].{c}",
                        kept=short(have[c]),
                        other=short(v),
                        kept_provenance=t.provenance[key],
                        other_provenance=prov,
                        resolution="kept the first observation; the other is reported only",
                    )
                )
            have.setdefault(c, v)
        t.provenance.setdefault(key, prov)

    def finish(self) -> list[tuple[Table, list[dict[str, Any]]]]:
        """Each table with its rows (full rows only), keys chosen where DDL gave none."""
        out = []
        for t in self.tables.values():
            if not t.key:
                t.key = _choose_key(t.columns, t.loose)
                loose, t.loose = t.loose, []
                for row in loose:
                    prov = t.provenance[json.dumps(row, sort_keys=True)]
                    self._row(t, row, prov, complete=True)
            if not t.columns or not t.key:
                continue
            rows = [r for r in t.rows.values() if all(c in r for c in t.columns)]
            try:
                columns = [
                    Column(
                        name=c,
                        type=_column_type(t, c, rows),
                        nullable=c not in t.key and c not in t.not_null,
                    )
                    for c in t.columns
                ]
                table = Table(
                    name=t.name,
                    columns=columns,
                    primary_key=t.key,
                    provenance=list(dict.fromkeys(t.provenance.values())),
                )
            except ValueError as e:  # a name SQLite cannot hold (sqlite_master, ...)
                self.warnings.append(f"{self.path}: table {t.name!r} not rebuilt: {e}")
                continue
            self.facts += sum(len(r) for r in rows)
            out.append((table, [{c: r.get(c) for c in t.columns} for r in rows]))
        return out


def _choose_key(columns: list[str], rows: list[dict[str, Any]]) -> list[str]:
    ordered = sorted(columns, key=lambda c: (c != "id", not c.endswith("id"), columns.index(c)))
    for c in ordered:
        values = [r.get(c) for r in rows]
        if values and None not in values and len(set(map(str, values))) == len(values):
            return [c]
    return []


def _column_type(t: _TableFacts, c: str, rows: list[dict[str, Any]]) -> ColumnType:
    declared = t.types.get(c, "")
    kinds: tuple[ColumnType, ...] = ("INTEGER", "REAL", "TEXT", "BLOB", "NUMERIC")
    for kind in kinds:
        if kind in declared or (kind == "INTEGER" and "INT" in declared):
            return kind
    values = [r.get(c) for r in rows if r.get(c) is not None]
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "INTEGER"
    if values and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "REAL"
    return "TEXT"
