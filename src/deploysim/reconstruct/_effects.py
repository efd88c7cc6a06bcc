"""Learn a write tool's effect on its entity from its recorded calls, when it generalizes.

Each recorded write with a known state before it and a result showing the entity after it is
a (before, arguments, after) example. For every column the learner looks for one rule that
explains every example, trying in order: unchanged; set from an argument (possibly sorted);
an object built from arguments (an address from ``address1``, ``city`` ...); a constant
(``status = "cancelled"``). A constant transition also becomes a guard: the write is only
generalized from the states it was seen to start from (``status`` was ``"pending"``), and a
recorded error from another state is replayed for that state. A write that changed anything
else (a side effect on another entity, a computed amount) is not generalized: its recorded
calls still replay, and other calls of it are left unanswered rather than guessed.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from deploysim.reconstruct._entities import EntityView, full_row, render
from deploysim.reconstruct._facts import failed
from deploysim.reconstruct._names import canon
from deploysim.reconstruct._simulate import Instance

__all__ = ["learn_rule"]


class Example(NamedTuple):
    """One recorded write: the entity before, the arguments, the entity after."""

    before: dict[str, Any]
    args: dict[str, Any]
    after: dict[str, Any]
    instance: Instance


def _same(a: Any, b: Any) -> bool:
    return canon(a) == canon(b)


def _source(prefer: str, pairs: list[tuple[Any, dict[str, Any]]]) -> dict[str, Any] | None:
    """The argument every (value, arguments) pair took its value from (maybe sorted)."""
    names = set.intersection(*(set(args) for _, args in pairs))
    for name in sorted(names, key=lambda n: (n != prefer, n)):
        if all(_same(value, args[name]) for value, args in pairs):
            return {"kind": "arg", "arg": name}
        lists = [args[name] for _, args in pairs]
        scalar_lists = all(
            isinstance(v, list) and all(isinstance(x, str | int) for x in v) for v in lists
        )
        if scalar_lists and all(_same(value, sorted(args[name])) for value, args in pairs):
            return {"kind": "arg", "arg": name, "sorted": True}
    return None


def _compose_rule(column: str, examples: list[Example]) -> dict[str, Any] | None:
    afters = [ex.after.get(column) for ex in examples]
    if not all(isinstance(a, dict) for a in afters):
        return None
    keys = [list(a) for a in afters if isinstance(a, dict)]
    if any(k != keys[0] for k in keys):
        return None
    fields: dict[str, dict[str, str]] = {}
    for k in keys[0]:
        src = _source(k, [(ex.after[column][k], ex.args) for ex in examples])
        if src is not None and "sorted" not in src:
            fields[k] = {"arg": src["arg"]}
        elif all(
            _same((ex.before.get(column) or {}).get(k), ex.after[column][k]) for ex in examples
        ):
            fields[k] = {}
        else:
            return None
    if not any(fields.values()):
        return None
    return {"kind": "compose", "fields": fields}


def _column_rule(column: str, examples: list[Example]) -> dict[str, Any] | bool | None:
    """The rule for ``column``: a dict, None when unchanged, False when nothing explains it."""
    if all(_same(ex.before.get(column), ex.after.get(column)) for ex in examples):
        return None
    rule = _source(column, [(ex.after.get(column), ex.args) for ex in examples])
    if rule is None:
        rule = _compose_rule(column, examples)
    if rule is not None:
        return rule
    values = {canon(ex.after.get(column)) for ex in examples}
    # Only labels can be constants (a status, a flag): a number, list or object set to the
    # same value in every example (an amount, a payment history) is computed, not a rule.
    value = examples[0].after.get(column)
    if len(values) == 1 and (value is None or isinstance(value, str | bool)):
        return {"kind": "const", "value": examples[0].after.get(column)}
    return False


def _guards(
    rules: dict[str, dict[str, Any]],
    examples: list[Example],
    failures: list[tuple[dict[str, Any], Instance]],
) -> list[dict[str, Any]]:
    guards = []
    for column, rule in rules.items():
        if rule["kind"] != "const":
            continue
        allowed: list[Any] = []
        for ex in examples:
            if ex.before.get(column) not in allowed:
                allowed.append(ex.before.get(column))
        errors = [
            {
                "value": before.get(column),
                "output": inst.call.output,
                "is_error": inst.call.is_error,
            }
            for before, inst in failures
            if before.get(column) not in allowed
        ]
        guards.append({"column": column, "allowed": allowed, "errors": errors})
    return guards


def learn_rule(
    view: EntityView | None, instances: list[Instance], columns: list[str]
) -> tuple[dict[str, Any] | None, str]:
    """The generalized effect of a write tool, or None and why not."""
    if view is None or view.key_arg is None:
        return None, "its result shows no entity keyed by an argument (it creates, or shows none)"
    examples: list[Example] = []
    failures: list[tuple[dict[str, Any], Instance]] = []
    for inst in instances:
        key = inst.call.args.get(view.key_arg)
        if not isinstance(key, str | int):
            continue
        ident: tuple[str, str | int] = (view.table, key)
        before = inst.pre.get(ident)
        if failed(inst.call):
            if isinstance(before, dict):
                failures.append((before, inst))
            continue
        if inst.side_effects:
            tables = sorted({t for t, _ in inst.side_effects})
            return None, f"it also changed {', '.join(tables)} (a side effect not learned)"
        after = inst.patches.get(ident)
        if isinstance(before, dict) and isinstance(after, dict):
            examples.append(
                Example(full_row(before, columns), inst.call.args, full_row(after, columns), inst)
            )
    if not examples:
        return None, "no call of it was seen with the entity's state known before it"
    rules: dict[str, dict[str, Any]] = {}
    for column in columns:
        if column == view.key_column:
            continue
        rule = _column_rule(column, examples)
        if rule is False:
            return None, f"how it changes {column!r} is not explained by its arguments"
        if isinstance(rule, dict):
            rules[column] = rule
    for ex in examples:
        if json.dumps(render(view, ex.after)) != ex.instance.call.output:
            return None, "its result is not the changed entity as the tool prints it"
    required = sorted({view.key_arg, *(r["arg"] for r in rules.values() if "arg" in r)})
    for r in rules.values():
        if r["kind"] == "compose":
            required = sorted(set(required) | {s["arg"] for s in r["fields"].values() if s})
    rule = {
        "key_arg": view.key_arg,
        "required": required,
        "set": rules,
        "guards": _guards(rules, examples, failures),
    }
    return rule, _describe(rules)


def _describe(rules: dict[str, dict[str, Any]]) -> str:
    parts = []
    for column, r in rules.items():
        if r["kind"] == "const":
            parts.append(f"{column}={r['value']!r}")
        elif r["kind"] == "arg":
            parts.append(
                f"{column}=sorted(${r['arg']})" if r.get("sorted") else f"{column}=${r['arg']}"
            )
        else:
            inner = ", ".join(f"{k}=${s['arg']}" for k, s in r["fields"].items() if s)
            parts.append(f"{column}={{{inner}}}")
    return "sets " + (", ".join(parts) or "nothing")
