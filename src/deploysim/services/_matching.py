"""Match requests against recorded exchanges: path templates, query, JSON body, headers.

Strictness, as modelled in :class:`~deploysim.snapshots.RequestMatcher`:

- ``exact``: the query equals the recorded one and the JSON body equals the recorded body
  (a recorded body of None means no body);
- ``subset``: every recorded query parameter is present with its value, and the recorded body
  is contained in the request body (objects by key, recursively; lists and scalars equal);
- ``ignore_body``: method and path only.

Recorded headers, when given, must be present (names case-insensitive) in every mode.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, NamedTuple

from deploysim.snapshots import Exchange, RequestMatcher

__all__ = [
    "ExchangeBook",
    "IncomingRequest",
    "MatchOutcome",
    "PathTemplate",
    "compile_path",
    "contains",
]

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_STRICTNESS_RANK = {"exact": 0, "subset": 1, "ignore_body": 2}


class PathTemplate(NamedTuple):
    """A compiled path: a regex and how many ``{name}`` segments it has."""

    regex: re.Pattern[str]
    params: int

    def match(self, path: str) -> dict[str, str] | None:
        """The template parameters if ``path`` matches, else None."""
        m = self.regex.fullmatch(path)
        return m.groupdict() if m else None


@lru_cache(maxsize=1024)
def compile_path(template: str) -> PathTemplate:
    """Compile '/v1/orders/{id}' into a regex matching one path segment per parameter."""
    pattern = ""
    pos = 0
    params = 0
    for m in _PARAM.finditer(template):
        pattern += re.escape(template[pos : m.start()]) + f"(?P<{m.group(1)}>[^/]+)"
        pos = m.end()
        params += 1
    pattern += re.escape(template[pos:])
    return PathTemplate(re.compile(pattern), params)


class IncomingRequest(NamedTuple):
    """The parts of a request matching looks at."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    """Parsed JSON body, None when empty."""
    body_is_json: bool
    """False when a non-empty body did not parse as JSON."""


def contains(recorded: Any, actual: Any) -> bool:
    """Whether ``recorded`` is contained in ``actual`` (objects by key, recursively)."""
    if isinstance(recorded, dict):
        return isinstance(actual, dict) and all(
            k in actual and contains(v, actual[k]) for k, v in recorded.items()
        )
    return bool(recorded == actual)


def _query_ok(m: RequestMatcher, query: dict[str, list[str]]) -> bool:
    recorded = m.query or {}
    if m.strictness == "exact":
        return {k: [v] for k, v in recorded.items()} == query
    return all(query.get(k) == [v] for k, v in recorded.items())


def _body_ok(m: RequestMatcher, req: IncomingRequest) -> bool:
    if not req.body_is_json:
        return False
    if m.strictness == "exact":
        return bool(m.json_body == req.body)
    return m.json_body is None or contains(m.json_body, req.body)


def _headers_ok(m: RequestMatcher, headers: dict[str, str]) -> bool:
    return all(headers.get(k.lower()) == v for k, v in (m.headers or {}).items())


class MatchOutcome(NamedTuple):
    """The result of matching a request against a service's exchanges.

    ``exchange`` is the answer; when None, ``allowed`` lists the methods recorded for this
    path (empty when no exchange has it), for a realistic 404 / 405 / 422, and ``note`` says
    why nothing matched (for the request log).
    """

    exchange: Exchange | None
    allowed: list[str]
    note: str | None


def _rank(m: RequestMatcher) -> tuple[int, int]:
    return compile_path(m.path).params, _STRICTNESS_RANK[m.strictness]


class ExchangeBook:
    """A service's recorded exchanges, grouped by identical request matchers.

    Exchanges recorded for the same request are played back in order, the last one
    repeating (a resource read before and after a write answers differently).
    """

    def __init__(self, exchanges: list[Exchange]) -> None:
        self.groups: list[tuple[RequestMatcher, list[Exchange]]] = []
        for ex in exchanges:
            for m, plays in self.groups:
                if m == ex.request:
                    plays.append(ex)
                    break
            else:
                self.groups.append((ex.request, [ex]))
        self.hits: dict[int, int] = {}

    def reset(self) -> None:
        """Forget how often each exchange was played."""
        self.hits.clear()

    def match(self, req: IncomingRequest) -> MatchOutcome:
        """Find the recorded exchange answering ``req`` (and count the play).

        The most specific matcher wins (fewest template parameters, then strictest); ties go
        to the first declared.
        """
        allowed: set[str] = set()
        best: int | None = None
        for i, (m, _) in enumerate(self.groups):
            if compile_path(m.path).match(req.path) is None:
                continue
            allowed.add(m.method.upper())
            if m.method.upper() != req.method or not _headers_ok(m, req.headers):
                continue
            if m.strictness != "ignore_body" and not (_query_ok(m, req.query) and _body_ok(m, req)):
                continue
            if best is None or _rank(m) < _rank(self.groups[best][0]):
                best = i
        methods = sorted(allowed)
        if best is None:
            if not methods:
                note = "no recorded exchange has this path"
            elif req.method not in methods:
                note = f"recorded methods for this path: {methods}"
            else:
                note = "no recorded exchange matches the query, body or headers"
            return MatchOutcome(None, methods, note)
        n = self.hits.get(best, 0)
        self.hits[best] = n + 1
        plays = self.groups[best][1]
        return MatchOutcome(plays[min(n, len(plays) - 1)], methods, None)
