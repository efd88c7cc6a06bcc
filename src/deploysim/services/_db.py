"""The database handle handed to function-tool handlers: rows in, rows out, JSON decoded.

Handlers get a :class:`Db` as their first argument. It wraps the service's SQLite connection
with the snapshot's table schemas, so JSON columns come back as Python values and go in as
JSON text. Rows are returned in insertion order (SQLite rowid), which keeps the order of the
snapshot's rows file: tools that scan a table answer in the order the original data had.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from deploysim.snapshots import Table, decode_row, encode_row
from deploysim.snapshots import quote_identifier as quote

__all__ = ["Db", "quote"]


class Db:
    """A service database as handlers see it.

    Args:
        conn: the open SQLite connection (the app owns it and commits after each call).
        tables: the snapshot's tables of this database, by name.
        clock: the snapshot's frozen clock, or None.
    """

    def __init__(
        self, conn: sqlite3.Connection, tables: Mapping[str, Table], clock: datetime | None
    ) -> None:
        self.conn = conn
        self.tables = dict(tables)
        self.clock = clock

    def table(self, name: str) -> Table:
        """The schema of table ``name``.

        Raises:
            KeyError: there is no such table in this database.
        """
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(f"no table {name!r} (tables: {sorted(self.tables)})") from None

    def _key(self, table: Table, key: Any) -> dict[str, Any]:
        if isinstance(key, Mapping):
            missing = [k for k in table.primary_key if k not in key]
            if missing:
                raise KeyError(f"key of {table.name} lacks {missing}")
            return {k: key[k] for k in table.primary_key}
        if len(table.primary_key) != 1:
            raise KeyError(f"{table.name} has a composite key {table.primary_key}: give a mapping")
        return {table.primary_key[0]: key}

    def _decode(self, table: Table, cur: sqlite3.Cursor) -> list[dict[str, Any]]:
        names = [d[0] for d in cur.description]
        return [decode_row(table, dict(zip(names, r, strict=True))) for r in cur.fetchall()]

    def select(self, table: str, where: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Rows of ``table`` whose columns equal ``where`` (all rows when None), in rowid order."""
        t = self.table(table)
        cond = encode_row(t, dict(where or {}))
        sql = f"SELECT * FROM {quote(t.name)}"
        if cond:
            sql += " WHERE " + " AND ".join(f"{quote(k)} IS ?" for k in cond)
        cur = self.conn.execute(sql + " ORDER BY rowid", list(cond.values()))
        return self._decode(t, cur)

    def get(self, table: str, key: Any) -> dict[str, Any] | None:
        """The row with primary key ``key`` (a value, or a mapping for composite keys)."""
        t = self.table(table)
        rows = self.select(table, self._key(t, key))
        return rows[0] if rows else None

    def insert(self, table: str, row: Mapping[str, Any]) -> dict[str, Any]:
        """Insert ``row``; return it as stored.

        Raises:
            sqlite3.IntegrityError: the key exists or a constraint fails.
        """
        t = self.table(table)
        values = encode_row(t, dict(row))
        cols = ", ".join(quote(k) for k in values)
        marks = ", ".join("?" for _ in values)
        cur = self.conn.execute(
            f"INSERT INTO {quote(t.name)} ({cols}) VALUES ({marks})", list(values.values())
        )
        stored = self.conn.execute(
            f"SELECT * FROM {quote(t.name)} WHERE rowid = ?", (cur.lastrowid,)
        )
        return self._decode(t, stored)[0]

    def update(self, table: str, key: Any, changes: Mapping[str, Any]) -> dict[str, Any] | None:
        """Set ``changes`` on the row with key ``key``; return the updated row, None if absent."""
        t = self.table(table)
        where = self._key(t, key)
        values = encode_row(t, dict(changes))
        if values:
            sets = ", ".join(f"{quote(k)} = ?" for k in values)
            conds = " AND ".join(f"{quote(k)} IS ?" for k in where)
            self.conn.execute(
                f"UPDATE {quote(t.name)} SET {sets} WHERE {conds}",
                [*values.values(), *encode_row(t, where).values()],
            )
        return self.get(table, where)

    def delete(self, table: str, key: Any) -> bool:
        """Delete the row with key ``key``; whether there was one."""
        t = self.table(table)
        where = encode_row(t, self._key(t, key))
        conds = " AND ".join(f"{quote(k)} IS ?" for k in where)
        cur = self.conn.execute(f"DELETE FROM {quote(t.name)} WHERE {conds}", list(where.values()))
        return cur.rowcount > 0
