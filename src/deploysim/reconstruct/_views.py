"""How a tool shows an entity, and rendering rows back into the tool's exact output.

Kept free of other deploysim imports: the generated handler modules use it inside the
services sidecar, which has only the sidecar's libraries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

__all__ = ["EntityView", "full_row", "merge_order", "render"]


class EntityView(NamedTuple):
    """How one tool shows entities of one table."""

    tool: str
    table: str
    key_column: str
    key_arg: str | None
    """The argument whose value is the entity's key (None: the tool creates the entity)."""
    key_in_output: bool
    order: list[str]
    """Fields in the order the tool prints them (the key first when it is shown)."""
    omit_nulls: list[str]
    """Fields the tool leaves out when they are null (seen absent in some of its outputs)."""


def merge_order(orders: Iterable[list[str]]) -> list[str]:
    """One field order consistent with several: each new field goes after its predecessor."""
    out: list[str] = []
    for order in orders:
        prev: str | None = None
        for f in order:
            if f not in out:
                out.insert(out.index(prev) + 1 if prev is not None else len(out), f)
            prev = f
    return out


def render(view: EntityView, row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as the tool shows it: its field order, its key and null conventions."""
    out: dict[str, Any] = {}
    names = [*view.order, *(c for c in row if c not in view.order)]
    for name in names:
        if name == view.key_column and not view.key_in_output:
            continue
        if name not in row:
            continue
        value = row[name]
        if value is None and (name in view.omit_nulls or name not in view.order):
            continue
        out[name] = value
    return out


def full_row(row: Mapping[str, Any], columns: list[str]) -> dict[str, Any]:
    """A row with every column of its table (null where it has none), in column order."""
    return {c: row.get(c) for c in columns}
