"""Entity facts as snapshot tables: columns, types, rows, and the provenance of every row.

Columns are every field any tool showed, in the order the tools print them (the key first).
A column is TEXT or INTEGER when every value it ever holds (initial rows and the rows writes
leave) is a string or an integer; anything else is a JSON column, so that every value comes
back from SQLite exactly as it went in (``60.0`` stays a float, ``true`` a boolean), which
the tools' exact outputs need.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from deploysim.reconstruct._entities import EntityView, full_row, merge_order
from deploysim.reconstruct._facts import FactBook
from deploysim.reconstruct._simulate import Simulation
from deploysim.snapshots import Column, Provenance, Table
from deploysim.snapshots._model import ColumnType

__all__ = ["TablePlan", "plan_tables"]


class TablePlan(NamedTuple):
    """A table to write, with its rows (full, in first-seen order)."""

    table: Table
    columns: list[str]
    rows: list[dict[str, Any]]


def _type(values: Iterable[Any], key: bool) -> ColumnType:
    seen = [v for v in values if v is not None]
    if seen and all(isinstance(v, str) for v in seen):
        return "TEXT"
    if seen and all(isinstance(v, int) and not isinstance(v, bool) for v in seen):
        return "INTEGER"
    return "TEXT" if key or not seen else "JSON"


def _row_provenance(book: FactBook, table: str) -> list[Provenance]:
    """One provenance per (entity, observation): fields grouped by the call that showed them."""
    out: list[Provenance] = []
    for (t, key), facts in book.entities.items():
        if t != table:
            continue
        groups: dict[tuple[Any, ...], list[str]] = defaultdict(list)
        for name, prov in facts.provenance.items():
            groups[(prov.trace_id, prov.message_index, prov.call_id, prov.detail)].append(name)
        single = len(groups) == 1
        for (trace_id, message_index, call_id, detail), names in groups.items():
            what = f"{table}[{key}]" if single else f"{table}[{key}] {', '.join(names)}"
            out.append(
                Provenance(
                    source="trace",
                    trace_id=trace_id,
                    message_index=message_index,
                    call_id=call_id,
                    detail=f"{what} ({detail})" if detail else what,
                )
            )
    return out


def plan_tables(
    book: FactBook,
    sim: Simulation,
    views: Mapping[str, EntityView],
    listed: Mapping[str, str] | None = None,
) -> dict[str, TablePlan]:
    """One table per entity type seen (``listed``: table -> key of list-item entities)."""
    by_table: dict[str, list[EntityView]] = defaultdict(list)
    for v in views.values():
        by_table[v.table].append(v)
    keys = {t: vs[0].key_column for t, vs in by_table.items()}
    for table, key in (listed or {}).items():
        keys.setdefault(table, key)
        by_table.setdefault(table, [])
    written: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for instances in sim.writes.values():
        for inst in instances:
            for (t, _), row in inst.patches.items():
                if row is not None:
                    written[t].append(row)
    plans: dict[str, TablePlan] = {}
    for table, tviews in sorted(by_table.items()):
        key = keys[table]
        rows = [f.fields for (t, _), f in book.entities.items() if t == table]
        orders = [[key, *v.order] for v in tviews]
        orders += [list(r) for r in rows] + [list(r) for r in written[table]]
        names = merge_order(orders)
        names.remove(key)
        names.insert(0, key)
        all_rows = rows + written[table]
        columns = [
            Column(
                name=n,
                type=_type((r.get(n) for r in all_rows), n == key),
                nullable=n != key,
            )
            for n in names
        ]
        tbl = Table(
            name=table,
            columns=columns,
            primary_key=[key],
            provenance=_row_provenance(book, table),
        )
        plans[table] = TablePlan(tbl, names, [full_row(r, names) for r in rows])
    return plans
