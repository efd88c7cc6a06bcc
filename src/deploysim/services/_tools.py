"""Function tools: ``POST /tools/<name>`` with a JSON object of arguments.

Each tool's handler (recorded, lookup, query, update or python) runs against the service's
database inside a transaction: committed when the tool answers, rolled back when it reports
an error (:class:`ToolError`) or fails. Answers follow :mod:`deploysim.services._protocol`.
"""

from __future__ import annotations

import inspect
import json
import re
import traceback
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from deploysim._errors import SnapshotError
from deploysim.services._answer import Answer
from deploysim.services._db import Db
from deploysim.services._handlers import ModuleLoader, NoAnswer, ToolError
from deploysim.services._protocol import ToolFailure, ToolFailureCode, ToolResponse
from deploysim.services._state import ServiceState
from deploysim.snapshots import (
    FunctionTool,
    LookupHandler,
    PythonHandler,
    QueryHandler,
    RecordedHandler,
    SnapshotDir,
    UpdateHandler,
)

__all__ = ["ToolBox"]

_NAMED_PARAM = re.compile(r"(?<!:):([A-Za-z_][A-Za-z0-9_]*)")

Runner = Callable[[Db, dict[str, Any]], Any]


class _NoRecordedMatch(Exception):
    pass


class _Format(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _check_args(given: Mapping[str, Any], required: list[str], allowed: set[str]) -> None:
    missing = [a for a in required if a not in given]
    if missing:
        raise ToolError(f"Error: missing a required argument: {missing[0]!r}")
    extra = sorted(set(given) - allowed)
    if extra:
        raise ToolError(f"Error: got an unexpected keyword argument {extra[0]!r}")


def _recorded(h: RecordedHandler) -> Runner:
    def run(db: Db, args: dict[str, Any]) -> Any:
        for pair in h.pairs:
            if pair.arguments == args:
                if pair.is_error:
                    raise ToolError(pair.output)
                return pair.output
        raise _NoRecordedMatch(f"no recorded call of this tool has arguments {args}")

    return run


def _not_found(template: str, table: str, args: dict[str, Any]) -> ToolError:
    return ToolError(template.format_map(_Format(args, table=table)))


def _lookup(h: LookupHandler) -> Runner:
    def run(db: Db, args: dict[str, Any]) -> Any:
        _check_args(args, list(h.key), set(h.key))
        rows = db.select(h.table, {col: args[arg] for arg, col in h.key.items()})
        if not rows:
            raise _not_found(h.not_found, h.table, args)
        row = rows[0]
        if h.field is not None:
            return row[h.field]
        return {
            k: v for k, v in row.items() if k not in h.omit and not (h.drop_nulls and v is None)
        }

    return run


def _query(h: QueryHandler) -> Runner:
    params = list(dict.fromkeys(_NAMED_PARAM.findall(h.sql)))

    def run(db: Db, args: dict[str, Any]) -> Any:
        _check_args(args, params, set(params))
        json_cols = {c.name for t in db.tables.values() for c in t.columns if c.type == "JSON"}
        values = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in args.items()}
        cur = db.conn.execute(h.sql, values)
        names = [d[0] for d in cur.description or []]
        rows = [
            {
                n: json.loads(v) if n in json_cols and isinstance(v, str) else v
                for n, v in zip(names, r, strict=True)
            }
            for r in cur.fetchall()
        ]
        if h.one:
            return rows[0] if rows else None
        return rows

    return run


def _update(h: UpdateHandler) -> Runner:
    refs = [v[1:] for v in h.set.values() if isinstance(v, str) and v.startswith("$")]

    def run(db: Db, args: dict[str, Any]) -> Any:
        _check_args(args, [*h.key, *refs], {*h.key, *refs})
        where = {col: args[arg] for arg, col in h.key.items()}
        rows = db.select(h.table, where)
        if not rows:
            raise _not_found("Error: {table} not found", h.table, args)
        changes = {
            col: args[v[1:]] if isinstance(v, str) and v.startswith("$") else v
            for col, v in h.set.items()
        }
        pk = {k: rows[0][k] for k in db.table(h.table).primary_key}
        return db.update(h.table, pk, changes)

    return run


