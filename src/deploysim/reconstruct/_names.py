"""Naming rules: id fields, table names, canonical JSON of values."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any

__all__ = [
    "canon",
    "digest",
    "is_id_name",
    "plural",
    "scalars",
    "table_for_key",
]

_SAFE = re.compile(r"[^a-z0-9_]+")


def is_id_name(name: str) -> bool:
    """Whether a field or argument name names an identifier (``id``, ``order_id``)."""
    return name == "id" or name.endswith("_id")


def plural(stem: str) -> str:
    """English plural of a snake_case stem: reservation -> reservations, category -> categories."""
    if re.search(r"[^aeiou]y$", stem):
        return stem[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh)$", stem):
        return stem + "es"
    return stem + "s"


def table_for_key(column: str) -> str:
    """The table an id column names: ``order_id`` -> ``orders``, ``id`` -> ``items``."""
    stem = column[:-3] if column.endswith("_id") else column
    stem = _SAFE.sub("_", stem.lower()).strip("_") or "item"
    return plural(stem)


def canon(value: Any) -> str:
    """Canonical JSON (sorted keys, no spaces): equal values give equal texts."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def digest(value: Any) -> str:
    """A short SHA-256 of the canonical JSON of ``value``."""
    return hashlib.sha256(canon(value).encode("utf-8")).hexdigest()[:16]


def scalars(value: Any) -> Iterator[str | int]:
    """Every string and integer found anywhere in a JSON value (keys of objects included)."""
    if isinstance(value, bool):
        return
    if isinstance(value, str | int):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from scalars(v)
    elif isinstance(value, list):
        for v in value:
            yield from scalars(v)
