"""The ``sql`` and ``http`` live backends: both run a small client inside the pod.

Running the client in the workspace (as the agent user) rather than from the host keeps the
isolation rule: the SQLite file is the pod's, and an HTTP request goes through the pod's own
network namespace to the mocked services, exactly as the agent's own ``curl`` would. Nothing
reaches the host network.

- ``sql``: ``query``/``sql``/``statement`` runs against the database named by ``database``/``db``
  (a snapshot database name or a path), else the snapshot's only workspace database (one no
  mocked service uses; a service's database belongs to that API, not to the agent's
  machine). A query answers its rows as a JSON list; a statement answers
  ``{"rows_affected": n}``; an SQLite error is a tool error with SQLite's own message.
- ``http``: ``url`` (+ ``method``, ``headers``, ``body``/``json``/``data``). The answer is the
  response body; a status of 400 or more is a tool error; status and headers go into
  ``structured``.
"""

from __future__ import annotations

import json
from typing import Any

from deploysim.tools._backends import Backend, CallContext, NotServed, backend, timed_out
from deploysim.tools._model import ToolOutcome, ToolRequest
from deploysim.traces import ToolSpec

__all__ = ["HttpBackend", "SqlBackend"]

_SQL_CLIENT = r"""
import json, sqlite3, sys
db, sql = sys.argv[1], sys.stdin.read()
try:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    cur = con.execute(sql)
    if cur.description is not None:
        out = [dict(r) for r in cur.fetchall()]
    else:
        out = {"rows_affected": cur.rowcount}
    con.commit()
    print(json.dumps(out, default=str))
except sqlite3.Error as e:
    print(f"Error: {e}")
    sys.exit(3)
"""

_HTTP_CLIENT = r"""
import json, sys, urllib.request, urllib.error
req = json.loads(sys.stdin.read())
r = urllib.request.Request(req["url"], data=req["body"].encode() if req["body"] is not None
                           else None, method=req["method"], headers=req["headers"])
try:
    with urllib.request.urlopen(r, timeout=req["timeout"]) as resp:
        status, headers, body = resp.status, dict(resp.headers), resp.read()
except urllib.error.HTTPError as e:
    status, headers, body = e.code, dict(e.headers), e.read()
except Exception as e:
    print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
    sys.exit(0)
print(json.dumps({"status": status, "headers": headers,
                  "body": body.decode("utf-8", errors="replace")}))
"""


# -I: isolated mode. The clients run as the agent in folders it can write; without it a
# json.py or sitecustomize.py the agent left there would be imported and write the answer.
_PYTHON = ("python3", "-I", "-c")


def _timed_out(backend: str, seconds: float) -> ToolOutcome:
    return timed_out(backend, f"Error: timed out after {seconds:.0f} seconds.")


def _client_answer(stdout: str) -> dict[str, Any] | None:
    """The HTTP client's JSON line, or None when it printed something else."""
    try:
        answer = json.loads(stdout)
    except (ValueError, RecursionError):
        return None
    if not isinstance(answer, dict):
        return None
    if "error" in answer:
        return answer
    ok = isinstance(answer.get("status"), int) and isinstance(answer.get("body"), str)
    return answer if ok and isinstance(answer.get("headers"), dict) else None


