"""One rule for SQL names (tables and columns) and for the file names derived from them.

Names are data: every SQL statement deploysim builds quotes them with
:func:`quote_identifier`, so a name may hold quotes, spaces, brackets or semicolons. Refused
are only the names SQLite cannot hold or that would collide:

- empty names and names with NUL (SQLite ends the name there);
- names that are not valid Unicode text (lone surrogates cannot be stored as UTF-8);
- names beginning with ``sqlite_`` in any case (reserved for SQLite's own tables);
- two names of one table (columns) or one database (tables) that differ only in ASCII case:
  SQLite compares identifiers ignoring ASCII case, so ``Orders`` and ``orders`` are one table.

::

    identifier_problem("order items")   # None: quoted, it is a fine name
    identifier_problem("sqlite_stat1")  # "names beginning with 'sqlite_' are reserved ..."
    rows_file_name("shop", "../x")      # 'shop/x-5a1c3f0b.jsonl': safe for any table name
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

__all__ = [
    "fold_identifier",
    "identifier_collisions",
    "identifier_problem",
    "quote_identifier",
    "rows_file_name",
]

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def quote_identifier(name: str) -> str:
    """An SQL identifier (table or column name), double-quoted with inner quotes doubled.

    Every SQL statement deploysim builds from a snapshot's or an agent's names goes through
    this one function, so a hostile name is data, never SQL.
    """
    return '"' + name.replace('"', '""') + '"'


def fold_identifier(name: str) -> str:
    """``name`` as SQLite compares it: ASCII letters folded to lower case, nothing else."""
    return name.translate(_ASCII_LOWER)


def identifier_problem(name: str) -> str | None:
    """Why SQLite cannot hold ``name`` as a table or column name, or None when it can."""
    if not name:
        return "names must not be empty"
    if "\x00" in name:
        return "names must not hold NUL characters"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "names must be valid Unicode text"
    if fold_identifier(name).startswith("sqlite_"):
        return "names beginning with 'sqlite_' are reserved for SQLite's own tables"
    return None


def identifier_collisions(names: Iterable[str]) -> list[list[str]]:
    """Groups of names SQLite takes for the same one (equal but for ASCII case)."""
    groups: dict[str, list[str]] = {}
    for n in names:
        groups.setdefault(fold_identifier(n), []).append(n)
    return [g for g in groups.values() if len(g) > 1]


def rows_file_name(database: str, table: str) -> str:
    """The rows file of ``table`` under ``databases/``: a safe file name for any table name.

    Plain names keep their own (``shop/orders.jsonl``); others get a slug and a short hash,
    so two names never share a file and no name can point outside the folder.
    """
    slug = _SAFE.sub("-", table).strip(".-") or "table"
    if slug != table:
        slug = f"{slug}-{hashlib.sha256(table.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
    return f"{_SAFE.sub('-', database).strip('.-') or 'db'}/{slug}.jsonl"
