"""Learn how read tools answer: entity lookups, finds, constants, pure functions.

Every rule is checked against every recorded call of the tool before it is adopted; calls a
lookup does not reproduce are kept as verbatim overrides (valid only while the entity is in
the state it was recorded in). Error answers become a *not found* template when the tool
answered one for a key nothing else showed; with a template the store is a closed world
(keys never seen do not exist), without one such calls are left unanswered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NamedTuple

from deploysim.reconstruct._calls import NOT_JSON, CallObs
from deploysim.reconstruct._entities import EntityView, full_row, render
from deploysim.reconstruct._facts import FactBook, failed
from deploysim.reconstruct._model import ToolReport
from deploysim.reconstruct._names import canon, digest
from deploysim.reconstruct._pure import PureError, get_pure_function, pure_function_names
from deploysim.reconstruct._simulate import ReadCheck
from deploysim.reconstruct._tables import TablePlan

__all__ = [
    "Plan",
    "arg_names",
    "error_template",
    "plan_constant",
    "plan_find",
    "plan_lookup",
    "plan_pure",
    "recorded_pairs",
]


class Plan(NamedTuple):
    """A tool's runtime facts and its report line."""

    spec: dict[str, Any]
    report: ToolReport


def arg_names(calls: list[CallObs]) -> list[str]:
    """Every argument name the tool was called with."""
    return sorted({a for c in calls for a in c.args})


def recorded_pairs(calls: list[CallObs]) -> list[dict[str, Any]]:
    """(arguments, output, is_error) of calls, the first answer per distinct arguments."""
    seen: set[str] = set()
    out = []
    for c in calls:
        k = canon(c.args)
        if c.arguments is None or k in seen:
            continue
        seen.add(k)
        out.append({"args": c.args, "output": c.output, "is_error": c.is_error})
    return out


def error_template(calls: list[CallObs]) -> dict[str, Any] | None:
    """The one error text the calls answered, with argument values as ``{name}`` placeholders."""
    texts = set()
    flags = set()
    for c in calls:
        text = c.output
        for name, value in sorted(c.args.items(), key=lambda kv: -len(str(kv[1]))):
            if isinstance(value, str | int) and str(value) and str(value) in text:
                text = text.replace(str(value), "{" + name + "}")
        texts.add(text)
        flags.add(c.is_error)
    if len(texts) != 1 or len(flags) != 1:
        return None
    return {"template": texts.pop(), "is_error": flags.pop()}


def _report(
    tool: str, calls: list[CallObs], strategy: Any, detail: str, notes: list[str]
) -> ToolReport:
    return ToolReport(
        tool=tool,
        kind="function",
        effect="read",
        strategy=strategy,
        calls=len(calls),
        detail=detail,
        notes=notes,
    )


def plan_lookup(
    view: EntityView,
    calls: list[CallObs],
    book: FactBook,
    tables: Mapping[str, TablePlan],
    checks: list[ReadCheck],
) -> Plan:
    """An entity lookup by key, with overrides for the reads it does not reproduce."""
    columns = tables[view.table].columns
    overrides = []
    for check in checks:
        row = full_row(check.row, columns)
        if json.dumps(render(view, row)) != check.call.output:
            key = row[view.key_column]
            overrides.append(
                {
                    "args": check.call.args,
                    "pre": [[view.table, key, digest(row)]],
                    "output": check.call.output,
                    "is_error": check.call.is_error,
                }
            )
    misses = [
        c
        for c in calls
        if failed(c)
        and view.key_arg in c.args
        and not book.is_known(view.table, c.args[view.key_arg])
    ]
    not_found = error_template(misses) if misses else None
    spec: dict[str, Any] = {
        "name": view.tool,
        "strategy": "lookup",
        "args": arg_names(calls),
        "view": view._asdict(),
        "not_found": not_found,
        "overrides": overrides,
        "recorded": recorded_pairs([c for c in calls if failed(c)]),
    }
    detail = f"lookup {view.table} by {view.key_arg}"
    detail += f"; 'not found' answer {not_found['template']!r}" if not_found else ""
    notes = [f"{len(overrides)} recorded answers kept verbatim"] if overrides else []
    return Plan(spec, _report(view.tool, calls, "lookup", detail, notes))


