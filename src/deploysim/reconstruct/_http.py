"""HTTP observations: services by hostname, recorded exchanges, stateful resources.

Read from HTTP tools (``url``, ``method``, ``body``/``json``/``data`` arguments; the result is
the response body) and from ``curl`` commands in a shell. Every request becomes a recorded
exchange of the service owning its host (identical requests answered differently are played
back in order). A collection seen both listed (``GET /v1/orders`` answering a list of objects
with an id, possibly under an envelope key) and addressed by item or written to
(``GET/PUT/PATCH/DELETE /v1/orders/{id}``, ``POST /v1/orders``) becomes a resource over a
table whose rows are the objects those reads showed before the trace's first write to it;
its exchanges are then dropped so that the live table answers, writes included.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from deploysim.reconstruct._calls import NOT_JSON, CallObs
from deploysim.snapshots import Exchange, Provenance, RequestMatcher, ResponseSpec

__all__ = ["HttpBook", "HttpCall", "curl_call", "http_call"]

_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


class HttpCall(NamedTuple):
    """One request and the response body it got."""

    method: str
    url: str
    body: Any
    output: str
    is_error: bool
    call: CallObs


def http_call(call: CallObs) -> HttpCall | None:
    """The request of an HTTP tool call, or None."""
    args = call.args
    url = next((args[k] for k in ("url", "uri", "endpoint") if isinstance(args.get(k), str)), None)
    if url is None or not url.startswith(("http://", "https://")):
        return None
    body = args.get("json") if "json" in args else args.get("body", args.get("data"))
    if isinstance(body, str):
        with contextlib.suppress(ValueError):
            body = json.loads(body)
    method = str(args.get("method") or ("POST" if body is not None else "GET")).upper()
    return HttpCall(method, url, body, call.output, call.is_error, call)


def curl_call(command: str, call: CallObs) -> HttpCall | None:
    """The request of a plain ``curl`` command (``-X``, ``-d``/``--data``, ``-H``), or None."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if not words or words[0] != "curl":
        return None
    method, body, url = None, None, None
    it = iter(words[1:])
    for w in it:
        if w in ("-X", "--request"):
            method = next(it, "GET").upper()
        elif w in ("-d", "--data", "--data-raw", "--json"):
            raw = next(it, "")
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw
        elif w in ("-H", "--header", "-o", "-w", "-u"):
            next(it, None)
        elif w.startswith("http://") or w.startswith("https://"):
            url = w
    if url is None:
        return None
    return HttpCall(
        method or ("POST" if body is not None else "GET"),
        url,
        body,
        call.output,
        call.is_error,
        call,
    )


@dataclass
class _Collection:
    path: str
    id_field: str | None = None
    envelope: str | None = None
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    methods: set[str] = field(default_factory=set)
    written_in: set[str] = field(default_factory=set)


@dataclass
class HttpBook:
    """Exchanges and collections of every host."""

    exchanges: dict[str, list[Exchange]] = field(default_factory=dict)
    collections: dict[tuple[str, str], _Collection] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def observe(self, h: HttpCall, trace_written: set[tuple[str, str]]) -> None:
        """Pool one request and its response."""
        parts = urlsplit(h.url)
        host = (parts.hostname or "").lower()
        if not _HOST.match(host):
            self.skipped.append(f"{h.call.where()}: host {host!r} cannot be served")
            return
        query = {k: v for k, v in parse_qsl(parts.query, keep_blank_values=True)}
        value = h.call.value
        response = ResponseSpec(
            status=400 if h.is_error else 200,
            json_body=value if value is not NOT_JSON else None,
            text=None if value is not NOT_JSON else h.output,
        )
        matcher = RequestMatcher(
            method=h.method,
            path=parts.path or "/",
            query=query or None,
            json_body=h.body if isinstance(h.body, dict | list) else None,
            strictness="exact"
            if h.body is None or isinstance(h.body, dict | list)
            else "ignore_body",
        )
        prov = [h.call.provenance(f"{h.method} {h.url}")]
        self.exchanges.setdefault(host, []).append(
            Exchange(request=matcher, response=response, provenance=prov)
        )
        self._collection(host, h, parts.path.rstrip("/") or "/", value, trace_written)

    def _collection(
        self, host: str, h: HttpCall, path: str, value: Any, written: set[tuple[str, str]]
    ) -> None:
        if h.is_error:
            return
        listed = _listed(value)
        base, _, item = path.rpartition("/")
        if listed is not None and h.method == "GET":
            c = self.collections.setdefault((host, path), _Collection(path))
            c.methods.add("list")
            c.envelope = listed[0]
            if (host, path) not in written:
                for obj in listed[1]:
                    self._row(c, obj)
            return
        owner = self.collections.get((host, base)) if item else None
        target = owner or (
            self.collections.setdefault((host, path), _Collection(path))
            if h.method == "POST"
            else None
        )
        if target is None:
            return
        op = {
            "GET": "get",
            "PUT": "update",
            "PATCH": "patch",
            "DELETE": "delete",
            "POST": "create",
        }.get(h.method)
        if op:
            target.methods.add(op)
        if h.method == "GET" and isinstance(value, dict) and (host, target.path) not in written:
            self._row(target, value)
        elif h.method != "GET":
            written.add((host, target.path))

    @staticmethod
    def _row(c: _Collection, obj: dict[str, Any]) -> None:
        field_ = c.id_field or next((k for k in obj if k == "id" or k.endswith("_id")), None)
        if field_ is None or field_ not in obj:
            return
        c.id_field = field_
        key = json.dumps(obj[field_])
        if key not in c.rows:
            c.order.append(key)
            c.rows[key] = dict(obj)


def _listed(value: Any) -> tuple[str | None, list[dict[str, Any]]] | None:
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return None, value
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
                return k, v
    return None


def provenance_of(exchanges: list[Exchange]) -> list[Provenance]:
    """The provenance of a list of exchanges, in order."""
    return [p for e in exchanges for p in e.provenance]
