"""State diff: the candidate pod's end state against the original's.

Both end states are changes relative to the same starting pod (the snapshot, then the
prefix's state-changing calls re-executed), so the prefix's effects cancel and what is left
is what the two continuations did differently. The reference is the end state of the
``original``-mode replay of the same (trace, cut): the original's own calls re-executed in a
twin pod. Without one, the candidate's end state is itemized against the pod's start (prefix
effects included), and the result says so.

Items: ``+`` a change only the candidate made, ``-`` a change only the original made, ``~``
both changed the thing, differently. Compared: files (by path: change, content, mode),
workspace rows and services rows (by database, table and primary key: the row after), and
the services' write requests after the hand-over (as a multiset of tool or method and path,
with the normalized body).

What capture could not compare is left out and named, never itemized: a table it noted
(``capture_notes`` of kind ``table_rows`` or a database kind, on either side) gives no row
items, since its rows are absent, not deleted; a body the services kept only the start of
keys its request by size and hash.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from deploysim.graders._normalize import normalize_value
from deploysim.replay import EndState, ReplayRecord
from deploysim.traces import ToolEffect

__all__ = ["StateDiffResult", "StateItem", "state_diff", "write_requests"]

ItemKind = Literal["file", "row", "service_row", "request"]
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_VALUE_LIMIT = 60


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StateItem(_Model):
    """One difference between the two end states."""

    kind: ItemKind
    sign: Literal["+", "-", "~"]
    key: str = Field(description="Path, 'db.table[key]', or the request.")
    detail: str = ""

    def render(self) -> str:
        """One line for ``SampleGrade.state_diff``."""
        return f"{self.sign} {self.kind} {self.key}" + (f": {self.detail}" if self.detail else "")


class StateDiffResult(_Model):
    """The state-diff grader's result for one sample."""

    compared: bool = Field(description="False when the candidate's end state was not captured.")
    reference: Literal["original_replay", "none"]
    note: str = ""
    items: list[StateItem] = Field(default_factory=list)
    not_compared: list[str] = Field(
        default_factory=list,
        description="Tables or databases capture noted as not compared, on either side.",
    )

    @property
    def counts(self) -> dict[str, int]:
        """Items per kind."""
        return dict(Counter(i.kind for i in self.items))

    def summary(self) -> str:
        """One line for explanations."""
        if not self.compared:
            return f"no state diff: {self.note}"
        against = (
            "the original's end state (its calls re-executed in a twin pod)"
            if self.reference == "original_replay"
            else "the pod's start (no original-mode replay of this prefix was given; "
            "prefix effects included)"
        )
        skipped = f"; not compared: {', '.join(self.not_compared)}" if self.not_compared else ""
        if not self.items:
            return f"same end state as {against}{skipped}"
        counts = ", ".join(f"{n} {k}" for k, n in sorted(self.counts.items()))
        return f"{len(self.items)} differences ({counts}) against {against}{skipped}"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _VALUE_LIMIT else text[: _VALUE_LIMIT - 3] + "..."


def _row_key(r: dict[str, Any]) -> str:
    key = r.get("key") or {}
    inner = ",".join(str(v) for v in key.values()) if isinstance(key, dict) else str(key)
    return f"{r.get('database')}.{r.get('table')}[{inner}]"


def _row_detail(r: dict[str, Any]) -> str:
    change = r.get("change")
    if change != "modified":
        return str(change)
    before, after = r.get("before") or {}, r.get("after") or {}
    cols = r.get("columns") or sorted(
        k for k in set(before) | set(after) if before.get(k) != after.get(k)
    )
    return "; ".join(f"{c}: {_short(before.get(c))} -> {_short(after.get(c))}" for c in cols)


def _rows(
    kind: ItemKind, cand: list[dict[str, Any]], ref: list[dict[str, Any]] | None
) -> list[StateItem]:
    c = {_row_key(r): r for r in cand}
    if ref is None:
        return [StateItem(kind=kind, sign="+", key=k, detail=_row_detail(r)) for k, r in c.items()]
    o = {_row_key(r): r for r in ref}
    out: list[StateItem] = []
    for k in sorted(set(c) | set(o)):
        a, b = c.get(k), o.get(k)
        if a is not None and b is None:
            out.append(StateItem(kind=kind, sign="+", key=k, detail=_row_detail(a)))
        elif b is not None and a is None:
            out.append(StateItem(kind=kind, sign="-", key=k, detail="original: " + _row_detail(b)))
        elif a is not None and b is not None:
            after_a, after_b = a.get("after") or {}, b.get("after") or {}
            if a.get("change") == b.get("change") and normalize_value(after_a) == normalize_value(
                after_b
            ):
                continue
            cols = sorted(
                x for x in set(after_a) | set(after_b) if after_a.get(x) != after_b.get(x)
            )
            detail = (
                "; ".join(
                    f"{x}: {_short(after_a.get(x))} (original: {_short(after_b.get(x))})"
                    for x in cols
                )
                or f"{a.get('change')} (original: {b.get('change')})"
            )
            out.append(StateItem(kind=kind, sign="~", key=k, detail=detail))
    return out


def _file_sig(f: dict[str, Any]) -> tuple[Any, ...]:
    return (f.get("change"), f.get("after"), f.get("mode_after"), f.get("kind"))


