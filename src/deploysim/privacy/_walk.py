"""Protocol-aware traversal of JSON-like values: collect private values, then rewrite them.

Both phases walk the same way. Dict keys are never changed (unless asked, for snapshot data
keyed by private values); values under protected keys (ids) and strings equal to a tool
name are left alone; JSON Schemas and tool definitions are skipped. A string holding JSON
(tool arguments, tool results) is parsed, walked with field hints, and written back in its
original style (separators, indentation, ASCII escaping), so it still parses the same way.
Encoded text (URL encoding, HTML entities, base64 that decodes to text) is decoded, walked
like any other string (so JSON inside base64 gets its field hints), and re-encoded.

Walks are bounded: containers, JSON strings and decoded layers count as one level each, and
a value deeper than :data:`~deploysim.privacy._errors.MAX_NESTING` levels raises
:class:`~deploysim.privacy._errors.NestingError` naming the trace and the field, instead of
exhausting Python's stack.
"""

from __future__ import annotations

import fnmatch
import json
import re
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from deploysim.privacy._detect import ProseDetector, detect_text
from deploysim.privacy._errors import MAX_NESTING, NestingError, PrivacyError
from deploysim.privacy._hints import HintKind, dict_hints, entities_for_hint
from deploysim.privacy._jwt import decode_jwt
from deploysim.privacy._layers import MAX_LAYERS, Layer, layers, rewrite_layers
from deploysim.privacy._pseudonymizer import Pseudonymizer
from deploysim.privacy._types import Entity, EntityType

__all__ = ["Collector", "Rewriter", "WalkOptions"]

_NUMERIC_HINTS = frozenset({"phone", "zip", "card", "ssn"})
# What a pattern value in an id needs: an @, a URL, a +, or digits in a phone or card
# layout. Ordinary ids (call_..., toolu_..., uuids) and timestamps are never scanned.
_MAYBE_PATTERN = re.compile(r"@|://|\+\d|\d{7}|\d{3}[ ).-]+\d{3}[ .-]\d{4}|\d{4}[ -]\d{4}")
_JSON_STYLES: tuple[dict[str, Any], ...] = (
    {},
    {"ensure_ascii": False},
    {"separators": (",", ":")},
    {"separators": (",", ":"), "ensure_ascii": False},
    {"indent": 2},
    {"indent": 2, "ensure_ascii": False},
    {"indent": 4},
    {"indent": 4, "ensure_ascii": False},
)


class WalkOptions(NamedTuple):
    """How to walk a value.

    Attributes:
        protected_values: strings never treated as private (the trace's tool names).
        protected_keys: keys whose values are left untouched (call ids, roles, types).
        path_hints: ``(glob, hint)`` pairs; a value whose dotted path (``users[3].nm``) or
            key matches the glob is read as that kind, on top of the built-in field hints.
        rewrite_keys: also rewrite dict keys that are known private values (snapshot data
            keyed by user id); never for traces, whose keys are protocol.
        skip_schemas: leave JSON Schemas and tool definitions alone.
    """

    protected_values: frozenset[str] = frozenset()
    protected_keys: frozenset[str] = frozenset()
    path_hints: tuple[tuple[str, HintKind], ...] = ()
    rewrite_keys: bool = False
    skip_schemas: bool = True


_DEFAULT = WalkOptions()


def _is_schema(d: Mapping[str, Any]) -> bool:
    if "$schema" in d:
        return True
    if isinstance(d.get("properties"), dict) and d.get("type") == "object":
        return True
    return any(
        isinstance(d.get(k), dict) for k in ("parameters", "input_schema", "inputSchema")
    ) and ("name" in d or "description" in d)


def _json_container(s: str, path: str) -> Any:
    """The parsed value when ``s`` is a JSON object or array, else None."""
    head = s.lstrip()[:1]
    if head not in ("{", "[") or len(s) < 2:
        return None
    try:
        parsed = json.loads(s)
    except ValueError:
        return None
    except RecursionError as e:  # the C parser's own limit: far deeper than we follow
        raise NestingError(path) from e
    return parsed if isinstance(parsed, dict | list) else None


