"""Read table data from CSV, JSON or JSONL with sqlite-utils; infer columns and a primary key.

sqlite-utils does the reading and the type detection (CSV values arrive as text;
``TypeTracker`` finds the columns that are really integers or floats), so a table imported
here has the types ``sqlite-utils insert`` would give it. Nested values make JSON columns.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import sqlite_utils
from sqlite_utils.utils import Format, TypeTracker, rows_from_file

from deploysim._errors import SnapshotError
from deploysim.snapshots._fake_values import singular
from deploysim.snapshots._ident import fold_identifier as fold
from deploysim.snapshots._ident import identifier_collisions, identifier_problem
from deploysim.snapshots._model import Column, ColumnType

__all__ = [
    "ColumnSpec",
    "ImportedRows",
    "choose_primary_key",
    "parse_column_spec",
    "read_rows_file",
]

_FORMATS = {
    ".csv": Format.CSV,
    ".tsv": Format.TSV,
    ".json": Format.JSON,
    ".jsonl": Format.NL,
    ".ndjson": Format.NL,
}
_SQLITE_TYPES: dict[Any, ColumnType] = {int: "INTEGER", float: "REAL", str: "TEXT", bytes: "BLOB"}


class ImportedRows(NamedTuple):
    """Rows read from a data file, with the columns inferred for them (in first-seen order)."""

    rows: list[dict[str, Any]]
    columns: list[Column]


def read_rows_file(path: Path, fmt: str | None = None) -> ImportedRows:
    """Read CSV/TSV/JSON/JSONL rows; CSV types are detected, nested values become JSON columns.

    Raises:
        SnapshotError: the file cannot be read or parsed, or holds no rows.
    """
    format_ = Format[fmt.upper()] if fmt else _FORMATS.get(path.suffix.lower())
    try:
        data = path.read_bytes()
        raw, found = rows_from_file(io.BytesIO(data), format=format_)
        rows = [dict(r) for r in raw]
    except OSError as e:
        raise SnapshotError(path, f"cannot read: {e.strerror or e}") from e
    except (ValueError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise SnapshotError(path, f"cannot parse as {format_ or 'CSV/JSON'}: {e}") from e
    except Exception as e:  # sqlite-utils raises its own RowsFromFileError family
        if type(e).__module__.startswith("sqlite_utils"):
            raise SnapshotError(path, f"cannot parse: {e}") from e
        raise
    if not rows:
        raise SnapshotError(path, "holds no rows")
    if any(not isinstance(r, dict) for r in rows):
        raise SnapshotError(path, "rows must be JSON objects")
    if found in (Format.CSV, Format.TSV):
        rows = [{k: (None if v == "" else v) for k, v in r.items()} for r in rows]
    _check_names(path, rows)
    return _typed(rows)


def _check_names(path: Path, rows: list[dict[str, Any]]) -> None:
    """Column names SQLite can hold and tell apart (quoted, any other text is fine)."""
    names: dict[str, None] = {}
    for r in rows:
        names.update(dict.fromkeys(r))
    for n in names:
        if not isinstance(n, str):
            raise SnapshotError(path, f"column name {n!r} is not text")
        problem = identifier_problem(n)
        if problem:
            raise SnapshotError(path, f"column {n!r}: {problem}", field=f"columns.{n}")
    clashes = identifier_collisions(names)
    if clashes:
        raise SnapshotError(
            path, f"columns {clashes} differ only in case, and SQLite takes them for one"
        )


def _python_type(values: list[Any]) -> ColumnType | None:
    """The column type for non-text values (JSON input), or None when all are text."""
    kinds = {type(v) for v in values if v is not None}
    if not kinds or kinds == {str}:
        return None
    if kinds <= {int, bool}:
        return "INTEGER"
    if kinds <= {int, float, bool}:
        return "REAL"
    return "TEXT"


def _typed(rows: list[dict[str, Any]]) -> ImportedRows:
    order: dict[str, None] = {}
    for r in rows:
        order.update(dict.fromkeys(r))
    folded = {fold(k) for k in order}
    nested = {k for r in rows for k, v in r.items() if isinstance(v, dict | list)}
    direct = {k: _python_type([r.get(k) for r in rows]) for k in order if k not in nested}
    text = [k for k, t in direct.items() if t is None]
    # Text columns (all of CSV) go through sqlite-utils' type detection.
    db = sqlite_utils.Database(memory=True)
    tracker = TypeTracker()
    # The row number's column must not be one of the data's (a CSV may well have '_n').
    n_col = next(c for c in (f"_n{i}" for i in range(len(order) + 1)) if fold(c) not in folded)
    db["rows"].insert_all(  # type: ignore[union-attr]
        tracker.wrap([{k: r.get(k) for k in text} | {n_col: i} for i, r in enumerate(rows)]),
        pk=n_col,
    )
    db["rows"].transform(types={k: v for k, v in tracker.types.items() if k in text})  # type: ignore[union-attr]
    detected = db["rows"].columns_dict
    by_n = {r[n_col]: r for r in db.query("SELECT * FROM rows")}
    typed_rows = [
        {k: (by_n[i].get(k) if k in text else r.get(k)) for k in order} for i, r in enumerate(rows)
    ]
    columns = [
        Column(
            name=k,
            type="JSON"
            if k in nested
            else (direct[k] or _SQLITE_TYPES.get(detected.get(k), "TEXT")),
        )
        for k in order
    ]
    return ImportedRows(typed_rows, columns)


def _unique(rows: Sequence[dict[str, Any]], cols: list[str]) -> bool:
    keys = [tuple(r.get(c) for c in cols) for r in rows]
    return all(v is not None for k in keys for v in k) and len(set(map(repr, keys))) == len(keys)


def choose_primary_key(
    table: str, columns: list[Column], rows: Sequence[dict[str, Any]]
) -> list[str]:
    """The first column whose values are all present and distinct.

    Tried in order: ``id``, ``<table>_id``, other columns ending in ``id``, the rest.

    Raises:
        ValueError: no single column is unique.
    """
    names = [c.name for c in columns]
    own = f"{singular(table)}_id"
    ordered = [n for n in ("id", own) if n in names]
    ordered += [n for n in names if n.lower().endswith("id") and n not in ordered]
    ordered += [n for n in names if n not in ordered]
    for n in ordered:
        if _unique(rows, [n]):
            return [n]
    raise ValueError(f"no column of {table} is unique and never null; give the primary key")


class ColumnSpec(NamedTuple):
    """A column given on the command line, and whether it is (part of) the primary key."""

    column: Column
    primary_key: bool


def parse_column_spec(spec: str) -> ColumnSpec:
    """``name:TYPE[:pk][:notnull][:ref=table.col][:values=a|b|c]`` as a column.

    ``pk`` makes the column part of the primary key (and NOT NULL).

    Raises:
        ValueError: the spec is malformed (with the reason).
    """
    parts = spec.split(":")
    name = parts[0].strip()
    type_ = parts[1].strip().upper() if len(parts) > 1 and parts[1].strip() else "TEXT"
    data: dict[str, Any] = {"name": name, "type": type_}
    pk = False
    for opt in parts[2:]:
        key, _, value = opt.partition("=")
        key = key.strip().lower()
        if key in ("pk", "notnull"):
            data["nullable"] = False
            pk = pk or key == "pk"
        elif key == "ref":
            data["references"] = value
        elif key == "values":
            items: list[Any] = value.split("|")
            if type_ == "INTEGER":
                items = [int(v) for v in items]
            data["values"] = items
        else:
            raise ValueError(f"unknown option {opt!r} in column spec {spec!r}")
    return ColumnSpec(Column.model_validate(data), pk)