def _files(cand: list[dict[str, Any]], ref: list[dict[str, Any]] | None) -> list[StateItem]:
    c = {str(f.get("path")): f for f in cand}
    if ref is None:
        return [
            StateItem(kind="file", sign="+", key=p, detail=str(f.get("change")))
            for p, f in c.items()
        ]
    o = {str(f.get("path")): f for f in ref}
    out: list[StateItem] = []
    for p in sorted(set(c) | set(o)):
        a, b = c.get(p), o.get(p)
        if a is not None and b is None:
            out.append(StateItem(kind="file", sign="+", key=p, detail=str(a.get("change"))))
        elif b is not None and a is None:
            out.append(
                StateItem(kind="file", sign="-", key=p, detail=f"original: {b.get('change')}")
            )
        elif a is not None and b is not None and _file_sig(a) != _file_sig(b):
            what = []
            if a.get("change") != b.get("change"):
                what.append(f"{a.get('change')} (original: {b.get('change')})")
            if a.get("after") != b.get("after"):
                what.append("content differs")
            if a.get("mode_after") != b.get("mode_after"):
                what.append(f"mode {a.get('mode_after')} (original: {b.get('mode_after')})")
            out.append(StateItem(kind="file", sign="~", key=p, detail="; ".join(what) or "differs"))
    return out


def write_requests(state: EndState, effects: dict[str, ToolEffect]) -> list[str]:
    """The services' write requests after the hand-over, rendered as comparable keys.

    A function-tool request is a write unless its tool is declared ``read``; an HTTP request
    unless its method is GET, HEAD or OPTIONS. Refused requests (an error, a status of 400 or
    more) changed nothing and are left out.
    """
    out: list[str] = []
    for entry in state.services_log[state.services_log_prefix_entries :]:
        if entry.get("is_error") or int(entry.get("status", 200)) >= 400:
            continue  # refused: no side effect
        tool = entry.get("tool")
        if tool:
            if effects.get(str(tool), "unknown") == "read":
                continue
            what = f"{tool}"
        else:
            method = str(entry.get("method", "GET")).upper()
            if method in _READ_METHODS:
                continue
            what = f"{method} {entry.get('host', '')}{entry.get('path', '')}"
        out.append(what + _body_key(entry))
    return out


def _body_key(entry: dict[str, Any]) -> str:
    """The body as it keys a request: normalized, or by hash when the log kept only a prefix.

    Two long bodies that share their first bytes are different requests; the prefix alone
    would make them look the same.
    """
    if entry.get("body_truncated"):
        digest = entry.get("body_sha256") or "unread"
        return f" <{entry.get('body_size')} bytes, sha256 {str(digest)[:16]}>"
    body = entry.get("body")
    return f" {_short(normalize_value(body))}" if body not in (None, "", {}) else ""


def _requests(cand: list[str], ref: list[str] | None) -> list[StateItem]:
    if ref is None:
        return [StateItem(kind="request", sign="+", key=k) for k in cand]
    a, b = Counter(cand), Counter(ref)
    return [StateItem(kind="request", sign="+", key=k) for k in (a - b).elements()] + [
        StateItem(kind="request", sign="-", key=k) for k in (b - a).elements()
    ]


# Not row_changes: its table was compared and the changes kept are real, only not all listed.
_UNCOMPARED_KINDS = frozenset({"table_rows", "database_unreadable", "database_size", "not_regular"})


def _not_compared(*states: EndState | None) -> list[str]:
    """'db.table' (or database) paths capture noted as not compared, in either end state."""
    out = {
        str(n.get("path"))
        for s in states
        if s is not None
        for n in s.capture_notes
        if n.get("kind") in _UNCOMPARED_KINDS and n.get("path")
    }
    return sorted(out)


def _compared(item: StateItem, skipped: list[str]) -> bool:
    if item.kind not in ("row", "service_row"):
        return True
    table = item.key.split("[", 1)[0]
    database = table.split(".", 1)[0]
    return table not in skipped and database not in skipped


def _effects(*records: ReplayRecord | None) -> dict[str, ToolEffect]:
    out: dict[str, ToolEffect] = {}
    for rec in records:
        for s in (rec.candidate + rec.original) if rec is not None else []:
            if s.tool and s.effect:
                out.setdefault(s.tool, s.effect)
    return out


def state_diff(record: ReplayRecord, reference: ReplayRecord | None = None) -> StateDiffResult:
    """Compare the candidate's end state with the reference's (or itemize it alone)."""
    cand = record.end_state
    if not cand.captured:
        return StateDiffResult(compared=False, reference="none", note=cand.reason or "not captured")
    ref = reference.end_state if reference is not None else None
    note = ""
    if reference is not None and ref is not None and not ref.captured:
        note = f"the original's end state was not captured ({ref.reason}); itemized alone"
        ref = None
    effects = _effects(record, reference)
    items = [
        *_files(cand.files, ref.files if ref else None),
        *_rows("row", cand.rows, ref.rows if ref else None),
        *_rows("service_row", cand.services_rows, ref.services_rows if ref else None),
        *_requests(write_requests(cand, effects), write_requests(ref, effects) if ref else None),
    ]
    skipped = _not_compared(cand, ref)
    return StateDiffResult(
        compared=True,
        reference="original_replay" if ref is not None else "none",
        note=note,
        items=[i for i in items if _compared(i, skipped)],
        not_compared=skipped,
    )
