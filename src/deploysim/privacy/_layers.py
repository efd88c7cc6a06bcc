"""Encoded layers of a string: URL encoding, HTML entities and base64 text.

Scrubbing, the collector and the gate all use these functions, so what is decoded to be
scrubbed is exactly what the gate decodes to check. A layer is decoded only when the
result is plausible text: URL and HTML decoding must change the string and give valid
UTF-8; a base64 run must decode to valid UTF-8 that is almost all printable. Random ids,
hashes and binary blobs therefore stay opaque instead of being "decoded" into garbage that
detectors could misread. Each decoded layer can be re-encoded the way it was written
(:meth:`Layered.encode`), so a base64 blob stays valid base64 of the scrubbed content, a
URL-encoded query stays URL-encoded and HTML entities stay entities.

Bounds: a decoded layer is at most :data:`MAX_DECODED` characters, and callers follow at
most :data:`MAX_LAYERS` layers inside one another (base64 of URL-encoded text, ...).
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Literal, NamedTuple
from urllib.parse import quote, unquote

__all__ = [
    "MAX_DECODED",
    "MAX_LAYERS",
    "Layer",
    "Layered",
    "layers",
    "plausible_text",
    "rewrite_layers",
]

Layer = Literal["text", "url", "html", "base64", "json"]

MAX_LAYERS = 4
MAX_DECODED = 4 * 1024 * 1024

_URL_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# 16 characters (12 bytes) at least: shorter runs are words and ids far more often than data.
_B64_RUN = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,}={0,2}")


def plausible_text(text: str) -> bool:
    """Decoded bytes that read as text: 4+ characters, almost all printable, no NULs."""
    if len(text) < 4 or "\x00" in text:
        return False
    printable = sum(c.isprintable() or c in "\n\r\t" for c in text)
    return printable >= 0.95 * len(text)


class Layered(NamedTuple):
    """A decoded piece of a string and how to write a replacement back in its encoding.

    Attributes:
        layer: the encoding (``url``, ``html`` or ``base64``).
        start: where the encoded piece starts in the string.
        end: where it ends (URL and HTML layers cover the whole string).
        decoded: the decoded text.
        encode: ``encode(new_decoded)`` is the piece re-encoded, to write at
            ``[start:end]``.
    """

    layer: Layer
    start: int
    end: int
    decoded: str
    encode: Callable[[str], str]

    def apply(self, s: str, new_decoded: str) -> str:
        """``s`` with this piece re-encoded from ``new_decoded``."""
        return s[: self.start] + self.encode(new_decoded) + s[self.end :]


def _splice(units: list[str], pieces: list[str], new: str, middle: Callable[[str], str]) -> str:
    """``new`` written with the original ``units`` for its unchanged head and tail.

    ``pieces[i]`` is what ``units[i]`` decodes to. Only the changed middle goes through
    ``middle`` (the encoder), so the rest of the string keeps its bytes: markup and entities
    around a replaced name, the structure of a URL around a replaced query value.
    """
    head, pos = 0, 0
    while head < len(units) and new.startswith(pieces[head], pos):
        pos += len(pieces[head])
        head += 1
    tail, end = len(units), len(new)
    while tail > head and end - len(pieces[tail - 1]) >= pos:
        if not new.endswith(pieces[tail - 1], pos, end):
            break
        tail -= 1
        end -= len(pieces[tail])
    return "".join(units[:head]) + middle(new[pos:end]) + "".join(units[tail:])


_URL_UNIT = re.compile(r"(?:%[0-9A-Fa-f]{2})+|[\s\S]")


def _url(s: str) -> Layered | None:
    if "%" not in s or not _URL_ESCAPE.search(s):
        return None
    try:
        decoded = unquote(s, errors="strict")
        # Runs of escapes are one unit each, so a UTF-8 sequence is never split.
        units = [m.group() for m in _URL_UNIT.finditer(s)]
        pieces = [unquote(u, errors="strict") for u in units]
    except UnicodeDecodeError:
        return None
    if decoded == s or len(decoded) > MAX_DECODED or "".join(pieces) != decoded:
        return None
    # In the rewritten middle, characters the original wrote literally stay literal.
    safe = "".join(sorted({c for c in _URL_ESCAPE.sub("", s) if c.isascii() and c != "%"}))

    def encode(new: str) -> str:
        return _splice(units, pieces, new, lambda middle: quote(middle, safe=safe))

    return Layered("url", 0, len(s), decoded, encode)


def _html(s: str) -> Layered | None:
    if "&" not in s or not _ENTITY.search(s):
        return None
    decoded = html.unescape(s)
    if decoded == s or len(decoded) > MAX_DECODED:
        return None
    units = [m.group() for m in _HTML_UNIT.finditer(s)]
    pieces = [html.unescape(u) for u in units]
    if "".join(pieces) != decoded:
        return None  # entities without ";" decode by context: no unit-by-unit rewrite
    # Each character the original wrote as an entity is written with the same entity again.
    forms: dict[str, str] = {"&": "&amp;"}
    for u, piece in zip(units, pieces, strict=True):
        if len(u) > 1 and len(piece) == 1:
            forms.setdefault(piece, u)

    def encode(new: str) -> str:
        return _splice(units, pieces, new, lambda middle: "".join(forms.get(c, c) for c in middle))

    return Layered("html", 0, len(s), decoded, encode)


_HTML_UNIT = re.compile(_ENTITY.pattern + r"|[\s\S]")


def _b64_decode(run: str) -> tuple[str, bool] | None:
    """The text a base64 run decodes to and whether it used the URL-safe alphabet."""
    body = run.rstrip("=")
    if len(body) % 4 == 1 or len(body) * 3 // 4 > MAX_DECODED:
        return None
    urlsafe = "-" in body or "_" in body
    if urlsafe and ("+" in body or "/" in body):
        return None
    padded = body + "=" * (-len(body) % 4)
    try:
        raw = (base64.urlsafe_b64decode if urlsafe else base64.b64decode)(padded)
        text = raw.decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return (text, urlsafe) if plausible_text(text) else None


def _b64_pieces(s: str) -> Iterator[tuple[int, int]]:
    """Spans of base64 candidates: each run, and its parts when it does not decode.

    A run glued to an id by ``-`` or ``_`` (``conv-am9uYXRoYW4...``) is tried part by part.
    """
    for m in _B64_RUN.finditer(s):
        yield m.span()
        if ("-" in m.group() or "_" in m.group()) and _b64_decode(m.group()) is None:
            for part in _B64_PART.finditer(m.group()):
                if part.span() != (0, len(m.group())):
                    yield m.start() + part.start(), m.start() + part.end()


_B64_PART = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")


def _b64_runs(s: str) -> Iterator[Layered]:
    for start, end in _b64_pieces(s):
        run = s[start:end]
        found = _b64_decode(run)
        if found is None:
            continue
        text, urlsafe = found
        # Unpadded only when the run clearly was (its length is no multiple of 4).
        encode = _b64_encoder(urlsafe, padded=run.endswith("=") or len(run) % 4 == 0)
        yield Layered("base64", start, end, text, encode)


def _b64_encoder(urlsafe: bool, *, padded: bool) -> Callable[[str], str]:
    def encode(new: str) -> str:
        raw = new.encode("utf-8")
        out = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(raw).decode()
        return out if padded else out.rstrip("=")

    return encode


def layers(s: str, *, jwt: bool = True) -> tuple[Layered, ...]:
    """The encoded layers of ``s``, outermost only (callers recurse into ``decoded``).

    URL and HTML layers (the whole string) come first, then base64 runs from last to
    first, so applying several runs one after another keeps the earlier positions valid.
    ``jwt=False`` leaves out the segments of JWTs: scrubbing replaces a JWT whole (claims
    rewritten and re-signed), which rewriting one segment in place would prevent.
    """
    if len(s) < 16 and "%" not in s and "&" not in s:
        return ()
    # Scrubbing reads every string twice (observe, then rewrite): remember short ones.
    found = _layers_cached(s) if len(s) <= 65536 else _layers(s)
    if jwt or "eyJ" not in s:
        return found
    tokens = [m.span() for m in _JWT.finditer(s)]
    return tuple(
        x
        for x in found
        if x.layer != "base64" or not any(a < x.end and x.start < b for a, b in tokens)
    )


_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")


def _layers(s: str) -> tuple[Layered, ...]:
    out = [x for x in (_url(s), _html(s)) if x is not None]
    out.extend(reversed(list(_b64_runs(s))))
    return tuple(out)


_layers_cached = lru_cache(maxsize=32768)(_layers)


def rewrite_layers(s: str, rewrite: Callable[[Layer, str], str]) -> str:
    """``s`` with ``rewrite`` applied inside each encoded layer, re-encoded in place.

    A URL or HTML layer covers the whole string, and ``rewrite`` sees everything inside it
    (base64 runs included), so the first one that changes anything is the answer; otherwise
    each base64 run is rewritten on its own.
    """
    found = layers(s, jwt=False)
    if not found:
        return s
    for piece in found:
        if piece.layer in ("url", "html"):
            new = rewrite(piece.layer, piece.decoded)
            if new != piece.decoded:
                return piece.apply(s, new)
    out = s
    for piece in found:
        if piece.layer == "base64":
            new = rewrite(piece.layer, piece.decoded)
            if new != piece.decoded:
                out = piece.apply(out, new)
    return out
