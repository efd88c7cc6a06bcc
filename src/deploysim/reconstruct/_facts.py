"""Initial-state facts about entities, pooled across traces, with provenance and conflicts.

An entity shown by a call is *initial state* when no earlier successful write of the same
trace touched it (a write touches every entity whose key appears in its arguments or its
result). Observations of the same entity from several traces are pooled field by field;
two that disagree are a :class:`~deploysim.reconstruct.Conflict`: the first is kept, the
other is reported, never merged silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from deploysim.reconstruct._calls import NOT_JSON, CallObs, TraceCalls
from deploysim.reconstruct._entities import EntityView, Key, Shown, shown
from deploysim.reconstruct._model import Conflict, short
from deploysim.reconstruct._names import scalars
from deploysim.snapshots import Provenance

__all__ = ["EntityFacts", "EntityId", "FactBook", "collect_facts", "failed", "touches"]

EntityId = tuple[str, Key]
_ERROR_TEXT = re.compile(r"^\s*(Error|ERROR|error)\b")


def failed(call: CallObs) -> bool:
    """The call failed: flagged as an error, or answered with error text (tau-bench style)."""
    return call.is_error or (call.value is NOT_JSON and bool(_ERROR_TEXT.match(call.output)))


def _top_level(value: Any) -> set[Any]:
    out: set[Any] = set()
    if isinstance(value, dict):
        for v in value.values():
            items = v if isinstance(v, list) else [v]
            out.update(x for x in items if isinstance(x, str | int) and not isinstance(x, bool))
    elif isinstance(value, str | int) and not isinstance(value, bool):
        out.add(value)
    return out


def touches(call: CallObs, key: Key) -> bool:
    """Whether a write call may have changed the entity keyed ``key``.

    It does when it names the key in its arguments, or in its result's own fields (an
    order's ``user_id``, a user's ``orders`` list), not when the key only appears deeper
    (the ``product_id`` of an order's items, which the write did not change).
    """
    if key in set(scalars(call.args)):
        return True
    if call.value is not NOT_JSON:
        return key in _top_level(call.value)
    return str(key) in call.output


@dataclass
class EntityFacts:
    """What the traces showed of one entity's initial state."""

    table: str
    key: Key
    fields: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Provenance] = field(default_factory=dict)
    """Field -> the observation that first showed it."""


@dataclass
class FactBook:
    """Initial-state facts of every entity, absent keys, known keys, conflicts."""

    entities: dict[EntityId, EntityFacts] = field(default_factory=dict)
    absent: dict[EntityId, Provenance] = field(default_factory=dict)
    """Keys a lookup answered 'not found' for, before any write touched them."""
    known: dict[str, set[Key]] = field(default_factory=dict)
    """Table -> keys known to exist (shown, or referenced by other entities and arguments)."""
    conflicts: list[Conflict] = field(default_factory=list)

    def observe(self, s: Shown, call: CallObs) -> None:
        """Pool one initial-state observation."""
        ident = (s.table, s.key)
        facts = self.entities.setdefault(ident, EntityFacts(s.table, s.key))
        prov = call.provenance(f"{call.tool} result")
        for name, value in s.fields.items():
            if name not in facts.fields:
                facts.fields[name] = value
                facts.provenance[name] = prov
            elif facts.fields[name] != value:
                self.conflicts.append(
                    Conflict(
                        subject=f"{s.table}[{s.key}].{name}",
                        kept=short(facts.fields[name]),
                        other=short(value),
                        kept_provenance=facts.provenance[name],
                        other_provenance=prov,
                        resolution="kept the first observation; the other is reported only",
                    )
                )
        self.known.setdefault(s.table, set()).add(s.key)

    def is_known(self, table: str, key: Key) -> bool:
        """Whether ``key`` is known to exist in ``table``."""
        return key in self.known.get(table, set())


def _initial_pass(
    tc: TraceCalls, views: Mapping[str, EntityView], writes: set[str]
) -> list[tuple[Shown | None, EntityId | None, CallObs]]:
    """(entity shown, key reported absent, call) for observations made before any write."""
    out: list[tuple[Shown | None, EntityId | None, CallObs]] = []
    done_writes: list[CallObs] = []
    for call in tc.calls:
        view = views.get(call.tool)
        if call.tool in writes:
            if not failed(call):
                done_writes.append(call)
            continue
        if view is None:
            continue
        s = shown(call, view)
        if s is not None:
            if not any(touches(w, s.key) for w in done_writes):
                out.append((s, None, call))
        elif failed(call) and view.key_arg and view.key_arg in call.args:
            key = call.args[view.key_arg]
            if isinstance(key, str | int) and not any(touches(w, key) for w in done_writes):
                out.append((None, (view.table, key), call))
    return out


def _references(book: FactBook, tables: set[str], key_columns: dict[str, str]) -> None:
    """Keys named by other entities' fields (``user_id``, ``reservations: [...]``) exist."""
    by_column = {col: table for table, col in key_columns.items()}
    for facts in list(book.entities.values()):
        for name, value in facts.fields.items():
            target = by_column.get(name) if name != key_columns.get(facts.table) else None
            if target is None and name in tables and name != facts.table:
                target = name
            if target is None:
                continue
            values = value if isinstance(value, list) else [value]
            for v in values:
                if isinstance(v, str | int) and not isinstance(v, bool):
                    book.known.setdefault(target, set()).add(v)


def collect_facts(
    traces: Iterable[TraceCalls], views: Mapping[str, EntityView], writes: set[str]
) -> FactBook:
    """Pool the initial-state observations of all traces."""
    book = FactBook()
    traces = list(traces)
    for tc in traces:
        for s, absent, call in _initial_pass(tc, views, writes):
            if s is not None:
                book.observe(s, call)
            elif absent is not None and absent not in book.entities:
                book.absent.setdefault(absent, call.provenance("not found"))
    tables = {v.table for v in views.values()}
    key_columns = {v.table: v.key_column for v in views.values()}
    for tc in traces:
        for call in tc.calls:
            view = views.get(call.tool)
            if view is None or failed(call):
                continue
            # A successful call on a key proves the entity existed; a write's result may
            # show an entity it created, which did not exist before.
            key = call.args.get(view.key_arg) if view.key_arg else None
            if isinstance(key, str | int) and not isinstance(key, bool):
                book.known.setdefault(view.table, set()).add(key)
            s = shown(call, view) if call.tool not in writes else None
            if s is not None:
                book.known.setdefault(s.table, set()).add(s.key)
    _references(book, tables, key_columns)
    for ident in list(book.absent):
        if ident in book.entities:
            del book.absent[ident]
    return book
