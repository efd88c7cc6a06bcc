"""Entities inside list results (search results): their stable fields become rows.

``search_direct_flight`` answers a list of flights; each item carries an id-like field
(``flight_number``) and fields of two sorts: the flight's own (origin, scheduled times), the
same in every result showing it, and fields that depend on the call (status, seats and
prices of the searched date), which differ between results showing the same flight. A field
seen to differ for any entity of a table is dropped for the whole table: it describes the
call, not the entity. So is a field only some results show, and one with the same value in
every result (the search's own filter). A table of fewer than three such entities is not
kept: too few to tell the entity's fields from the call's. The remaining fields are initial
state (observations made after a write of the trace touched the entity are left out, as
everywhere).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from deploysim.reconstruct._calls import CallObs, TraceCalls
from deploysim.reconstruct._facts import FactBook, failed, touches
from deploysim.reconstruct._names import canon, plural
from deploysim.reconstruct._views import EntityView

__all__ = ["list_entities"]

_ID_LIKE = re.compile(r"^(id|\w+_(id|number|code|key))$")
_MIN_ENTITIES = 3
"""Fewer entities than this cannot tell an entity's fields from the call's."""


def _items(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        for v in value:
            if isinstance(v, dict):
                yield v
            elif isinstance(v, list):
                yield from (x for x in v if isinstance(x, dict))


def _key_field(items: list[dict[str, Any]]) -> str | None:
    firsts = set()
    for item in items:
        name = next(
            (k for k, v in item.items() if _ID_LIKE.match(k) and isinstance(v, str | int)), None
        )
        firsts.add(name)
    return firsts.pop() if len(firsts) == 1 else None


def _table(field: str) -> str:
    return plural(re.sub(r"_(id|number|code|key)$", "", field)) if field != "id" else "items"


def list_entities(
    traces: Iterable[TraceCalls],
    views: Mapping[str, EntityView],
    writes: set[str],
    book: FactBook,
) -> dict[str, tuple[str, list[str]]]:
    """Pool list-item entities into ``book``; return table -> (key column, dropped fields)."""
    seen: dict[tuple[str, Any], list[tuple[dict[str, Any], CallObs]]] = defaultdict(list)
    keys: dict[str, str] = {}
    for tc in traces:
        done: list[CallObs] = []
        for call in tc.calls:
            if call.tool in writes:
                if not failed(call):
                    done.append(call)
                continue
            if call.tool in views or failed(call):
                continue
            items = list(_items(call.value))
            field = _key_field(items) if items else None
            if field is None:
                continue
            table = _table(field)
            if keys.setdefault(table, field) != field:
                continue
            for item in items:
                key = item[field]
                if not any(touches(w, key) for w in done):
                    seen[(table, key)].append((item, call))
    varying: dict[str, set[str]] = defaultdict(set)
    shown_by_all: dict[str, set[str]] = {}
    for (table, _), observations in seen.items():
        names = {n for item, _ in observations for n in item}
        for item, _ in observations:
            present = set(item)
            shown_by_all[table] = shown_by_all.get(table, present) & present
        for n in names:
            if len({canon(item.get(n)) for item, _ in observations}) > 1:
                varying[table].add(n)
    values: dict[tuple[str, str], set[str]] = defaultdict(set)
    entities: dict[str, int] = defaultdict(int)
    for (table, _), observations in seen.items():
        # A field only some results show (a date added by one search) belongs to the call.
        varying[table] |= {n for item, _ in observations for n in item} - shown_by_all[table]
        entities[table] += 1
        for item, _ in observations:
            for n, v in item.items():
                values[(table, n)].add(canon(v))
    for (table, n), distinct in values.items():
        # The same value for every entity (status "available" in every search result) is
        # what the search filtered on, not something learned about each entity.
        if len(distinct) == 1 and n != keys[table]:
            varying[table].add(n)
    for table in [t for t, n in entities.items() if n < _MIN_ENTITIES]:
        keys.pop(table)
    from deploysim.reconstruct._entities import Shown

    for (table, key), observations in seen.items():
        if table not in keys:
            continue
        for item, call in observations:
            fields = {n: v for n, v in item.items() if n not in varying[table]}
            book.observe(Shown(table, key, fields), call)
    return {t: (f, sorted(varying[t])) for t, f in keys.items()}
