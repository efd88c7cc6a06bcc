"""Normalize a recorded tool's JSON Schema into the subset inspect-ai keeps.

inspect-ai 0.3.285 validates tool parameters into its own ``JSONSchema`` model, which keeps
``type, format, description, default, enum, items, properties, additionalProperties, anyOf,
required, pattern, minLength, maxLength, minimum, maximum, examples`` and silently drops the
rest (``$ref``, ``$defs``, ``oneOf``, ``allOf``, ``const``, ``title``...). It also refuses a
top-level property without a description. A schema passed through unchanged would reach the
candidate with holes in it; so we rewrite it, meaning-preserving where we can:

- ``$ref`` into ``$defs`` / ``definitions`` is inlined (a recursive reference becomes an
  untyped schema with a description saying so);
- ``oneOf`` becomes ``anyOf`` (the candidate sees the same alternatives);
- ``const`` becomes a one-value ``enum``; ``allOf`` is merged; OpenAPI ``nullable`` becomes a
  ``null`` alternative;
- keywords inspect cannot carry (``minItems``, ``title``...) are dropped, and a lost ``title``
  fills an empty description;
- missing descriptions of top-level properties and of the tool are filled in.

Every rewrite is listed in :attr:`NormalizedSchema.changes`, so nothing is lost silently.
"""

from __future__ import annotations

import copy
from typing import Any, NamedTuple

__all__ = ["KEPT_KEYWORDS", "NormalizedSchema", "normalize_schema", "normalize_tool_description"]

KEPT_KEYWORDS = frozenset(
    {
        "type",
        "format",
        "description",
        "default",
        "enum",
        "items",
        "properties",
        "additionalProperties",
        "anyOf",
        "required",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "examples",
    }
)
_MAX_DEPTH = 32
_TOP_LEVEL = frozenset({"type", "properties", "required", "additionalProperties"})


class NormalizedSchema(NamedTuple):
    """A schema inspect accepts, and what was changed to get it."""

    schema: dict[str, Any]
    changes: list[str]
    """One line per rewrite, with the JSON pointer of the place rewritten."""


class _Normalizer:
    def __init__(self, root: dict[str, Any]) -> None:
        self.defs: dict[str, Any] = {}
        for key in ("$defs", "definitions"):
            found = root.get(key)
            if isinstance(found, dict):
                self.defs.update({f"#/{key}/{k}": v for k, v in found.items()})
        self.changes: list[str] = []

    def note(self, where: str, what: str) -> None:
        self.changes.append(f"{where or '/'}: {what}")

    def resolve(self, ref: str, where: str, seen: tuple[str, ...]) -> dict[str, Any]:
        if ref in seen:
            self.note(where, f"recursive $ref {ref} cut")
            return {"description": f"(recursive reference to {ref.rsplit('/', 1)[-1]})"}
        target = self.defs.get(ref)
        if not isinstance(target, dict):
            self.note(where, f"unresolvable $ref {ref} replaced by an untyped schema")
            return {}
        self.note(where, f"$ref {ref} inlined")
        return self.walk(target, where, (*seen, ref))

    def walk(self, node: Any, where: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
        if not isinstance(node, dict):
            return {}
        if len(seen) > _MAX_DEPTH:
            self.note(where, "schema nested too deep; cut")
            return {}
        s = dict(node)
        if isinstance(s.get("$ref"), str):
            ref = s.pop("$ref")
            base = self.resolve(ref, where, seen)
            s = {**base, **{k: v for k, v in s.items() if k not in ("$defs", "definitions")}}
        if isinstance(s.get("allOf"), list):
            s = self._merge_all_of(s, where, seen)
        if "oneOf" in s:
            s["anyOf"] = [*s.get("anyOf", []), *s.pop("oneOf")]
            self.note(where, "oneOf mapped to anyOf")
        if "const" in s:
            s["enum"] = [s.pop("const")]
            self.note(where, "const mapped to enum")
        if s.pop("nullable", False) is True:
            typ = s.get("type")
            if isinstance(typ, str):
                s["type"] = [typ, "null"]
            elif isinstance(typ, list) and "null" not in typ:
                s["type"] = [*typ, "null"]
            self.note(where, "nullable mapped to a null type")
        out: dict[str, Any] = {}
        for key, value in s.items():
            if key == "properties" and isinstance(value, dict):
                out[key] = {
                    k: self.walk(v, f"{where}/properties/{k}", seen) for k, v in value.items()
                }
            elif key == "items" and isinstance(value, dict):
                out[key] = self.walk(value, f"{where}/items", seen)
            elif key == "items" and isinstance(value, list):
                # tuple validation: inspect keeps a single items schema
                out[key] = {"anyOf": [self.walk(v, f"{where}/items", seen) for v in value]}
                self.note(where, "tuple items mapped to anyOf")
            elif key == "anyOf" and isinstance(value, list):
                out[key] = [self.walk(v, f"{where}/anyOf/{i}", seen) for i, v in enumerate(value)]
            elif key == "additionalProperties" and isinstance(value, dict):
                out[key] = self.walk(value, f"{where}/additionalProperties", seen)
            elif key in KEPT_KEYWORDS:
                out[key] = copy.deepcopy(value)
            elif key in ("$defs", "definitions", "$schema", "$id"):
                continue
            elif key == "title":
                if not s.get("description") and isinstance(value, str) and value:
                    out.setdefault("description", value)
                    self.note(where, "title used as the description")
            else:
                self.note(where, f"keyword {key!r} dropped (inspect cannot carry it)")
        return out

    def _merge_all_of(self, s: dict[str, Any], where: str, seen: tuple[str, ...]) -> dict[str, Any]:
        parts = [self.walk(p, f"{where}/allOf/{i}", seen) for i, p in enumerate(s.pop("allOf"))]
        merged: dict[str, Any] = {}
        for part in [*parts, s]:
            for key, value in part.items():
                if key == "properties" and isinstance(value, dict):
                    merged.setdefault("properties", {}).update(value)
                elif key == "required" and isinstance(value, list):
                    merged["required"] = sorted({*merged.get("required", []), *value})
                else:
                    merged[key] = value
        self.note(where, "allOf merged")
        return merged


def normalize_schema(parameters: dict[str, Any] | None) -> NormalizedSchema:
    """Rewrite a tool's parameters schema so inspect-ai keeps all of it.

    The result is an ``object`` schema whose top-level properties all have descriptions.
    """
    root = parameters if isinstance(parameters, dict) else {}
    n = _Normalizer(root)
    schema = n.walk(root, "")
    if schema.get("type") != "object":
        if "type" in schema:
            n.note("", f"top-level type {schema['type']!r} replaced by 'object'")
        schema["type"] = "object"
    schema.setdefault("properties", {})
    for key in sorted(set(schema) - _TOP_LEVEL):
        # inspect's ToolParams (the arguments object) keeps only these four keywords.
        n.note("", f"top-level keyword {key!r} dropped (inspect keeps none there)")
        del schema[key]
    for name, prop in schema["properties"].items():
        if not isinstance(prop, dict):
            continue
        if not prop.get("description"):
            prop["description"] = name.replace("_", " ")
            n.note(f"/properties/{name}", "missing description filled from the name")
    required = schema.get("required")
    if isinstance(required, list):
        kept = [r for r in required if r in schema["properties"]]
        if kept != required:
            n.note("/required", "names without a property dropped")
        schema["required"] = kept
    return NormalizedSchema(schema, n.changes)


def normalize_tool_description(name: str, description: str) -> str:
    """A tool description inspect accepts (it must not be empty)."""
    return description.strip() or name.replace("_", " ")
