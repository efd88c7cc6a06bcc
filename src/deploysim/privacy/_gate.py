"""The leak gate: scan every output artifact, and its decoded layers, for original values.

The gate looks for every real value the pseudonymizer knows, in every form the matcher
knows (case variants, digits in any punctuation, URL-encoded emails), in each string and
dict key of JSON/JSONL artifacts and in the text of others, and again after decoding
URL-encoding, HTML entities, base64 (when it decodes to text: JSON blobs, JWT segments)
and JSON held in strings. What encodings hide is also run through the detectors: a private
value found there that is not a pseudonym of the map fails the gate even when no plain
occurrence ever put it in the map. A report names the artifact, the line, the field path, the layer
and a keyed fingerprint of the value, never the value itself.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from deploysim.privacy._detect import detect_text
from deploysim.privacy._errors import NestingError, PrivacyError
from deploysim.privacy._layers import MAX_DECODED, MAX_LAYERS, Layer, layers
from deploysim.privacy._pseudonymizer import Pseudonymizer, normalize
from deploysim.privacy._types import EntityType, Kind, entity_type_of

__all__ = ["GateReport", "Layer", "Leak", "gate_files", "gate_text", "gate_value"]


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


def _json_layer(s: str) -> Any:
    head = s.lstrip()[:1]
    if head not in ("{", "[", '"') or len(s) > MAX_DECODED:
        return None
    try:
        return json.loads(s)
    except ValueError:
        return None
    except RecursionError:
        # Deeper than the scrubber follows: it refuses such input, so the gate reads it as
        # text (every original is still looked for in the string itself).
        return None


def _layers(s: str) -> Iterator[tuple[Layer, str]]:
    """``s`` and what it decodes to (URL, HTML, base64, nested JSON), breadth first.

    Each decoded text is labelled with the outermost decoding that led to it, and at most
    :data:`MAX_LAYERS` decodings are followed inside one another.
    """
    queue: deque[tuple[Layer, str, int]] = deque([("text", s, 0)])
    while queue:
        label, text, depth = queue.popleft()
        yield label, text
        if depth >= MAX_LAYERS:
            continue
        for piece in layers(text):
            queue.append((piece.layer if label == "text" else label, piece.decoded, depth + 1))
        parsed = _json_layer(text)
        if parsed is not None:
            for leaf in _strings(parsed):
                if leaf != text:
                    queue.append(("json" if label == "text" else label, leaf, depth + 1))


def _strings(value: Any) -> Iterator[str]:
    """Every string and string key of a JSON-like value, without recursion."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            yield v
        elif isinstance(v, dict):
            for k, item in v.items():
                if isinstance(k, str):
                    yield k
                stack.append(item)
        elif isinstance(v, list | tuple):
            stack.extend(v)


def _unscrubbed(text: str, pz: Pseudonymizer) -> Iterator[tuple[Kind, str]]:
    """Private values the detectors find in ``text`` that are not pseudonyms of the map."""
    for span in detect_text(text):
        if span.kind is None:
            continue
        value = text[span.start : span.end]
        if not pz.is_pseudonym(span.kind, value):
            yield span.kind, value


def gate_text(text: str, pz: Pseudonymizer, artifact: str, location: str) -> list[Leak]:
    """Leaks in one string and its decoded layers (one per value).

    Every original value of the map is looked for in every layer. Encoded layers (URL,
    HTML, base64, and what they hold) also go through the detectors on their own: a value
    found there that is not one of the map's pseudonyms is a leak too, even if it was never
    seen plain.
    """
    leaks: dict[str, Leak] = {}

    def add(kind: Kind, fp: str, layer: Layer) -> None:
        leaks.setdefault(
            fp,
            Leak(
                artifact=artifact,
                location=location,
                entity_type=entity_type_of(kind),
                fingerprint=fp,
                layer=layer,
            ),
        )

    for layer, s in _layers(text):
        for hit in pz.find_originals(s):
            add(hit.rep.kind, pz.fingerprint_of(hit.rep), layer)
        if layer in _DETECTED_LAYERS:
            for kind, value in _unscrubbed(s, pz):
                add(kind, pz.fingerprint(kind, normalize(kind, value)), layer)
    return list(leaks.values())


# JSON inside strings is parsed and walked by the scrubber like any value, so its plain
# text was detected there already; encodings are what hides values from a plain scan.
_DETECTED_LAYERS: frozenset[Layer] = frozenset({"url", "html", "base64"})


def _walk_paths(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """``(path, string)`` for every string and key, in document order, without recursion."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        here, v = stack.pop()
        if isinstance(v, str):
            yield here, v
        elif isinstance(v, dict):
            children = []
            for k, item in v.items():
                child = f"{here}.{k}" if here else str(k)
                if isinstance(k, str):
                    yield child + " (key)", k
                children.append((child, item))
            stack.extend(reversed(children))
        elif isinstance(v, list | tuple):
            stack.extend(reversed([(f"{here}[{i}]", item) for i, item in enumerate(v)]))


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
        except RecursionError as e:
            raise NestingError(f"{label}: the JSON document") from e
    found = _Found([], [], 0)
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except RecursionError as e:
            raise NestingError(f"{label}: line {i}") from e
        except ValueError:
            found.leaks.extend(gate_text(line, pz, label, f"line {i}"))
            found = found._replace(strings=found.strings + 1)
            continue
        tag = f"line {i}: "
        # The id names the trace in the report, unless the id itself leaks a value.
        doc_id = doc.get("id") if isinstance(doc, dict) else None
        if isinstance(doc_id, str) and not gate_text(doc_id, pz, label, ""):
            tag = f"line {i} (id {doc_id}): "
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
