"""Recorded exchanges from a HAR file (browser devtools, mitmproxy, Playwright).

Each entry becomes an :class:`Exchange`: method, path and query are matched; a JSON request
body is matched as a subset (other bodies are not matched and that is said in the strictness);
the response keeps its status, its content type and the headers an API client reads
(request ids, rate limits, pagination), and its body as JSON when it parses. Request headers
are not kept, so credentials in them never reach the snapshot.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from deploysim.snapshots._model import Exchange, Provenance, RequestMatcher, ResponseSpec

__all__ = ["HarImport", "exchanges_from_har"]

_DROP_HEADERS = {
    "date",
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "set-cookie",
    "alt-svc",
    "server-timing",
    "strict-transport-security",
    "vary",
    "via",
    "cf-ray",
    "age",
}


class HarImport(NamedTuple):
    """Exchanges per host (with the scheme seen), and entries not used with the reason."""

    by_host: dict[str, list[Exchange]]
    schemes: dict[str, str]
    skipped: list[str]


def _body(text: str | None, encoding: str | None, mime: str) -> tuple[Any, str | None]:
    """(json_body, text) of a HAR content object."""
    if text is None:
        return None, None
    if encoding == "base64":
        try:
            text = base64.b64decode(text).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
    if "json" in mime or text.lstrip().startswith(("{", "[")):
        try:
            return json.loads(text), None
        except json.JSONDecodeError:
            pass  # not JSON after all: kept as text below
    return None, text


def _entry(i: int, entry: dict[str, Any], source: str) -> tuple[str, str, Exchange]:
    req, resp = entry["request"], entry["response"]
    url = urlsplit(req["url"])
    if not url.hostname:
        raise ValueError("request URL has no host")
    pairs = parse_qsl(url.query, keep_blank_values=True)
    query = dict(pairs)
    if len(query) != len(pairs):
        raise ValueError("repeated query parameters cannot be matched")
    post = req.get("postData") or {}
    req_json, req_text = _body(post.get("text"), None, post.get("mimeType", ""))
    if req_text:
        strictness = "ignore_body"
    elif req_json is not None:
        strictness = "subset"
    else:
        strictness = "exact"
    content = resp.get("content") or {}
    mime = content.get("mimeType", "")
    json_body, text = _body(content.get("text"), content.get("encoding"), mime)
    headers = {
        h["name"].lower(): h["value"]
        for h in resp.get("headers", [])
        if h["name"].lower() not in _DROP_HEADERS and not h["name"].startswith(":")
    }
    ex = Exchange(
        request=RequestMatcher(
            method=req["method"].upper(),
            path=url.path or "/",
            query=query or None,
            json_body=req_json,
            strictness=strictness,
        ),
        response=ResponseSpec(
            status=int(resp["status"]), headers=headers, json_body=json_body, text=text
        ),
        provenance=[Provenance(source="har", detail=f"{source} entry {i}")],
    )
    return url.hostname.lower(), url.scheme, ex


def exchanges_from_har(doc: dict[str, Any], *, source: str, host: str | None = None) -> HarImport:
    """Read the entries of a HAR document, grouped by host (only ``host`` when given).

    Raises:
        ValueError: the document has no ``log.entries`` list.
    """
    entries = (doc.get("log") or {}).get("entries")
    if not isinstance(entries, list):
        raise ValueError("not a HAR document (no log.entries list)")
    by_host: dict[str, list[Exchange]] = {}
    schemes: dict[str, str] = {}
    skipped: list[str] = []
    for i, entry in enumerate(entries):
        try:
            h, scheme, ex = _entry(i, entry, source)
        except (KeyError, TypeError, ValueError) as e:
            skipped.append(f"entry {i}: {e!s} ({type(e).__name__})")
            continue
        if host is not None and h != host:
            skipped.append(f"entry {i}: host {h} is not {host}")
            continue
        by_host.setdefault(h, []).append(ex)
        schemes.setdefault(h, scheme)
    return HarImport(by_host, schemes, skipped)
