"""Read tool definitions in any provider's shape into ToolSpec, and classify tools."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from deploysim._errors import ToolSchemaError
from deploysim.traces._builtin_tools import builtin_tool
from deploysim.traces._model import ToolEffect, ToolKind, ToolSpec
from deploysim.traces._nesting import loads, nesting_error

__all__ = ["classify_effect", "classify_kind", "load_tools_file", "toolspec_from_definition"]

_SHELL_NAMES = re.compile(r"^(bash|shell|sh|terminal|execute_bash|run_shell|run_command|exec|cmd)$")
_EDITOR_NAMES = re.compile(r"(editor|apply_patch|edit_file|write_file|str_replace|create_file)")
_SQL_NAMES = re.compile(r"(^|_)(sql|query_db|sqlite|database)(_|$)")
_HTTP_NAMES = re.compile(r"(^|_)(http|fetch|curl|request|web_browser|browser|web)(_|$)")
_READ_VERBS = re.compile(
    r"^(get|list|search|find|read|view|show|lookup|look_up|check|fetch|query|calculate|count|"
    r"describe|think|transfer_to_human)"
)
_WRITE_VERBS = re.compile(
    r"^(create|update|delete|remove|book|cancel|modify|send|exchange|return|set|add|write|"
    r"post|put|patch|pay|refund|transfer|move|rename|insert|upload|submit|reset|toggle|"
    r"enable|disable|grant|revoke)"
)


def classify_kind(name: str) -> ToolKind:
    """Guess what a tool acts on from its name."""
    lowered = name.lower()
    if _SHELL_NAMES.match(lowered):
        return "shell"
    if _EDITOR_NAMES.search(lowered):
        return "editor"
    if _SQL_NAMES.search(lowered):
        return "sql"
    if _HTTP_NAMES.search(lowered):
        return "http"
    return "function"


def classify_effect(name: str, kind: ToolKind) -> ToolEffect:
    """Guess whether a tool changes state from its name; unknown when the name can't tell.

    Shell, editor, SQL and HTTP tools can do either, so they stay ``unknown`` here; later
    stages decide per call.
    """
    if kind != "function":
        return "unknown"
    lowered = name.lower()
    if _READ_VERBS.match(lowered):
        return "read"
    if _WRITE_VERBS.match(lowered):
        return "write"
    return "unknown"


def _spec(name: Any, description: Any, parameters: Any, where: str) -> ToolSpec:
    if not isinstance(name, str) or not name:
        raise ToolSchemaError(f"{where}: tool has no name")
    if parameters is None:
        parameters = {"type": "object", "properties": {}}
    if not isinstance(parameters, dict):
        raise ToolSchemaError(f"{where}: parameters of tool {name!r} are not a JSON Schema object")
    kind = classify_kind(name)
    return ToolSpec(
        name=name,
        description=description if isinstance(description, str) else "",
        parameters=parameters,
        kind=kind,
        effect=classify_effect(name, kind),
    )


def toolspec_from_definition(d: Any, where: str = "tool") -> ToolSpec:
    """Read one tool definition in any known shape.

    Accepts OpenAI chat (``{"type": "function", "function": {...}}``), OpenAI Responses
    (flat ``{"type": "function", "name", "parameters"}``), custom tools, Anthropic
    (``input_schema``), provider built-ins (``{"type": "bash_20250124", "name": "bash"}``),
    MCP (``inputSchema``), inspect ``ToolInfo`` and our own ToolSpec dumps.
    """
    if not isinstance(d, dict):
        raise ToolSchemaError(f"{where}: a tool definition must be an object")
    if set(d) >= {"name", "kind", "effect"}:
        try:
            return ToolSpec.model_validate(d)
        except ValueError as e:
            raise ToolSchemaError(f"{where}: {e}") from e
    typ = d.get("type")
    fn = d.get("function")
    if typ == "function" and isinstance(fn, dict):
        return _spec(fn.get("name"), fn.get("description"), fn.get("parameters"), where)
    if typ == "custom" and "input_schema" not in d:
        custom = d.get("custom")
        c: dict[str, Any] = custom if isinstance(custom, dict) else d
        text_input = {"type": "object", "properties": {"input": {"type": "string"}}}
        return _spec(c.get("name"), c.get("description"), text_input, where)
    if isinstance(typ, str) and typ not in ("function", "custom"):
        spec = builtin_tool(typ, d.get("name"))
        if spec is not None:
            return spec
        if not any(k in d for k in ("parameters", "input_schema", "inputSchema")):
            # A provider-hosted tool (web_search_20250305, code_interpreter): no schema to ship.
            name = d.get("name") if isinstance(d.get("name"), str) else typ
            return ToolSpec(
                name=name,
                description=str(d.get("description") or ""),
                kind="provider-builtin",
                effect="unknown",
                provider_type=typ,
            )
    for key in ("parameters", "input_schema", "inputSchema"):
        if key in d:
            return _spec(d.get("name"), d.get("description"), d[key], where)
    if "name" in d:
        return _spec(d["name"], d.get("description"), None, where)
    raise ToolSchemaError(f"{where}: unrecognized tool definition with keys {sorted(d)}")


def load_tools_file(path: str | Path) -> list[ToolSpec]:
    """Read a JSON file holding a list of tool definitions (or ``{"tools": [...]}``)."""
    p = Path(path)
    try:
        data = loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise ToolSchemaError(f"{p}: cannot read tool schemas: {e}") from e
    except json.JSONDecodeError as e:
        raise ToolSchemaError(f"{p}: not JSON: {e.msg} at line {e.lineno}") from e
    deep = nesting_error(data)
    if deep:
        raise ToolSchemaError(f"{p}, field {deep.field}: {deep.reason}")
    if isinstance(data, dict) and isinstance(data.get("tools"), list):
        data = data["tools"]
    if not isinstance(data, list):
        raise ToolSchemaError(f"{p}: expected a JSON list of tool definitions")
    return [toolspec_from_definition(d, f"{p}, tool {i}") for i, d in enumerate(data)]
