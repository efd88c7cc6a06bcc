"""Replay each trace's function calls over the initial facts to learn what writes did.

Each trace starts from the pooled initial state. A successful write sets the entity its result
shows; a later read that shows an entity changed since it was last seen is credited to the
most recent write that touched it (a hidden side effect, such as a gift-card balance). What
each write call did becomes a recorded :class:`Instance`: its arguments, the states of the
entities it touched before it ran (its preconditions) and the rows it left (its patches).
Replayed in the same order from the same state, those instances rebuild every state the
original agent saw.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from deploysim.reconstruct._calls import NOT_JSON, CallObs, TraceCalls
from deploysim.reconstruct._entities import EntityView, Key, shown
from deploysim.reconstruct._facts import EntityId, FactBook, failed, touches
from deploysim.reconstruct._names import scalars

__all__ = ["UNKNOWN", "Instance", "ReadCheck", "Simulation", "merge", "simulate"]


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()
"""The state of an entity nothing showed."""

Row = dict[str, Any]


def merge(base: Row | None, fields: Mapping[str, Any], view: EntityView) -> Row:
    """``base`` updated with what a tool showed; fields the tool prints but left out are null."""
    out: Row = dict(base or {})
    for name in view.order:
        out[name] = fields.get(name)
    for name, value in fields.items():
        out[name] = value
    return out


def _norm(row: Row | None) -> Row | None:
    return None if row is None else {k: v for k, v in row.items() if v is not None}


@dataclass
class Instance:
    """One recorded call of a write tool (or a read whose answer must be kept verbatim)."""

    call: CallObs
    pre: dict[EntityId, Row | None] = field(default_factory=dict)
    """Known states (None: absent) of the entities it touched, just before it ran."""
    target: EntityId | None = None
    patches: dict[EntityId, Row | None] = field(default_factory=dict)
    """Entity -> its row after this call (None: deleted), in the order they were learned."""

    @property
    def side_effects(self) -> list[EntityId]:
        """Entities changed besides the target."""
        return [e for e in self.patches if e != self.target]


class ReadCheck(NamedTuple):
    """A read to verify once tables exist: the call, its view, the row it should render."""

    call: CallObs
    view: EntityView
    row: Row


@dataclass
class Simulation:
    """What replaying the traces over the initial facts taught."""

    writes: dict[str, list[Instance]] = field(default_factory=lambda: defaultdict(list))
    reads: list[ReadCheck] = field(default_factory=list)
    unexplained: list[tuple[CallObs, EntityId]] = field(default_factory=list)
    """Reads that showed an entity changed with no write of the trace touching it."""


class _State:
    def __init__(self, book: FactBook, index: dict[Key, set[str]]) -> None:
        self.book = book
        self.index = index
        self.rows: dict[EntityId, Row | None] = {}

    def get(self, ident: EntityId) -> Any:
        if ident in self.rows:
            return self.rows[ident]
        facts = self.book.entities.get(ident)
        if facts is not None:
            return dict(facts.fields)
        return None if ident in self.book.absent else UNKNOWN

    def touched(self, call: CallObs) -> list[EntityId]:
        values = set(scalars(call.args))
        if call.value is not NOT_JSON:
            values |= set(scalars(call.value))
        return [(t, v) for v in values for t in sorted(self.index.get(v, ()))]


def _write(state: _State, call: CallObs, view: EntityView | None) -> Instance:
    inst = Instance(call)
    for ident in state.touched(call):
        pre = state.get(ident)
        if pre is not UNKNOWN:
            inst.pre[ident] = pre
    if failed(call) or view is None:
        return inst
    s = shown(call, view)
    if s is None:
        return inst
    ident = (s.table, s.key)
    base = state.get(ident)
    if ident not in inst.pre and base is not UNKNOWN:
        inst.pre[ident] = base
    post = merge(base if isinstance(base, dict) else None, s.fields, view)
    inst.target = ident
    inst.patches[ident] = post
    state.rows[ident] = post
    state.index.setdefault(s.key, set()).add(s.table)
    return inst


def _credit(recent: list[Instance], ident: EntityId, row: Row | None) -> bool:
    for inst in reversed(recent):
        if not failed(inst.call) and touches(inst.call, ident[1]):
            inst.patches[ident] = row
            return True
    return False


def _read(
    sim: Simulation, state: _State, recent: list[Instance], call: CallObs, view: EntityView
) -> None:
    s = shown(call, view)
    if s is None:
        key = call.args.get(view.key_arg) if view.key_arg else None
        if (
            failed(call)
            and isinstance(key, str | int)
            and isinstance(state.get((view.table, key)), dict)
            and _credit(recent, (view.table, key), None)  # a lookup now says "not found": deleted
        ):
            state.rows[(view.table, key)] = None
        return
    ident = (s.table, s.key)
    predicted = state.get(ident)
    row = merge(predicted if isinstance(predicted, dict) else None, s.fields, view)
    if _norm(row) != _norm(predicted if isinstance(predicted, dict) else None):
        if _credit(recent, ident, row):
            state.rows[ident] = row
        elif isinstance(predicted, dict):
            sim.unexplained.append((call, ident))
    sim.reads.append(ReadCheck(call, view, row))


def simulate(
    traces: Iterable[TraceCalls],
    views: Mapping[str, EntityView],
    writes: set[str],
    book: FactBook,
    tools: set[str],
) -> Simulation:
    """Replay every trace's calls of ``tools`` over the initial facts."""
    sim = Simulation()
    base_index: dict[Key, set[str]] = defaultdict(set)
    for table, keys in book.known.items():
        for k in keys:
            base_index[k].add(table)
    for table, key in book.absent:
        base_index[key].add(table)
    for tc in traces:
        state = _State(book, {k: set(v) for k, v in base_index.items()})
        recent: list[Instance] = []
        for call in tc.calls:
            if call.tool not in tools:
                continue
            view = views.get(call.tool)
            if call.tool in writes:
                inst = _write(state, call, view)
                sim.writes[call.tool].append(inst)
                recent.append(inst)
            elif view is not None:
                _read(sim, state, recent, call, view)
    return sim
