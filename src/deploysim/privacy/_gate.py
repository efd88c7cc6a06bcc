"""The leak gate: scan every output artifact, and its decoded layers, for original values.

The gate looks for every real value the pseudonymizer knows, in every form the matcher
knows (case variants, digits in any punctuation, URL-encoded emails), in each string and
dict key of JSON/JSONL artifacts and in the text of others, and again after decoding
URL-encoding, HTML entities, base64 (when it decodes to text: JSON blobs, JWT segments)
and JSON held in strings. A report names the artifact, the line, the field path, the layer
and a keyed fingerprint of the value, never the value itself.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal, NamedTuple
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict, Field

from deploysim.privacy._errors import PrivacyError
from deploysim.privacy._pseudonymizer import Pseudonymizer
from deploysim.privacy._types import EntityType, entity_type_of

__all__ = ["GateReport", "Layer", "Leak", "gate_files", "gate_text", "gate_value"]

Layer = Literal["text", "url", "html", "base64", "json"]


class Leak(BaseModel):
    """An original value found in an output; the value itself is never recorded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    artifact: str = Field(description="The file (or label) scanned.")
    location: str = Field(description="Line and field path inside the artifact.")
    entity_type: EntityType
    fingerprint: str = Field(description="Keyed tag of the value (same value, same tag).")
    layer: Layer = Field(description="The decoding under which it was found.")

    def __str__(self) -> str:
        return f"{self.artifact}: {self.location}: {self.fingerprint} ({self.layer})"


