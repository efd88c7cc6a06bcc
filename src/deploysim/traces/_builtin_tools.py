"""Schemas of provider-defined tools, which requests name by type and carry no schema for.

Anthropic's client tools (``{"type": "bash_20250124", "name": "bash"}``) and OpenAI's
Responses built-ins (``{"type": "shell"}``, ``{"type": "apply_patch"}``) are defined by the
provider. The candidate model must be offered the same tool, so we ship their argument
schemas here, written from the providers' documentation and SDK types.
"""

from __future__ import annotations

from typing import Any

from deploysim.traces._model import ToolKind, ToolSpec

__all__ = ["builtin_tool", "builtin_tool_for_name"]

_BASH: dict[str, Any] = {
    "type": "object",
    "properties": {
        "command": {"type": "string", "description": "The bash command to run."},
        "restart": {"type": "boolean", "description": "Restart the bash session."},
    },
}

_TEXT_EDITOR: dict[str, Any] = {
    "type": "object",
    "properties": {
        "command": {
            "type": "string",
            "enum": ["view", "create", "str_replace", "insert", "undo_edit"],
            "description": "The editing operation.",
        },
        "path": {"type": "string", "description": "Absolute path of the file or directory."},
        "file_text": {"type": "string", "description": "Content for `create`."},
        "old_str": {"type": "string", "description": "Exact text to replace."},
        "new_str": {"type": "string", "description": "Replacement or inserted text."},
        "insert_line": {"type": "integer", "description": "Line after which to insert."},
        "view_range": {
            "type": "array",
            "items": {"type": "integer"},
            "description": "[start, end] lines to view; end -1 means to the end.",
        },
    },
    "required": ["command", "path"],
}

_MEMORY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "command": {
            "type": "string",
            "enum": ["view", "create", "str_replace", "insert", "delete", "rename"],
        },
        "path": {"type": "string"},
        "file_text": {"type": "string"},
        "old_str": {"type": "string"},
        "new_str": {"type": "string"},
        "insert_line": {"type": "integer"},
        "insert_text": {"type": "string"},
        "old_path": {"type": "string"},
        "new_path": {"type": "string"},
    },
    "required": ["command"],
}

_COMPUTER: dict[str, Any] = {
    "type": "object",
    "properties": {
        "action": {"type": "string", "description": "screenshot, left_click, type, key, ..."},
        "coordinate": {"type": "array", "items": {"type": "integer"}},
        "text": {"type": "string"},
    },
    "required": ["action"],
}

_OPENAI_COMPUTER: dict[str, Any] = {
    "type": "object",
    "properties": {
        "action": {
            "type": "object",
            "description": "click, double_click, scroll, type, keypress, wait, screenshot, ...",
        },
        "actions": {"type": "array", "items": {"type": "object"}},
    },
}

_SHELL: dict[str, Any] = {
    "type": "object",
    "properties": {
        "commands": {"type": "array", "items": {"type": "string"}},
        "timeout_ms": {"type": "integer"},
        "max_output_length": {"type": "integer"},
    },
    "required": ["commands"],
}

_LOCAL_SHELL: dict[str, Any] = {
    "type": "object",
    "properties": {
        "command": {"type": "array", "items": {"type": "string"}},
        "env": {"type": "object", "additionalProperties": {"type": "string"}},
        "working_directory": {"type": "string"},
        "user": {"type": "string"},
        "timeout_ms": {"type": "integer"},
    },
    "required": ["command"],
}

_APPLY_PATCH: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "enum": ["create_file", "update_file", "delete_file"]},
        "path": {"type": "string"},
        "diff": {"type": "string", "description": "V4A diff (create and update)."},
    },
    "required": ["type", "path"],
}

# provider type prefix -> (default name, kind, description, schema)
_TABLE: dict[str, tuple[str, ToolKind, str, dict[str, Any]]] = {
    "bash_": ("bash", "shell", "Run commands in a bash shell.", _BASH),
    "text_editor_": (
        "str_replace_based_edit_tool",
        "editor",
        "View, create and edit files.",
        _TEXT_EDITOR,
    ),
    "memory_": ("memory", "editor", "Store and read files in a memory directory.", _MEMORY),
    "computer_use_preview": (
        "computer_use_preview",
        "provider-builtin",
        "Control a computer's screen.",
        _OPENAI_COMPUTER,
    ),
    "computer_": ("computer", "provider-builtin", "Control a computer's screen.", _COMPUTER),
    "shell": ("shell", "shell", "Run shell commands.", _SHELL),
    "local_shell": ("local_shell", "shell", "Run a command on the local machine.", _LOCAL_SHELL),
    "apply_patch": ("apply_patch", "editor", "Create, update or delete files.", _APPLY_PATCH),
}

# Older Anthropic editor versions used this name.
_NAME_BY_TYPE = {
    "text_editor_20241022": "str_replace_editor",
    "text_editor_20250124": "str_replace_editor",
}


def builtin_tool(provider_type: str, name: str | None = None) -> ToolSpec | None:
    """The ToolSpec of a provider-defined tool type, or None when the type is unknown."""
    for prefix, (default_name, kind, description, schema) in _TABLE.items():
        exact = prefix in ("shell", "local_shell", "apply_patch", "computer_use_preview")
        if (exact and provider_type == prefix) or (not exact and provider_type.startswith(prefix)):
            effect = "unknown" if kind != "provider-builtin" else "write"
            return ToolSpec(
                name=name or _NAME_BY_TYPE.get(provider_type, default_name),
                description=description,
                parameters=schema,
                kind=kind,
                effect=effect,
                provider_type=provider_type,
            )
    return None


def builtin_tool_for_name(name: str) -> ToolSpec | None:
    """A provider tool guessed from a call's name alone (Anthropic ``bash``, editor names)."""
    guesses = {
        "bash": "bash_20250124",
        "str_replace_editor": "text_editor_20250124",
        "str_replace_based_edit_tool": "text_editor_20250728",
        "shell": "shell",
        "local_shell": "local_shell",
        "apply_patch": "apply_patch",
    }
    provider_type = guesses.get(name)
    return builtin_tool(provider_type, name) if provider_type else None
