"""The tables of the admin dump, read within a budget.

The agent can grow a services table with as many POSTs as it likes (each body up to the
accept cap), and the dump would then hold every row in the sidecar's memory, twice (rows and
their JSON). So a table is read row by row: past ``max_rows`` rows, ``table_bytes`` bytes of
row JSON, or what is left of ``total_bytes`` for the whole dump, the table is not sent. A
:class:`TableNotCompared` stands in for it with its row count, the cap, and (when its rows
fit in ``hash_bytes``) their sha256, so capture notes it instead of seeing deleted rows. A
table is never cut short: it is sent whole or not at all.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from deploysim.services._protocol import TableNotCompared
from deploysim.snapshots import Table, decode_row, quote_identifier

__all__ = ["DumpBudget", "DumpLimits", "dump_table"]


class DumpLimits(BaseModel):
    """Caps of the admin dump's tables. A table over one is reported, never truncated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_rows: int = Field(default=200_000, description="Rows sent per table.")
    table_bytes: int = Field(default=16 << 20, description="Bytes of row JSON sent per table.")
    total_bytes: int = Field(default=48 << 20, description="Bytes of row JSON sent per dump.")
    hash_bytes: int = Field(
        default=256 << 20, description="Bytes of row JSON hashed of a table not sent."
    )


class DumpBudget:
    """The caps of one dump, and what is left of its ``total_bytes``."""

    def __init__(self, limits: DumpLimits) -> None:
        self.limits = limits
        self.left = limits.total_bytes


class _Over(NamedTuple):
    limit: int
    detail: str


def _rows(conn: sqlite3.Connection, table: Table) -> sqlite3.Cursor:
    """A cursor over the table's rows in primary-key order (rows read as they are fetched)."""
    order = ", ".join(quote_identifier(k) for k in table.primary_key)
    cur = conn.cursor()
    cur.row_factory = sqlite3.Row
    return cur.execute(f"SELECT * FROM {quote_identifier(table.name)} ORDER BY {order}")


def _line(table: Table, row: sqlite3.Row) -> tuple[dict[str, Any], bytes]:
    decoded = decode_row(table, dict(row))
    return decoded, json.dumps(decoded, sort_keys=True, default=str).encode() + b"\n"


def _hashed(
    conn: sqlite3.Connection, table: Table, count: int, over: _Over, cap: int
) -> TableNotCompared:
    """The marker of a table past a cap, with the sha256 of its rows if they fit in ``cap``."""
    digest, hashed = hashlib.sha256(), 0
    for row in _rows(conn, table):
        line = _line(table, row)[1]
        hashed += len(line)
        if hashed > cap:
            return TableNotCompared(
                rows=count,
                limit=over.limit,
                detail=f"table not compared: {over.detail}; over {cap} bytes, not hashed",
            )
        digest.update(line)
    return TableNotCompared(
        rows=count,
        limit=over.limit,
        bytes=hashed,
        sha256=digest.hexdigest(),
        detail=f"table not compared: {over.detail}",
    )


def dump_table(
    conn: sqlite3.Connection, table: Table, budget: DumpBudget
) -> list[dict[str, Any]] | TableNotCompared:
    """Every row of ``table`` (decoded, by primary key), or a marker when past a cap."""
    limits = budget.limits
    q = quote_identifier(table.name)
    (count,) = conn.execute(f"SELECT COUNT(*) FROM {q}").fetchone()
    if count > limits.max_rows:
        over = _Over(limits.max_rows, f"{count} rows, over the {limits.max_rows}-row cap")
        return _hashed(conn, table, count, over, limits.hash_bytes)
    cap = min(limits.table_bytes, budget.left)
    which = "per-table" if cap == limits.table_bytes else "dump's remaining"
    rows: list[dict[str, Any]] = []
    size = 0
    for row in _rows(conn, table):
        decoded, line = _line(table, row)
        size += len(line)
        if size > cap:
            rows.clear()  # free them before hashing
            over = _Over(cap, f"rows over {cap} bytes of JSON (the {which} cap)")
            return _hashed(conn, table, count, over, limits.hash_bytes)
        rows.append(decoded)
    budget.left -= size
    return rows
