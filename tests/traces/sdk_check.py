"""Strict checks of hand-made fixtures against the provider SDKs' own type definitions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

# extra="forbid" reaches every nested TypedDict, so a misspelt field fails instead of vanishing.
FORBID = ConfigDict(extra="forbid")


def materialize(value: Any) -> Any:
    """Consume the lazy iterators pydantic returns for ``Iterable`` fields, validating them."""
    if isinstance(value, dict):
        return {k: materialize(v) for k, v in value.items()}
    if isinstance(value, list | tuple | Iterator):
        return [materialize(v) for v in value]
    return value


def assert_no_extras(model: Any, path: str) -> None:
    """SDK models accept unknown fields; a fixture must not rely on that."""
    if isinstance(model, BaseModel):
        assert not model.model_extra, f"{path}: fields unknown to the SDK: {model.model_extra}"
        for name in type(model).model_fields:
            assert_no_extras(getattr(model, name), f"{path}.{name}")
    elif isinstance(model, list):
        for i, v in enumerate(model):
            assert_no_extras(v, f"{path}[{i}]")


def write_record(tmp_path: Path, record: Any, name: str = "rec.json") -> Path:
    """Write one JSON record to a file and return its path."""
    p = tmp_path / name
    p.write_text(json.dumps(record))
    return p
