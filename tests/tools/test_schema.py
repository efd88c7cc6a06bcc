"""Schema normalization: recorded schemas reach inspect-ai without losing anything."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from inspect_ai.tool import ToolParams

from deploysim.tools import KEPT_KEYWORDS, normalize_schema
from deploysim.tools._inspect import offered_tools
from deploysim.traces import ToolSpec, load_tools_file

NESTED = {
    "type": "object",
    "title": "Args",
    "$defs": {
        "Item": {
            "type": "object",
            "title": "Item",
            "properties": {
                "sku": {"type": "string", "const": "A-1"},
                "qty": {"type": "integer", "minimum": 1},
            },
            "required": ["sku"],
        },
        "Node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/Node"}}},
    },
    "properties": {
        "items": {"type": "array", "items": {"$ref": "#/$defs/Item"}, "minItems": 1},
        "mode": {"oneOf": [{"type": "string", "enum": ["a", "b"]}, {"type": "null"}]},
        "tree": {"$ref": "#/$defs/Node"},
        "note": {"type": "string", "nullable": True, "title": "A note"},
        "both": {
            "allOf": [
                {"properties": {"x": {"type": "string"}}, "required": ["x"]},
                {"properties": {"y": {"type": "number"}}},
            ]
        },
    },
    "required": ["items", "ghost"],
}


def _keywords(node: Any) -> set[str]:
    if isinstance(node, dict):
        out = set(node)
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for v in value.values():
                    out |= _keywords(v)
            elif key in ("items", "additionalProperties"):
                out |= _keywords(value)
            elif key == "anyOf":
                for v in value:
                    out |= _keywords(v)
        return out
    return set()


def test_rewrites_keep_the_meaning_and_are_listed() -> None:
    """$ref inlined, oneOf/const/allOf/nullable mapped, lost keywords listed, descriptions set."""
    result = normalize_schema(NESTED)
    s = result.schema
    item = s["properties"]["items"]["items"]
    assert item["properties"]["sku"]["enum"] == ["A-1"] and item["required"] == ["sku"]
    assert item["properties"]["qty"]["minimum"] == 1
    assert len(s["properties"]["mode"]["anyOf"]) == 2
    assert s["properties"]["note"]["type"] == ["string", "null"]
    assert s["properties"]["note"]["description"] == "A note"
    both = s["properties"]["both"]
    assert set(both["properties"]) == {"x", "y"} and both["required"] == ["x"]
    assert "recursive" in json.dumps(s["properties"]["tree"])
    assert s["required"] == ["items"]
    assert all(p.get("description") for p in s["properties"].values())
    assert _keywords(s) <= KEPT_KEYWORDS
    changes = "\n".join(result.changes)
    for expected in (
        "$ref #/$defs/Item inlined",
        "oneOf mapped",
        "const mapped",
        "allOf merged",
        "recursive $ref",
        "'minItems' dropped",
        "nullable",
        "names without a property",
    ):
        assert expected in changes


def test_inspect_keeps_every_normalized_keyword() -> None:
    """inspect's ToolParams round-trips the normalized schema unchanged (nothing dropped)."""
    s = normalize_schema(NESTED).schema
    dumped = ToolParams.model_validate(s).model_dump(exclude_none=True)
    dumped.pop("additionalProperties", None)
    assert dumped == s


@pytest.mark.parametrize("suite", ["tau-bench-airline", "tau2-retail"])
def test_recorded_schemas_are_offered_exactly(shared_traces: Path, suite: str) -> None:
    """The shared tools are offered with their names and descriptions; titles become text."""
    specs = load_tools_file(shared_traces / suite / "tool_schemas.json")
    offered = offered_tools(specs)
    assert [i.name for i in offered.infos] == [s.name for s in specs]
    assert [i.description for i in offered.infos] == [s.description for s in specs]
    for info in offered.infos:
        for name, prop in info.parameters.properties.items():
            assert prop.description, (info.name, name)
    if suite == "tau2-retail":
        assert offered.changes  # tau2 schemas carry 'title', which inspect would drop


def test_hosted_tools_are_not_offered_as_functions() -> None:
    """A provider-hosted tool is skipped with a reason, not offered as a broken function."""
    spec = ToolSpec(name="web_search", kind="provider-builtin", provider_type="web_search_20250305")
    offered = offered_tools([spec, ToolSpec(name="lookup")])
    assert [i.name for i in offered.infos] == ["lookup"] and "web_search" in offered.skipped
    assert offered.infos[0].description == "lookup"