def _leaves(value: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    if isinstance(value, dict) and len(prefix) < 3:
        out = []
        for k, v in value.items():
            out += _leaves(v, (*prefix, k))
        return out
    return [(prefix, value)] if prefix and isinstance(value, str | int) else []


def _match_paths(
    arg: str, examples: list[tuple[dict[str, Any], dict[str, Any]]]
) -> dict[str, Any] | None:
    for fold in (False, True):
        common: set[tuple[str, ...]] | None = None
        for args, row in examples:
            want = args.get(arg)
            here = {
                p
                for p, v in _leaves(row)
                if v == want
                or (
                    fold
                    and isinstance(v, str)
                    and isinstance(want, str)
                    and v.casefold() == want.casefold()
                )
            }
            common = here if common is None else common & here
        if common:
            path = sorted(common, key=lambda p: (len(p), p))[0]
            return {"arg": arg, "path": list(path), "fold": fold}
    return None


def plan_find(
    tool: str, calls: list[CallObs], book: FactBook, tables: Mapping[str, TablePlan]
) -> Plan | None:
    """A tool answering the key of the row whose fields equal its arguments, if it is one."""
    ok = [c for c in calls if not failed(c) and c.args]
    keys = [c.value if isinstance(c.value, str) else c.output.strip() for c in ok]
    if not ok or any(c.value is not NOT_JSON and not isinstance(c.value, str) for c in ok):
        return None
    for table, plan in tables.items():
        if not all(book.is_known(table, k) for k in keys):
            continue
        examples = [
            (c.args, book.entities[(table, k)].fields)
            for c, k in zip(ok, keys, strict=True)
            if (table, k) in book.entities
        ]
        if not examples:
            continue
        match = [_match_paths(a, examples) for a in arg_names(ok)]
        if any(m is None for m in match):
            continue
        if not _first_match_is(plan, match, examples, keys):
            continue
        misses = [c for c in calls if failed(c)]
        spec: dict[str, Any] = {
            "name": tool,
            "strategy": "find",
            "args": arg_names(calls),
            "table": table,
            "match": match,
            "not_found": error_template(misses) if misses else None,
            "recorded": recorded_pairs(calls),
        }
        cond = " and ".join(f"{'.'.join(m['path'])}={m['arg']}" for m in match if m)
        detail = f"find the {table} row with {cond}; answer its key"
        return Plan(spec, _report(tool, calls, "find", detail, []))
    return None


def _first_match_is(
    plan: TablePlan,
    match: list[Any],
    examples: list[tuple[dict[str, Any], dict[str, Any]]],
    keys: list[Any],
) -> bool:
    key_column = plan.columns[0]
    for args, row in examples:
        for candidate in plan.rows:
            if all(_equal(candidate, m, args) for m in match):
                if candidate[key_column] != row[key_column]:
                    return False
                break
    return True


def _equal(row: dict[str, Any], m: dict[str, Any], args: dict[str, Any]) -> bool:
    have: Any = row
    for part in m["path"]:
        have = have.get(part) if isinstance(have, dict) else None
    want = args.get(m["arg"])
    if m["fold"] and isinstance(have, str) and isinstance(want, str):
        return have.casefold() == want.casefold()
    return bool(have == want)


def plan_constant(tool: str, calls: list[CallObs]) -> Plan | None:
    """The same answer to every call (with two or more different arguments, or none at all)."""
    if not calls or any(failed(c) or c.arguments is None for c in calls):
        return None
    outputs = {c.output for c in calls}
    names = {tuple(sorted(c.args)) for c in calls}
    distinct = {canon(c.args) for c in calls}
    if len(outputs) != 1 or len(names) != 1 or (len(distinct) < 2 and calls[0].args):
        return None
    spec: dict[str, Any] = {
        "name": tool,
        "strategy": "constant",
        "args": arg_names(calls),
        "required": list(next(iter(names))),
        "output": calls[0].output,
    }
    answer = calls[0].output
    detail = f"always answers {answer[:60]!r}" + ("…" if len(answer) > 60 else "")
    return Plan(spec, _report(tool, calls, "constant", detail, []))


def plan_pure(tool: str, calls: list[CallObs]) -> Plan | None:
    """A registered pure function that reproduces every successful call, if one does."""
    ok = [c for c in calls if not failed(c) and c.arguments is not None]
    if not ok:
        return None
    for name in pure_function_names():
        fn = get_pure_function(name)
        try:
            if all(fn(c.args) == c.output for c in ok):
                spec: dict[str, Any] = {
                    "name": tool,
                    "strategy": "pure",
                    "args": arg_names(calls),
                    "function": name,
                    "recorded": recorded_pairs([c for c in calls if failed(c)]),
                }
                detail = f"the pure function {name}, verified on {len(ok)} calls"
                return Plan(spec, _report(tool, calls, "pure", detail, []))
        except PureError:
            continue
    return None