def _python(fn: Callable[..., Any]) -> Runner:
    sig = inspect.signature(fn)

    def run(db: Db, args: dict[str, Any]) -> Any:
        try:
            sig.bind(db, **args)
        except TypeError as e:
            raise ToolError(f"Error: {e}") from e
        return fn(db, **args)

    return run


class _Tool(NamedTuple):
    service: str
    database: str | None
    run: Runner


class ToolBox:
    """Every function tool of a snapshot, by name.

    Raises:
        SnapshotError: two services define the same tool, a handler names an unknown table,
            or a python handler cannot be loaded.
    """

    def __init__(self, sd: SnapshotDir, state: ServiceState) -> None:
        self.state = state
        self.tools: dict[str, _Tool] = {}
        loader = ModuleLoader()
        where = str(sd.root / "snapshot.yaml")
        for i, svc in enumerate(sd.snapshot.services):
            tables = (
                {t.name for t in state.databases[svc.database].tables} if svc.database else set()
            )
            for j, tool in enumerate(svc.function_tools):
                field = f"services[{i}].function_tools[{j}]"
                if tool.name in self.tools:
                    raise SnapshotError(
                        where,
                        f"tool {tool.name!r} is defined by services "
                        f"{self.tools[tool.name].service!r} and {svc.name!r}",
                        field=f"{field}.name",
                    )
                if tool.handler.kind == "query" and svc.database is None:
                    raise SnapshotError(
                        where,
                        f"tool {tool.name!r} runs SQL, but service {svc.name!r} has no database",
                        field=f"services[{i}].database",
                    )
                table = getattr(tool.handler, "table", None)
                if table is not None and table not in tables:
                    raise SnapshotError(
                        where,
                        f"tool {tool.name!r} uses table {table!r}, "
                        f"not in database {svc.database!r}",
                        field=f"{field}.handler.table",
                    )
                run = self._runner(sd, svc.name, tool, loader, where, f"{field}.handler")
                self.tools[tool.name] = _Tool(svc.name, svc.database, run)

    @staticmethod
    def _runner(
        sd: SnapshotDir,
        service: str,
        tool: FunctionTool,
        loader: ModuleLoader,
        where: str,
        field: str,
    ) -> Runner:
        h = tool.handler
        if isinstance(h, RecordedHandler):
            return _recorded(h)
        if isinstance(h, LookupHandler):
            return _lookup(h)
        if isinstance(h, QueryHandler):
            return _query(h)
        if isinstance(h, UpdateHandler):
            return _update(h)
        assert isinstance(h, PythonHandler)
        fn = loader.function(sd.module_path(service, h.module), h.function, where, field)
        return _python(fn)

    def _failure(
        self, status: int, code: ToolFailureCode, detail: str, name: str, service: str | None
    ) -> Answer:
        body = ToolFailure(error=code, detail=detail).model_dump()
        return Answer(status, body, backend="function", service=service, tool=name, note=detail)

    def call(self, name: str, body: Any, body_is_json: bool) -> Answer:
        """Run tool ``name`` with the request body as its arguments."""
        tool = self.tools.get(name)
        if tool is None:
            return self._failure(404, "unknown_tool", f"no function tool {name!r}", name, None)
        if not body_is_json or not isinstance(body if body is not None else {}, dict):
            return self._failure(
                422,
                "bad_request",
                "the body must be a JSON object of arguments",
                name,
                tool.service,
            )
        args: dict[str, Any] = body or {}
        db = self.state.db(tool.database)
        try:
            output = tool.run(db, args)
            json.dumps(output)
        except ToolError as e:
            db.conn.rollback()
            return self._answer(name, tool.service, e.output, is_error=True)
        except (_NoRecordedMatch, NoAnswer) as e:
            db.conn.rollback()
            return self._failure(404, "no_recorded_match", str(e), name, tool.service)
        except Exception as e:  # noqa: BLE001 - a handler bug is reported, never shown the agent
            db.conn.rollback()
            detail = "".join(traceback.format_exception(e)).rstrip()
            return self._failure(500, "handler_failed", detail, name, tool.service)
        return self._answer(name, tool.service, output, is_error=False)

    @staticmethod
    def _answer(name: str, service: str, output: Any, *, is_error: bool) -> Answer:
        body = ToolResponse(output=output, is_error=is_error).model_dump()
        return Answer(200, body, backend="function", service=service, tool=name, is_error=is_error)
