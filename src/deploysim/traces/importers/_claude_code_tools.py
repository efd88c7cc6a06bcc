"""Schemas of Claude Code's built-in tools, which session logs call but never declare.

A session log records the calls, not the tool list Claude Code offered, so the importer gives
each called built-in the schema written here from Claude Code's documented tool inputs (and
checked against the calls in real sessions). Claude Code changes its tools between versions
(``LS``, ``MultiEdit`` and ``TodoRead`` left in 2.0; ``KillBash`` became ``KillShell``), so the
schemas require only what every version requires and never forbid extra properties.

``kind`` and ``effect`` are set where the tool's semantics fix them: ``Read`` never changes a
file, ``Edit`` always does; ``Bash`` and ``Task`` can do either, so they stay ``unknown``.
MCP tools (``mcp__<server>__<tool>``) get an open schema: the server's list is not logged.
"""

from __future__ import annotations

from typing import Any

from deploysim.traces._model import ToolEffect, ToolKind, ToolSpec

__all__ = ["claude_code_tool"]


def _obj(required: list[str], **props: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    return schema


_STR: dict[str, Any] = {"type": "string"}
_NUM: dict[str, Any] = {"type": "number"}
_BOOL: dict[str, Any] = {"type": "boolean"}
_STRS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
_EDIT = _obj(["old_string", "new_string"], old_string=_STR, new_string=_STR, replace_all=_BOOL)
_TODO = _obj(
    ["content", "status"],
    content=_STR,
    status={"type": "string", "enum": ["pending", "in_progress", "completed"]},
    activeForm=_STR,
    id=_STR,
    priority=_STR,
)

# name -> (kind, effect, description, schema)
_TOOLS: dict[str, tuple[ToolKind, ToolEffect, str, dict[str, Any]]] = {
    "Bash": (
        "shell",
        "unknown",
        "Run a bash command in a persistent shell (timeout in ms; optionally in the background).",
        _obj(
            ["command"],
            command=_STR,
            timeout=_NUM,
            description=_STR,
            run_in_background=_BOOL,
            dangerouslyDisableSandbox=_BOOL,
        ),
    ),
    "BashOutput": (
        "shell",
        "read",
        "Read new output of a background bash shell.",
        _obj(["bash_id"], bash_id=_STR, filter=_STR),
    ),
    "KillShell": (
        "shell",
        "write",
        "Kill a background bash shell.",
        _obj(["shell_id"], shell_id=_STR),
    ),
    "KillBash": (
        "shell",
        "write",
        "Kill a background bash shell.",
        _obj(["shell_id"], shell_id=_STR),
    ),
    "Read": (
        "editor",
        "read",
        "Read a file (lines numbered like cat -n), from an offset, up to a limit of lines.",
        _obj(["file_path"], file_path=_STR, offset=_NUM, limit=_NUM),
    ),
    "Write": (
        "editor",
        "write",
        "Write a file, replacing its content.",
        _obj(["file_path", "content"], file_path=_STR, content=_STR),
    ),
    "Edit": (
        "editor",
        "write",
        "Replace an exact string in a file (every occurrence with replace_all).",
        _obj(
            ["file_path", "old_string", "new_string"],
            file_path=_STR,
            old_string=_STR,
            new_string=_STR,
            replace_all=_BOOL,
        ),
    ),
    "MultiEdit": (
        "editor",
        "write",
        "Apply several exact-string edits to one file, in order.",
        _obj(["file_path", "edits"], file_path=_STR, edits={"type": "array", "items": _EDIT}),
    ),
    "NotebookRead": (
        "editor",
        "read",
        "Read a Jupyter notebook's cells.",
        _obj(["notebook_path"], notebook_path=_STR, cell_id=_STR),
    ),
    "NotebookEdit": (
        "editor",
        "write",
        "Replace, insert or delete a cell of a Jupyter notebook.",
        _obj(
            ["notebook_path", "new_source"],
            notebook_path=_STR,
            cell_id=_STR,
            new_source=_STR,
            cell_type={"type": "string", "enum": ["code", "markdown"]},
            edit_mode={"type": "string", "enum": ["replace", "insert", "delete"]},
        ),
    ),
    "Glob": (
        "editor",
        "read",
        "List files matching a glob pattern.",
        _obj(["pattern"], pattern=_STR, path=_STR),
    ),
    "Grep": (
        "editor",
        "read",
        "Search file contents with a regular expression (ripgrep).",
        _obj(
            ["pattern"],
            pattern=_STR,
            path=_STR,
            glob=_STR,
            type=_STR,
            output_mode={"type": "string", "enum": ["content", "files_with_matches", "count"]},
            head_limit=_NUM,
            multiline=_BOOL,
            **{"-A": _NUM, "-B": _NUM, "-C": _NUM, "-n": _BOOL, "-i": _BOOL},
        ),
    ),
    "LS": (
        "editor",
        "read",
        "List a directory.",
        _obj(["path"], path=_STR, ignore=_STRS),
    ),
    "WebFetch": (
        "http",
        "read",
        "Fetch a URL and answer a prompt about its content.",
        _obj(["url", "prompt"], url=_STR, prompt=_STR),
    ),
    "WebSearch": (
        "http",
        "read",
        "Search the web.",
        _obj(["query"], query=_STR, allowed_domains=_STRS, blocked_domains=_STRS),
    ),
    "TodoWrite": (
        "function",
        "write",
        "Replace the session's todo list (Claude Code's own state, not the workspace).",
        _obj(["todos"], todos={"type": "array", "items": _TODO}),
    ),
    "TodoRead": ("function", "read", "Read the session's todo list.", _obj([])),
    "Task": (
        "function",
        "unknown",
        "Run a subagent on a task; it has tools of its own and returns its final report.",
        _obj(["description", "prompt"], description=_STR, prompt=_STR, subagent_type=_STR),
    ),
    "ExitPlanMode": (
        "function",
        "read",
        "Present a plan and leave plan mode.",
        _obj(["plan"], plan=_STR),
    ),
    "SlashCommand": (
        "function",
        "unknown",
        "Run a slash command.",
        _obj(["command"], command=_STR),
    ),
}


def claude_code_tool(name: str) -> ToolSpec | None:
    """The spec of a Claude Code built-in or MCP tool called ``name``; None when unknown."""
    known = _TOOLS.get(name)
    if known is not None:
        kind, effect, description, schema = known
        return ToolSpec(
            name=name, description=description, parameters=schema, kind=kind, effect=effect
        )
    if name.startswith("mcp__") and name.count("__") >= 2:
        server = name.split("__")[1]
        return ToolSpec(name=name, description=f"Tool of the MCP server {server!r}.")
    return None
