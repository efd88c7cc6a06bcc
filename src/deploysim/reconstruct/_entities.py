"""Entities in function-tool results: which tools show which entity, keyed how.

A JSON object returned by a tool is an *entity* when it carries an id field (the first field
named ``id`` or ``*_id``: ``{"order_id": "#W1", ...}`` is an order), or, when it has none,
when the call named exactly one id argument (tau-bench's ``get_user_details(user_id)``
returns the profile without the id). The id field names the table: ``order_id`` ->
``orders``. How a tool shows its entity (which argument gives the key, whether the key is in
the output, field order, whether null fields are left out) is an :class:`EntityView`; the
same view renders rows back into the tool's exact output.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any, NamedTuple

from deploysim.reconstruct._calls import CallObs
from deploysim.reconstruct._names import is_id_name, table_for_key
from deploysim.reconstruct._views import EntityView, full_row, merge_order, render

__all__ = [
    "EntityView",
    "Shown",
    "discover_views",
    "full_row",
    "merge_order",
    "render",
    "shown",
]

Key = str | int


class Shown(NamedTuple):
    """An entity a call showed: table, key and the fields shown."""

    table: str
    key: Key
    fields: dict[str, Any]


def _first_id_field(value: dict[str, Any]) -> str | None:
    for k, v in value.items():
        if is_id_name(k) and isinstance(v, str | int) and not isinstance(v, bool):
            return k
    return None


def _id_args(calls: list[CallObs]) -> set[str]:
    names: set[str] | None = None
    for c in calls:
        here = {a for a, v in c.args.items() if is_id_name(a) and isinstance(v, str | int)}
        names = here if names is None else names & here
    return names or set()


def _view(tool: str, calls: list[CallObs]) -> EntityView | None:
    objects = [c for c in calls if isinstance(c.value, dict) and c.value and not c.is_error]
    if not objects:
        return None
    fields = {_first_id_field(c.value) for c in objects}
    if len(fields) != 1:
        return None
    field = fields.pop()
    if field is None:
        ids = _id_args(objects)
        if len(ids) != 1:
            return None
        arg = ids.pop()
        order = merge_order([[arg, *c.value] for c in objects])
        return EntityView(tool, table_for_key(arg), arg, arg, False, order[1:], [])
    key_arg = next(
        (
            a
            for a in sorted(_id_args(objects), key=lambda a: a != field)
            if all(c.args.get(a) == c.value[field] for c in objects)
        ),
        None,
    )
    order = merge_order([list(c.value) for c in objects])
    return EntityView(tool, table_for_key(field), field, key_arg, True, order, [])


def _omit_nulls(view: EntityView, calls: list[CallObs], columns: set[str]) -> list[str]:
    """Fields some outputs of the tool leave out while others show them."""
    seen_absent: set[str] = set()
    seen_null: set[str] = set()
    for c in calls:
        if not isinstance(c.value, dict) or c.is_error:
            continue
        for f in columns:
            if f == view.key_column and not view.key_in_output:
                continue
            if f not in c.value:
                seen_absent.add(f)
            elif c.value[f] is None:
                seen_null.add(f)
    return sorted(seen_absent - seen_null)


def discover_views(by_tool: Mapping[str, list[CallObs]]) -> dict[str, EntityView]:
    """The entity view of every tool whose results are entities."""
    views = {t: v for t, calls in by_tool.items() if (v := _view(t, calls)) is not None}
    columns: dict[str, set[str]] = defaultdict(set)
    for v in views.values():
        columns[v.table].update(v.order)
    return {
        t: v._replace(omit_nulls=_omit_nulls(v, list(by_tool[t]), columns[v.table]))
        for t, v in views.items()
    }


def shown(call: CallObs, view: EntityView) -> Shown | None:
    """The entity ``call`` showed through ``view``, or None (an error, or not an object)."""
    value = call.value
    if call.is_error or not isinstance(value, dict) or not value:
        return None
    if view.key_in_output:
        key = value.get(view.key_column)
        if not isinstance(key, str | int) or isinstance(key, bool):
            return None
        return Shown(view.table, key, dict(value))
    key = call.args.get(view.key_arg or "")
    if not isinstance(key, str | int) or isinstance(key, bool):
        return None
    return Shown(view.table, key, {view.key_column: key, **value})
