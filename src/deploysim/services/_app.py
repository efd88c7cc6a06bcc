"""The FastAPI app: route by Host, answer from exchanges, resources and function tools.

Routing (see docs/design/services.md):

1. A Host claimed by a service (one of its ``hostnames``) belongs to that service entirely:
   recorded exchanges first, then resources, else a realistic 404 / 405 / 422.
2. Any other Host (``127.0.0.1``, ``localhost``, ``tools.deploysim.internal``) is internal:
   ``/__deploysim/...`` are the admin endpoints and ``POST /tools/<name>`` calls a function
   tool; other paths go to the default service (the only service, or the only one without
   hostnames) when there is one.

When the app has an admin token, internal endpoints need it in the ``X-Deploysim-Token``
header; without it they behave as unknown paths, so an agent probing the sidecar sees nothing
but the mocked APIs.

Request bodies over ``max_body`` bytes are refused unread with 413, as a real API would, and
logged with their size: the agent controls what it sends, the sidecar's memory is bounded.
"""

from __future__ import annotations

import json
import secrets
import threading
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request, Response

from deploysim._errors import SnapshotError
from deploysim.services._answer import Answer
from deploysim.services._dump import DumpLimits
from deploysim.services._http_errors import ErrorShaper
from deploysim.services._log import LogLimits, RequestLog
from deploysim.services._matching import ExchangeBook, IncomingRequest
from deploysim.services._protocol import (
    ADMIN_PREFIX,
    ADMIN_TOKEN_HEADER,
    TOOLS_PREFIX,
    StateDump,
)
from deploysim.services._resources import ResourceRouter, check_resources
from deploysim.services._state import ServiceState
from deploysim.services._tools import ToolBox
from deploysim.snapshots import Service, SnapshotDir, load_snapshot

__all__ = ["DEFAULT_MAX_BODY", "ServicesApp", "create_app"]

DEFAULT_MAX_BODY = 1024 * 1024
"""Largest request body the app reads (bytes); larger ones get 413, as most APIs answer."""

_FRAMING_HEADERS = {"content-length", "transfer-encoding", "content-encoding", "connection"}
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _host(raw: str) -> str:
    raw = raw.strip().lower()
    if raw.startswith("["):
        return raw[: raw.find("]") + 1]
    return raw.rsplit(":", 1)[0] if raw.count(":") == 1 else raw


def _parse_body(raw: bytes) -> tuple[Any, bool]:
    if not raw.strip():
        return None, True
    text = raw.decode("utf-8", errors="backslashreplace")
    try:
        return json.loads(text), True
    except (ValueError, RecursionError):  # nesting too deep for the parser is not JSON to us
        return text, False


class _Body(NamedTuple):
    raw: bytes
    """The body, or its first bytes when over the cap."""
    over: int | None
    """Bytes declared or seen of a body over the cap (None when read whole)."""