class GateReport(BaseModel):
    """What the gate scanned and what it found.

    ``notices`` are original values found in protocol fields that scrubbing must copy
    verbatim (tool specs: names, descriptions, schemas), such as an example name in a tool
    description that happens to be a real customer's first name. They do not fail the gate;
    callers print them, since a real secret pasted into a tool description would land here.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    artifacts: int
    strings: int
    leaks: list[Leak] = Field(default_factory=list)
    notices: list[Leak] = Field(default_factory=list)

    @property
    def passed(self) -> bool:
        """No original value survives."""
        return not self.leaks

    @property
    def status(self) -> Literal["pass", "fail"]:
        """``pass`` or ``fail``, as ``deploysim scrub --json`` prints it."""
        return "pass" if self.passed else "fail"


_B64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_MAX_DEPTH = 3


def _b64_texts(s: str) -> Iterator[str]:
    for m in _B64_RUN.finditer(s):
        run = m.group()
        padded = run + "=" * (-len(run) % 4)
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                raw = decode(padded)
                text = raw.decode("utf-8")
            except (ValueError, binascii.Error, UnicodeDecodeError):
                continue
            if text and sum(c.isprintable() or c in "\n\r\t" for c in text) >= 0.9 * len(text):
                yield text
                break


def _layers(s: str, depth: int = 0) -> Iterator[tuple[Layer, str]]:
    """``s`` and what it decodes to (URL, HTML, base64, nested JSON), recursively."""
    yield "text", s
    if depth >= _MAX_DEPTH:
        return
    if "%" in s:
        u = unquote(s)
        if u != s:
            yield from (
                (layer if layer != "text" else "url", t) for layer, t in _layers(u, depth + 1)
            )
    if "&" in s and ";" in s:
        h = html.unescape(s)
        if h != s:
            yield from (
                (layer if layer != "text" else "html", t) for layer, t in _layers(h, depth + 1)
            )
    for decoded in _b64_texts(s):
        yield from (
            (layer if layer != "text" else "base64", t) for layer, t in _layers(decoded, depth + 1)
        )
    head = s.lstrip()[:1]
    if head in ("{", "[", '"'):
        try:
            parsed = json.loads(s)
        except ValueError:
            return
        for leaf in _strings(parsed):
            if leaf != s:
                yield from (
                    (layer if layer != "text" else "json", t)
                    for layer, t in _layers(leaf, depth + 1)
                )


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str):
                yield k
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


def gate_text(text: str, pz: Pseudonymizer, artifact: str, location: str) -> list[Leak]:
    """Leaks of original values in one string and its decoded layers (one per value)."""
    leaks: dict[str, Leak] = {}
    for layer, s in _layers(text):
        for hit in pz.find_originals(s):
            fp = pz.fingerprint_of(hit.rep)
            leaks.setdefault(
                fp,
                Leak(
                    artifact=artifact,
                    location=location,
                    entity_type=entity_type_of(hit.rep.kind),
                    fingerprint=fp,
                    layer=layer,
                ),
            )
    return list(leaks.values())


def _walk_paths(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            child = f"{path}.{k}" if path else str(k)
            if isinstance(k, str):
                yield child + " (key)", k
            yield from _walk_paths(v, child)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from _walk_paths(v, f"{path}[{i}]")


class _Found(NamedTuple):
    leaks: list[Leak]
    notices: list[Leak]
    strings: int


def gate_value(
    value: Any,
    pz: Pseudonymizer,
    artifact: str,
    prefix: str = "",
    protocol_keys: frozenset[str] = frozenset(),
) -> _Found:
    """Leaks in every string and key of a JSON-like value.

    Args:
        value: the value.
        pz: whose original values to look for.
        artifact: the artifact's name, for the report.
        prefix: prepended to each location (``line 3: ``).
        protocol_keys: top-level keys whose content is protocol copied verbatim (reported
            as notices, not leaks).
    """
    found = _Found([], [], 0)
    for path, s in _walk_paths(value, ""):
        top = re.split(r"[.\[ ]", path, maxsplit=1)[0]
        hits = gate_text(s, pz, artifact, f"{prefix}{path or '(root)'}")
        (found.notices if top in protocol_keys else found.leaks).extend(hits)
        found = found._replace(strings=found.strings + 1)
    return found


def _gate_file(path: Path, pz: Pseudonymizer, label: str, protocol_keys: frozenset[str]) -> _Found:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        text = path.read_bytes().decode("latin-1")
    except OSError as e:
        raise PrivacyError(
            f"{path}: cannot read output artifact for the leak gate: {e.strerror}"
        ) from e
    if "\n" in text.strip():  # one JSON document over several lines (JSONL is read below)
        try:
            return gate_value(json.loads(text), pz, label, "", protocol_keys)
        except ValueError:
            pass
    found = _Found([], [], 0)
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            found.leaks.extend(gate_text(line, pz, label, f"line {i}"))
            found = found._replace(strings=found.strings + 1)
            continue
        tag = f"line {i}: "
        if isinstance(doc, dict) and isinstance(doc.get("id"), str):
            tag = f"line {i} (id {doc['id']}): "
        sub = gate_value(doc, pz, label, tag, protocol_keys)
        found.leaks.extend(sub.leaks)
        found.notices.extend(sub.notices)
        found = found._replace(strings=found.strings + sub.strings)
    return found


def gate_files(
    paths: Iterable[str | Path],
    pz: Pseudonymizer,
    *,
    labels: dict[str, str] | None = None,
    protocol_keys: Iterable[str] = ("tools",),
) -> GateReport:
    """Scan output files (JSON, JSONL, or any text) for every original value.

    Args:
        paths: the artifacts to scan (never the vault or the key file).
        pz: the pseudonymizer whose real values are looked for.
        labels: display names for paths (a temporary file reported as its final name).
        protocol_keys: top-level keys of each JSON document that hold protocol copied
            verbatim (a canonical trace's ``tools``); hits there are notices, not leaks.
    """
    keys = frozenset(protocol_keys)
    total = _Found([], [], 0)
    count = 0
    for p in paths:
        count += 1
        label = (labels or {}).get(str(p), str(p))
        found = _gate_file(Path(p), pz, label, keys)
        total.leaks.extend(found.leaks)
        total.notices.extend(found.notices)
        total = total._replace(strings=total.strings + found.strings)
    return GateReport(
        artifacts=count, strings=total.strings, leaks=total.leaks, notices=total.notices
    )
