"""The generic code behind function tools that ``deploysim reconstruct`` rebuilt.

A rebuilt snapshot ships one generated module per service (``services/<service>_tools.py``)
holding only learned facts (``FACTS``) and one thin function per tool calling
:meth:`ToolRuntime.call`. Everything else is here, so the generated files stay data.

Strategies (``FACTS["tools"][name]["strategy"]``):

- ``lookup``: find the entity by its key argument and print it the way the tool did;
- ``find``: scan a table for the row whose fields equal the arguments; print its key;
- ``constant``: the same answer whatever the arguments;
- ``pure``: a pure function verified on every recorded call (:mod:`._pure`);
- ``write``: replay a recorded write when the arguments and the touched entities' states
  equal the recording (its patches rebuild hidden side effects), else apply the learned
  field updates when the tool's effect was generalized.

Keys nothing showed are unknown, not absent: such calls are left unanswered, unless the
snapshot was rebuilt as a closed world (``FACTS["closed_world"]``), where they get the tool's
own "not found" answer. Keys a tool answered "not found" for are answered so in both cases.

Every strategy first honours *overrides*: recorded answers kept verbatim for calls whose
answer the learned rule does not reproduce. A call nothing answers raises
:class:`~deploysim.services.NoAnswer`, so the router falls back (recorded, unavailable) and
the agent never sees a made-up answer.

Runs in the services process only (it imports :mod:`deploysim.services`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from deploysim.reconstruct._names import canon, digest
from deploysim.reconstruct._pure import PureError, get_pure_function
from deploysim.reconstruct._views import EntityView, full_row, render
from deploysim.services import Db, NoAnswer, ToolError

__all__ = ["ToolRuntime"]

Spec = dict[str, Any]


def _view(spec: Spec) -> EntityView:
    v = spec["view"]
    return EntityView(
        tool=v["tool"],
        table=v["table"],
        key_column=v["key_column"],
        key_arg=v["key_arg"],
        key_in_output=v["key_in_output"],
        order=list(v["order"]),
        omit_nulls=list(v["omit_nulls"]),
    )


def _answer(output: str, is_error: bool) -> str:
    """A recorded answer: the text as recorded, raised when the original flagged an error."""
    if is_error:
        raise ToolError(output)
    return output


def _path(row: Any, path: list[str]) -> Any:
    for part in path:
        if not isinstance(row, dict):
            return None
        row = row.get(part)
    return row


class ToolRuntime:
    """Serves the tools described by a generated module's ``FACTS``."""

    def __init__(self, facts: dict[str, Any]) -> None:
        self.facts = facts
        self.tables: dict[str, Spec] = facts.get("tables", {})
        self.tools: dict[str, Spec] = facts.get("tools", {})
        self._strategies: dict[str, Callable[[Db, Spec, dict[str, Any]], Any]] = {
            "lookup": self._lookup,
            "find": self._find,
            "constant": self._constant,
            "pure": self._pure,
            "write": self._write,
        }

    def call(self, db: Db, tool: str, arguments: dict[str, Any]) -> Any:
        """Answer one call of ``tool``.

        Raises:
            ToolError: the tool reports an error to the agent.
            NoAnswer: nothing recorded or learned answers these arguments.
        """
        spec = self.tools.get(tool)
        if spec is None:
            raise NoAnswer(f"no learned facts for tool {tool!r}")
        unknown = sorted(set(arguments) - set(spec.get("args", [])))
        if unknown:
            raise NoAnswer(f"{tool}: arguments never seen in the traces: {unknown}")
        for inst in spec.get("overrides", []):
            if self._matches(db, inst, arguments):
                return self._replay(db, inst)
        return self._strategies[spec["strategy"]](db, spec, arguments)

    # ------------------------------------------------------------------ recorded instances

    def _state_digest(self, db: Db, table: str, key: Any) -> str | None:
        row = db.get(table, key)
        if row is None:
            return None
        return digest(full_row(row, self.tables[table]["columns"]))

    def _matches(self, db: Db, inst: Spec, arguments: dict[str, Any]) -> bool:
        if canon(inst["args"]) != canon(arguments):
            return False
        return all(self._state_digest(db, t, k) == d for t, k, d in inst.get("pre", []))

    def _replay(self, db: Db, inst: Spec) -> str:
        if not inst["is_error"]:
            for table, key, row in inst.get("patches", []):
                self._put(db, table, key, row)
        return _answer(inst["output"], inst["is_error"])

    def _put(self, db: Db, table: str, key: Any, row: dict[str, Any] | None) -> None:
        if row is None:
            db.delete(table, key)
            return
        values = full_row(row, self.tables[table]["columns"])
        if db.get(table, key) is None:
            db.insert(table, values)
        else:
            db.update(table, key, values)

    def _recorded(self, spec: Spec, arguments: dict[str, Any]) -> Any:
        for pair in spec.get("recorded", []):
            if canon(pair["args"]) == canon(arguments):
                return _answer(pair["output"], pair["is_error"])
        return None

    def _not_found(self, spec: Spec, arguments: dict[str, Any], why: str) -> Any:
        found = self._recorded(spec, arguments)
        if found is not None:
            return found
        nf = spec.get("not_found")
        if nf is None or not self.facts.get("closed_world"):
            raise NoAnswer(why)
        text = nf["template"]
        for name, value in arguments.items():
            text = text.replace("{" + name + "}", str(value))
        return _answer(text, nf["is_error"])

    # ------------------------------------------------------------------ strategies

    def _lookup(self, db: Db, spec: Spec, arguments: dict[str, Any]) -> Any:
        view = _view(spec)
        key = arguments.get(view.key_arg or "")
        if key is None:
            raise NoAnswer(f"{view.tool}: no {view.key_arg} argument")
        row = db.get(view.table, key)
        if row is not None:
            return render(view, row)
        if key in self.facts.get("unbuilt", {}).get(view.table, []):
            found = self._recorded(spec, arguments)
            if found is not None:
                return found
            raise NoAnswer(f"{view.table} {key!r} exists but none of its fields was seen")
        return self._not_found(spec, arguments, f"{view.table} {key!r} was never seen")

    def _find(self, db: Db, spec: Spec, arguments: dict[str, Any]) -> Any:
        table = spec["table"]
        key_column = self.tables[table]["key"]
        for row in db.select(table):
            ok = True
            for cond in spec["match"]:
                want, have = arguments.get(cond["arg"]), _path(row, cond["path"])
                if cond["fold"] and isinstance(want, str) and isinstance(have, str):
                    want, have = want.casefold(), have.casefold()
                if want is None or want != have:
                    ok = False
                    break
            if ok:
                return row[key_column]
        return self._not_found(spec, arguments, f"no {table} row matches {arguments}")

    def _constant(self, db: Db, spec: Spec, arguments: dict[str, Any]) -> Any:
        if sorted(arguments) != sorted(spec.get("required", arguments)):
            found = self._recorded(spec, arguments)
            if found is not None:
                return found
            raise NoAnswer(f"{spec['name']}: arguments {sorted(arguments)} never seen")
        return copy.deepcopy(spec["output"])

    def _pure(self, db: Db, spec: Spec, arguments: dict[str, Any]) -> Any:
        try:
            return get_pure_function(spec["function"])(arguments)
        except PureError as e:
            found = self._recorded(spec, arguments)
            if found is not None:
                return found
            raise NoAnswer(f"{spec['name']}: {e}") from e

    def _write(self, db: Db, spec: Spec, arguments: dict[str, Any]) -> Any:
        for inst in spec.get("instances", []):
            if self._matches(db, inst, arguments):
                return self._replay(db, inst)
        rule = spec.get("rule")
        if rule is None:
            raise NoAnswer(f"{spec['name']}: no recorded call with these arguments and state")
        return self._apply_rule(db, spec, rule, arguments)

    def _apply_rule(self, db: Db, spec: Spec, rule: Spec, arguments: dict[str, Any]) -> Any:
        view = _view(spec)
        missing = [a for a in rule["required"] if a not in arguments]
        if missing:
            raise NoAnswer(f"{view.tool}: missing arguments {missing}")
        key = arguments[rule["key_arg"]]
        row = db.get(view.table, key)
        if row is None:
            return self._not_found(spec, arguments, f"{view.table} {key!r} is not in the store")
        for guard in rule["guards"]:
            if row.get(guard["column"]) not in guard["allowed"]:
                for err in guard["errors"]:
                    if row.get(guard["column"]) == err["value"]:
                        return _answer(err["output"], err["is_error"])
                raise NoAnswer(
                    f"{view.tool}: {guard['column']}={row.get(guard['column'])!r} never seen"
                )
        new = dict(row)
        for column, how in rule["set"].items():
            new[column] = _value(how, row.get(column), arguments)
        self._put(db, view.table, key, new)
        return render(view, full_row(new, self.tables[view.table]["columns"]))


def _value(how: Spec, old: Any, arguments: dict[str, Any]) -> Any:
    kind = how["kind"]
    if kind == "const":
        return copy.deepcopy(how["value"])
    if kind == "arg":
        value = copy.deepcopy(arguments[how["arg"]])
        return sorted(value) if how.get("sorted") else value
    if kind == "compose":
        base = dict(old) if isinstance(old, dict) else {}
        return {
            k: (copy.deepcopy(arguments[src["arg"]]) if "arg" in src else base.get(k))
            for k, src in how["fields"].items()
        }
    raise NoAnswer(f"unknown field rule {kind!r}")