class _Walker(ABC):
    def __init__(self, options: WalkOptions) -> None:
        self.options = options
        self._depth = 0
        self._layer_depth = 0

    def _enter(self, path: str) -> None:
        self._depth += 1
        if self._depth > MAX_NESTING:
            self._depth = 0  # the walk is abandoned: the next one starts from the top
            self._layer_depth = 0
            raise NestingError(path)

    def walk_layer(self, decoded: str, path: str, layer: Layer, prose: bool) -> str:
        """Walk the decoded text of an encoded layer (one level deeper)."""
        self._enter(path)
        self._layer_depth += 1
        try:
            return str(self.walk(decoded, f"{path} ({layer})", prose=prose))
        finally:
            self._layer_depth -= 1
            self._depth -= 1

    def can_decode(self) -> bool:
        """Whether one more encoded layer may be followed."""
        return self._layer_depth < MAX_LAYERS

    def _hint_for(self, path: str, key: str, builtin: HintKind | None) -> HintKind | None:
        for pattern, hint in self.options.path_hints:
            if fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(key, pattern):
                return hint
        return builtin

    def walk(
        self,
        value: Any,
        path: str = "",
        *,
        key: str | None = None,
        hint: HintKind | None = None,
        prose: bool = False,
    ) -> Any:
        """The value, rewritten (the same object when nothing changed)."""
        if isinstance(value, str):
            if value in self.options.protected_values:
                return value
            parsed = _json_container(value, path)
            if parsed is not None:
                self._enter(path)
                try:
                    return self.json_string(value, parsed, path)
                finally:
                    self._depth -= 1
            return self.leaf(value, path, hint, prose)
        if isinstance(value, dict | list | tuple):
            self._enter(path)
            try:
                return self._container(value, path, key, hint)
            finally:
                self._depth -= 1
        if hint in _NUMERIC_HINTS and isinstance(value, int) and not isinstance(value, bool):
            return self.number(value, hint)
        return value

    def _container(self, value: Any, path: str, key: str | None, hint: HintKind | None) -> Any:
        if isinstance(value, dict):
            return self._dict(value, path, key)
        items = [self.walk(v, f"{path}[{i}]", key=key, hint=hint) for i, v in enumerate(value)]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return type(value)(items) if isinstance(value, tuple) else items

    def _dict(self, d: dict[Any, Any], path: str, parent_key: str | None) -> Any:
        if self.options.skip_schemas and _is_schema(d):
            return d
        hints = dict_hints(d, parent_key, self.options.protected_values)
        changed = False
        out: dict[Any, Any] = {}
        for k, v in d.items():
            if not isinstance(k, str):
                out[k] = v
                continue
            child_path = f"{path}.{k}" if path else k
            if k in self.options.protected_keys:
                new_v = self.protected(v, child_path) if isinstance(v, str) else v
            else:
                hint = self._hint_for(child_path, k, hints.get(k))
                new_v = self.walk(v, child_path, key=k, hint=hint)
            new_k = self.key(k) if self.options.rewrite_keys else k
            changed = changed or new_v is not v or new_k != k
            out[new_k] = new_v
        return out if changed else d

    # Hooks, one implementation per phase.
    @abstractmethod
    def json_string(self, s: str, parsed: Any, path: str) -> str:
        """A string that holds JSON (tool arguments): walk the parsed value."""

    @abstractmethod
    def leaf(self, s: str, path: str, hint: HintKind | None, prose: bool) -> str:
        """A plain string value."""

    @abstractmethod
    def protected(self, s: str, path: str) -> str:
        """A string under a protocol key (an id): left alone unless it holds a private value."""

    @abstractmethod
    def number(self, value: int, hint: HintKind) -> int:
        """A number in a field whose name hints at private data."""

    @abstractmethod
    def key(self, k: str) -> str:
        """A mapping key (rewritten only when asked)."""