def _string_arg(arguments: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for k in keys:
        v = arguments.get(k)
        if isinstance(v, str) and v:
            return v
    return None


@backend
class SqlBackend(Backend):
    """SQL tools run live against the pod's SQLite databases."""

    name = "sql"
    in_pod = True

    def accepts(self, spec: ToolSpec, ctx: CallContext) -> bool:
        """SQL-kind tools, when there is a pod."""
        return ctx.pod is not None and spec.kind == "sql"

    def _database(self, arguments: dict[str, Any], ctx: CallContext) -> str:
        assert ctx.pod is not None
        dbs = ctx.pod.snapshot.snapshot.databases if ctx.pod.snapshot else []
        named = _string_arg(arguments, ("database", "db", "db_path", "database_path"))
        if named is not None:
            for d in dbs:
                if named in (d.name, d.path):
                    return d.path
            if named.startswith("/"):
                return named
            raise NotServed(f"no database {named!r} in the snapshot")
        if len(dbs) == 1:
            return dbs[0].path
        served = (
            {s.database for s in ctx.pod.snapshot.snapshot.services} if ctx.pod.snapshot else set()
        )
        local = [d for d in dbs if d.name not in served]
        if len(local) == 1:
            return local[0].path
        raise NotServed(f"no database named, and the snapshot has {len(local)} workspace databases")

    async def call(self, spec: ToolSpec, request: ToolRequest, ctx: CallContext) -> ToolOutcome:
        """Run the statement in the pod with Python's sqlite3."""
        if ctx.pod is None or request.arguments is None:
            raise NotServed("no pod, or arguments that are not a JSON object")
        sql = _string_arg(request.arguments, ("query", "sql", "statement", "command"))
        if sql is None:
            raise NotServed(f"no SQL among the arguments {sorted(request.arguments)}")
        db = self._database(request.arguments, ctx)
        try:
            r = await ctx.pod.exec([*_PYTHON, _SQL_CLIENT, db], input=sql, timeout=ctx.timeout)
        except TimeoutError:
            return _timed_out(self.name, ctx.timeout)
        if r.returncode not in (0, 3):
            raise NotServed(f"the SQL client failed ({r.returncode}): {r.stderr.strip()[:200]}")
        return ToolOutcome(
            output=r.stdout.rstrip("\n"),
            is_error=r.returncode == 3,
            provenance="live",
            backend=self.name,
        )


@backend
class HttpBackend(Backend):
    """HTTP tools run live from inside the pod, against the snapshot's mocked services."""

    name = "http"
    in_pod = True

    def accepts(self, spec: ToolSpec, ctx: CallContext) -> bool:
        """HTTP-kind tools, when there is a pod."""
        return ctx.pod is not None and spec.kind == "http"

    async def call(self, spec: ToolSpec, request: ToolRequest, ctx: CallContext) -> ToolOutcome:
        """Send the request with urllib inside the pod; the body is the answer."""
        if ctx.pod is None or request.arguments is None:
            raise NotServed("no pod, or arguments that are not a JSON object")
        args = request.arguments
        url = _string_arg(args, ("url", "uri", "endpoint"))
        if url is None or not url.startswith(("http://", "https://")):
            raise NotServed("no http(s) url among the arguments")
        body = args.get("json") if "json" in args else args.get("body", args.get("data"))
        if body is not None and not isinstance(body, str):
            body = json.dumps(body)
        given = args.get("headers")
        headers: dict[str, Any] = given if isinstance(given, dict) else {}
        if "json" in args or (body is not None and isinstance(args.get("body"), dict | list)):
            headers = {"Content-Type": "application/json", **headers}
        method = str(args.get("method") or ("POST" if body is not None else "GET")).upper()
        payload = {
            "url": url,
            "method": method,
            "headers": {str(k): str(v) for k, v in headers.items()},
            "body": body,
            "timeout": ctx.timeout,
        }
        try:
            r = await ctx.pod.exec(
                [*_PYTHON, _HTTP_CLIENT], input=json.dumps(payload), timeout=ctx.timeout + 5
            )
        except TimeoutError:
            return _timed_out(self.name, ctx.timeout)
        answer = _client_answer(r.stdout)
        if answer is None:
            raise NotServed(f"the HTTP client failed: {r.stderr.strip()[:200]}")
        if "error" in answer:
            return ToolOutcome(
                output=f"Error: {answer['error']}",
                is_error=True,
                provenance="live",
                backend=self.name,
            )
        status = int(answer["status"])
        return ToolOutcome(
            output=answer["body"],
            is_error=status >= 400,
            provenance="live",
            backend=self.name,
            structured={"status": status, "headers": answer["headers"]},
        )
