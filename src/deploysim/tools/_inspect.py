"""The trace's tools as inspect-ai ``ToolInfo``.

Exactly the recorded names and descriptions, with schemas normalized so inspect keeps all of
them (see :mod:`deploysim.tools._schema`).

Imports inspect-ai; only the replay path imports this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from deploysim.tools._schema import normalize_schema, normalize_tool_description
from deploysim.traces import ToolSpec

if TYPE_CHECKING:
    from inspect_ai.tool import ToolInfo

__all__ = ["OfferedTools", "offered_tools"]


class OfferedTools(NamedTuple):
    """The tools handed to the candidate, and what it took to hand them over."""

    infos: list[ToolInfo]
    changes: dict[str, list[str]]
    """Schema rewrites per tool name (empty lists are left out)."""
    skipped: dict[str, str]
    """Tools that cannot be offered as functions (provider-hosted built-ins), with why."""


def offered_tools(specs: Sequence[ToolSpec]) -> OfferedTools:
    """Build inspect ``ToolInfo`` objects for the trace's tools."""
    from inspect_ai.tool import ToolInfo, ToolParams

    infos: list[ToolInfo] = []
    changes: dict[str, list[str]] = {}
    skipped: dict[str, str] = {}
    for spec in specs:
        if spec.kind == "provider-builtin" and spec.provider_type is not None:
            skipped[spec.name] = (
                f"provider-hosted tool {spec.provider_type!r}: the provider runs it, "
                "there is no function to offer"
            )
            continue
        normalized = normalize_schema(spec.parameters)
        params = ToolParams.model_validate(normalized.schema)
        description = normalize_tool_description(spec.name, spec.description)
        notes = list(normalized.changes)
        if description != spec.description:
            notes.append("/: missing tool description filled from the name")
        if notes:
            changes[spec.name] = notes
        infos.append(ToolInfo(name=spec.name, description=description, parameters=params))
    return OfferedTools(infos, changes, skipped)