class Collector(_Walker):
    """Phase 1: finds private values and notes them with the pseudonymizer."""

    def __init__(
        self,
        pseudonymizer: Pseudonymizer,
        options: WalkOptions = _DEFAULT,
        prose_detectors: Sequence[ProseDetector] = (),
    ) -> None:
        super().__init__(options)
        self.pz = pseudonymizer
        self.prose_detectors = tuple(prose_detectors)
        self._seen: set[tuple[str, bool | None]] = set()

    def json_string(self, s: str, parsed: Any, path: str) -> str:
        self.walk(parsed, path)
        return s

    def leaf(self, s: str, path: str, hint: HintKind | None, prose: bool) -> str:
        if hint is not None:
            for entity in entities_for_hint(hint, s):
                self.pz.observe(entity)
        if (s, prose) in self._seen:
            return s
        self._seen.add((s, prose))
        for span in detect_text(s, self.prose_detectors if prose else ()):
            value = s[span.start : span.end]
            if span.kind is None or span.type == "PERSON":
                for entity in entities_for_hint("person", value):
                    self.pz.observe(entity)
                continue
            self.pz.observe(Entity(span.kind, value))
            if span.detector == "secret:jwt":
                parts = decode_jwt(value)
                if parts is not None:
                    self.walk(parts.claims, f"{path} (JWT claims)")
        if self.can_decode():
            for piece in layers(s):
                self.walk_layer(piece.decoded, path, piece.layer, prose)
        return s

    def protected(self, s: str, path: str) -> str:
        # Pattern values only (an email used as a customer id): names and field hints would
        # read ordinary ids as private far too often.
        if (s, None) in self._seen or not _MAYBE_PATTERN.search(s):
            return s
        self._seen.add((s, None))
        for span in detect_text(s):
            if span.kind is not None and span.type != "PERSON":
                self.pz.observe(Entity(span.kind, s[span.start : span.end]))
        return s

    def number(self, value: int, hint: HintKind) -> int:
        for entity in entities_for_hint(hint, str(value)):
            self.pz.observe(entity)
        return value

    def key(self, k: str) -> str:
        return k


class Rewriter(_Walker):
    """Phase 2: rewrites every known value, counting replacements per entity type."""

    def __init__(self, pseudonymizer: Pseudonymizer, options: WalkOptions = _DEFAULT) -> None:
        super().__init__(options)
        self.pz = pseudonymizer
        self.counts: Counter[EntityType] = Counter()

    def json_string(self, s: str, parsed: Any, path: str) -> str:
        before = self.counts.copy()
        new = self.walk(parsed, path)
        if new is parsed:
            return s
        for style in _JSON_STYLES:
            if json.dumps(parsed, **style) == s:
                return json.dumps(new, **style)
        # Not in a style we can reproduce: rewrite the text itself, then check it still parses.
        self.counts = before
        text = self.leaf(s, path, None, False)
        try:
            json.loads(text)
        except json.JSONDecodeError as e:
            raise PrivacyError(
                f"{path}: the JSON text no longer parses after replacement ({e.msg} at "
                f"character {e.pos}); its layout could not be reproduced to rewrite it safely"
            ) from e
        return text

    def leaf(self, s: str, path: str, hint: HintKind | None, prose: bool) -> str:
        # Encoded layers first: a plain pass could rewrite part of an encoded value (the
        # name in "megan.chang%20at%20...") and leave the rest unrecognizable once decoded.
        if self.can_decode():
            s = rewrite_layers(s, lambda layer, text: self.walk_layer(text, path, layer, prose))
        new, counts = self.pz.replace_text(s)
        self.counts.update(counts)
        return new

    def protected(self, s: str, path: str) -> str:
        if not _MAYBE_PATTERN.search(s):
            return s
        originals = self.pz.find_originals(s)
        if any(h.rep.kind not in ("first_name", "last_name") for h in originals):
            return self.leaf(s, path, None, False)
        return s

    def number(self, value: int, hint: HintKind) -> int:
        text = str(value)
        new = self.leaf(text, "", hint, False)
        return int(new) if new != text and new.isdigit() else value

    def key(self, k: str) -> str:
        return self.leaf(k, "", None, False)
