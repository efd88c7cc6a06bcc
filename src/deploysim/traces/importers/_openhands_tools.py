"""OpenHands' agent tools, and the call each OpenHands action stands for.

OpenHands' function-calling agents (CodeAct) offer ``execute_bash``, ``str_replace_editor``
(the schema of Anthropic's text editor), ``execute_ipython_cell``, ``web_read``, ``browser``,
``edit_file`` (the LLM-based editor), ``think`` and ``finish``. A trajectory records the
resulting *actions*; when an action carries no ``tool_call_metadata`` (older agents, which
wrote commands in text), :func:`synthesized_call` gives the tool and arguments it stands for.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from deploysim.traces._builtin_tools import builtin_tool
from deploysim.traces._model import ToolEffect, ToolKind, ToolSpec

__all__ = ["SynthesizedCall", "openhands_tool", "synthesized_call"]


def _obj(required: list[str], **props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required}


_STR: dict[str, Any] = {"type": "string"}
_EDITOR = builtin_tool("text_editor_20250124")
assert _EDITOR is not None  # shipped with deploysim: the table is ours
# name -> (kind, effect, description, schema). Python runs code in the sandbox, as the
# shell does, so it replays live there: kind "shell".
_TOOLS: dict[str, tuple[ToolKind, ToolEffect, str, dict[str, Any]]] = {
    "execute_bash": (
        "shell",
        "unknown",
        "Run a bash command in the sandbox's persistent shell.",
        _obj(["command"], command=_STR, is_input=_STR, timeout={"type": "number"}),
    ),
    "str_replace_editor": (
        "editor",
        "unknown",
        "View, create and edit files (view, create, str_replace, insert, undo_edit).",
        _EDITOR.parameters,
    ),
    "edit_file": (
        "editor",
        "write",
        "Rewrite a file, or a range of its lines, with the given content.",
        _obj(
            ["path", "content"],
            path=_STR,
            content=_STR,
            start={"type": "integer"},
            end={"type": "integer"},
        ),
    ),
    "execute_ipython_cell": (
        "shell",
        "unknown",
        "Run Python code in the sandbox's IPython kernel.",
        _obj(["code"], code=_STR),
    ),
    "web_read": ("http", "read", "Read a web page as text.", _obj(["url"], url=_STR)),
    "browser": (
        "http",
        "unknown",
        "Drive a browser with BrowserGym actions (goto, click, fill, ...).",
        _obj(["code"], code=_STR),
    ),
    "think": (
        "function",
        "read",
        "Log a thought; changes nothing.",
        _obj(["thought"], thought=_STR),
    ),
    "finish": (
        "function",
        "read",
        "End the interaction with a final message.",
        _obj([], message=_STR, task_completed=_STR, outputs={"type": "object"}),
    ),
}


def openhands_tool(name: str) -> ToolSpec | None:
    """The spec of an OpenHands agent tool, or None for tools it does not ship."""
    known = _TOOLS.get(name)
    if known is None:
        return None
    kind, effect, description, schema = known
    return ToolSpec(name=name, description=description, parameters=schema, kind=kind, effect=effect)


class SynthesizedCall(NamedTuple):
    """The tool call an action stands for, rebuilt from the action's own arguments."""

    name: str
    arguments: dict[str, Any]


def _pick(args: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: args[k] for k in keys if args.get(k) is not None}


def _edit(args: dict[str, Any]) -> SynthesizedCall:
    if isinstance(args.get("command"), str) and args["command"]:
        keys = ("command", "path", "file_text", "old_str", "new_str", "insert_line")
        return SynthesizedCall("str_replace_editor", _pick(args, *keys))
    return SynthesizedCall("edit_file", _pick(args, "path", "content", "start", "end"))


def synthesized_call(action: str, args: dict[str, Any]) -> SynthesizedCall:
    """The call an action without ``tool_call_metadata`` stands for."""
    if action == "run":
        # The tool takes is_input as the string "true"; the action records a boolean.
        flag = {"is_input": "true"} if args.get("is_input") is True else {}
        return SynthesizedCall("execute_bash", {**_pick(args, "command"), **flag})
    if action == "run_ipython":
        return SynthesizedCall("execute_ipython_cell", _pick(args, "code"))
    if action == "read":
        view = {"command": "view", **_pick(args, "path")}
        if isinstance(args.get("view_range"), list):
            view["view_range"] = args["view_range"]
        return SynthesizedCall("str_replace_editor", view)
    if action == "write":
        return SynthesizedCall(
            "str_replace_editor",
            {"command": "create", **_pick(args, "path"), "file_text": args.get("content", "")},
        )
    if action == "edit":
        return _edit(args)
    if action == "browse":
        return SynthesizedCall("web_read", _pick(args, "url"))
    if action == "browse_interactive":
        return SynthesizedCall("browser", {"code": args.get("browser_actions", "")})
    if action == "think":
        return SynthesizedCall("think", _pick(args, "thought"))
    if action == "finish":
        message = args.get("final_thought") or args.get("thought") or ""
        return SynthesizedCall("finish", {"message": message, **_pick(args, "task_completed")})
    if action == "mcp" and isinstance(args.get("name"), str) and args["name"]:
        arguments = args.get("arguments")
        return SynthesizedCall(args["name"], arguments if isinstance(arguments, dict) else {})
    return SynthesizedCall(action, {k: v for k, v in args.items() if k != "thought"})