async def _read_body(request: Request, cap: int) -> _Body:
    """The request body, read up to ``cap`` bytes and no further."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        return _Body(b"", int(declared))
    buf = bytearray()
    async for chunk in request.stream():
        buf.extend(chunk)
        if len(buf) > cap:
            return _Body(bytes(buf[:cap]), len(buf))
    return _Body(bytes(buf), None)


class _ServiceRoutes:
    def __init__(self, service: Service) -> None:
        self.service = service
        self.errors = ErrorShaper(service)
        self.exchanges = ExchangeBook(service.exchanges)
        self.resources = ResourceRouter(service, self.errors)


class ServicesApp:
    """The state behind the FastAPI app: databases, routes, tools, the request log.

    Raises:
        SnapshotError: the snapshot's services cannot be served (unknown database or table,
            missing generated rows, a handler module that does not load, a tool or a hostname
            claimed twice).
    """

    def __init__(
        self,
        sd: SnapshotDir,
        state_dir: Path,
        admin_token: str | None,
        log_limits: LogLimits | None = None,
        dump_limits: DumpLimits | None = None,
    ) -> None:
        self.sd = sd
        self.dump_limits = dump_limits or DumpLimits()
        self.admin_token = admin_token
        self.state = ServiceState(sd, state_dir)
        where = str(sd.root / "snapshot.yaml")
        self.routes: dict[str, _ServiceRoutes] = {}
        self.by_host: dict[str, _ServiceRoutes] = {}
        for i, svc in enumerate(sd.snapshot.services):
            tables = (
                {t.name: t for t in self.state.databases[svc.database].tables}
                if svc.database
                else {}
            )
            check_resources(svc, i, tables, where)
            routes = _ServiceRoutes(svc)
            self.routes[svc.name] = routes
            for h in svc.hostnames:
                if h in self.by_host:
                    raise SnapshotError(
                        where,
                        f"hostname {h!r} is claimed by services "
                        f"{self.by_host[h].service.name!r} and {svc.name!r}",
                        field=f"services[{i}].hostnames",
                    )
                self.by_host[h] = routes
        self.default = self._default_service(sd)
        self.tools = ToolBox(sd, self.state)
        self.log = RequestLog(self.state.dir, sd.snapshot.clock, log_limits)
        self.lock = threading.RLock()
        self.fallback_errors = ErrorShaper(None)

    def _default_service(self, sd: SnapshotDir) -> _ServiceRoutes | None:
        services = sd.snapshot.services
        if len(services) == 1:
            return self.routes[services[0].name]
        bare = [s for s in services if not s.hostnames]
        return self.routes[bare[0].name] if len(bare) == 1 else None

    # ------------------------------------------------------------------ admin

    def reset(self) -> None:
        """Back to the snapshot: databases, exchange playback counters and the log."""
        with self.lock:
            self.state.reset()
            for r in self.routes.values():
                r.exchanges.reset()
            self.log.clear()

    def dump(self) -> StateDump:
        """Every table (or its marker, past the dump's caps) and the request log."""
        with self.lock:
            return StateDump(
                snapshot=self.sd.snapshot.name,
                databases=self.state.dump(self.dump_limits),
                log=self.log.entries,
                log_dropped=self.log.dropped,
            )

    def _admin(self, req: IncomingRequest) -> Answer:
        op = req.path[len(ADMIN_PREFIX) :].strip("/")
        if (req.method, op) == ("GET", "health"):
            return Answer(200, {"ok": True, "snapshot": self.sd.snapshot.name})
        if (req.method, op) == ("GET", "state"):
            return Answer(200, self.dump().model_dump(mode="json"))
        if (req.method, op) == ("GET", "log"):
            try:
                since = int(req.query.get("since", ["0"])[-1])
            except ValueError:
                return Answer(422, {"error": "since must be an integer"})
            entries = self.log.since(since)
            return Answer(200, [e.model_dump(mode="json") for e in entries])
        if (req.method, op) == ("POST", "reset"):
            self.reset()
            return Answer(200, {"ok": True})
        return Answer(404, {"error": f"no admin endpoint {req.method} {req.path}"})

    # ------------------------------------------------------------------ requests

    def _internal_ok(self, headers: dict[str, str]) -> bool:
        if self.admin_token is None:
            return True
        given = headers.get(ADMIN_TOKEN_HEADER, "")
        return secrets.compare_digest(given.encode(), self.admin_token.encode())

    def _serve(self, routes: _ServiceRoutes, req: IncomingRequest) -> Answer:
        name = routes.service.name
        outcome = routes.exchanges.match(req)
        if outcome.exchange is not None:
            r = outcome.exchange.response
            # Framing headers are recomputed for the body we send.
            headers = {
                k.lower(): v for k, v in r.headers.items() if k.lower() not in _FRAMING_HEADERS
            }
            return Answer(r.status, r.json_body, r.text, headers, backend="exchange", service=name)
        db = self.state.db(routes.service.database)
        answer = routes.resources.handle(req, db)
        if answer is not None:
            return answer
        if not outcome.allowed:
            status, headers = 404, {}
        elif req.method not in outcome.allowed:
            status, headers = 405, {"allow": ", ".join(outcome.allowed)}
        else:
            status, headers = 422, {}
        return Answer(
            status, routes.errors.body(status), headers=headers, service=name, note=outcome.note
        )

    def handle(self, host: str, req: IncomingRequest) -> tuple[Answer, bool]:
        """The answer to ``req`` and whether it goes into the request log."""
        routes = self.by_host.get(host)
        if routes is None and self._internal_ok(req.headers):
            if req.path == ADMIN_PREFIX or req.path.startswith(ADMIN_PREFIX + "/"):
                return self._admin(req), False
            if req.path.startswith(TOOLS_PREFIX):
                return self._tool(req), True
        routes = routes or self.default
        if routes is None:
            body = self.fallback_errors.body(404)
            return Answer(404, body, note=f"no service for host {host!r}"), True
        with self.lock:
            try:
                answer = self._serve(routes, req)
                self.state.commit()
            except BaseException:
                self.state.rollback()
                raise
        return answer, True

    def too_large(self, host: str, req: IncomingRequest, size: int, cap: int) -> Answer:
        """The 413 answer to a body over ``cap`` bytes, in the shape of the host's API."""
        note = f"request body of {size}+ bytes over the {cap}-byte limit: refused unread"
        routes = self.by_host.get(host)
        if routes is None and self._internal_ok(req.headers) and req.path.startswith(TOOLS_PREFIX):
            body = {"error": "bad_request", "detail": note}
            return Answer(413, body, backend="function", tool=req.path[len(TOOLS_PREFIX) :])
        routes = routes or self.default
        shaper = routes.errors if routes is not None else self.fallback_errors
        service = routes.service.name if routes is not None else None
        return Answer(413, shaper.body(413), service=service, note=note)

    def _tool(self, req: IncomingRequest) -> Answer:
        name = req.path[len(TOOLS_PREFIX) :]
        if req.method != "POST":
            return Answer(
                405,
                {"error": "bad_request", "detail": "tools are called with POST"},
                headers={"allow": "POST"},
                backend="function",
                tool=name,
            )
        with self.lock:
            answer = self.tools.call(name, req.body, req.body_is_json)
            self.state.commit()
        return answer


class _Sent(NamedTuple):
    response: Response
    logged: Any
    """The body as the log keeps it (parsed JSON, text or None)."""
    raw: bytes | None
    """The body's bytes."""


def _response(answer: Answer) -> _Sent:
    headers = dict(answer.headers)
    if answer.text is not None:
        media = headers.pop("content-type", "") or "text/plain; charset=utf-8"
        raw = answer.text.encode("utf-8", errors="replace")
        return _Sent(Response(raw, answer.status, headers, media_type=media), answer.text, raw)
    if answer.body is None or answer.status == 204:
        return _Sent(Response(None, answer.status, headers), None, None)
    content = json.dumps(answer.body, ensure_ascii=False).encode("utf-8")
    media = headers.pop("content-type", "") or "application/json"
    return _Sent(Response(content, answer.status, headers, media_type=media), answer.body, content)


def create_app(
    snapshot_dir: str | Path | SnapshotDir,
    state_dir: str | Path,
    *,
    admin_token: str | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    log_limits: LogLimits | None = None,
    dump_limits: DumpLimits | None = None,
) -> FastAPI:
    """The mock-services app of a snapshot.

    Materializes the databases the snapshot's services use into ``state_dir`` (the app owns
    those SQLite files), imports the snapshot's python handler modules, and returns a FastAPI
    app serving every service. ``app.state.services`` is the :class:`ServicesApp`.

    Args:
        snapshot_dir: the snapshot folder (or its loaded form).
        state_dir: where the live databases and ``requests.jsonl`` go (created if needed).
        admin_token: when given, admin and tool endpoints need it in ``X-Deploysim-Token``.
        max_body: largest request body read, in bytes; larger ones are answered 413.
        log_limits: how much of each body the request log keeps (see :class:`LogLimits`).
        dump_limits: how large a table the admin dump sends (see :class:`DumpLimits`).

    Raises:
        SnapshotError: the snapshot is invalid or its services cannot be served.
    """
    sd = snapshot_dir if isinstance(snapshot_dir, SnapshotDir) else load_snapshot(snapshot_dir)
    state = Path(state_dir)
    state.mkdir(parents=True, exist_ok=True)
    services = ServicesApp(sd, state, admin_token, log_limits, dump_limits)
    # No docs or schema routes: they would shadow mocked paths and tell the agent what it is.
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.services = services

    @app.api_route("/{path:path}", methods=_METHODS, include_in_schema=False)
    async def catch_all(request: Request) -> Response:
        got = await _read_body(request, max_body)
        body, is_json = _parse_body(got.raw) if got.over is None else (None, False)
        query: dict[str, list[str]] = {}
        for k, v in parse_qsl(request.url.query, keep_blank_values=True):
            query.setdefault(k, []).append(v)
        req = IncomingRequest(
            method=request.method.upper(),
            path=request.url.path,
            query=query,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            body_is_json=is_json,
        )
        host = _host(request.headers.get("host", ""))
        if got.over is not None:
            answer, logged = services.too_large(host, req, got.over, max_body), True
        else:
            answer, logged = services.handle(host, req)
        sent = _response(answer)
        if logged:
            with services.lock:
                services.log.record(
                    host,
                    req,
                    answer,
                    sent.logged,
                    raw_body=got.raw,
                    raw_response=sent.raw,
                    body_size=got.over,
                )
        return sent.response

    return app
