"""Scenarios for the fault tests: one hand-made trace whose agent runs given commands.

The trace is replayed with ``deploysim/original`` (the recorded agent's own calls) against
the shop snapshot (a workspace with SQLite and bash, and a services sidecar serving the
Corvapay API), so a test decides exactly what "the agent" does in a real pod.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from deploysim.traces import Trace, write_traces

REPO = Path(__file__).resolve().parents[2]
SHOP = REPO / "env_snapshots" / "shop"

TOOLS: list[dict[str, Any]] = [
    {
        "name": "bash",
        "description": "Run a bash command on the machine and return its output.",
        "parameters": {
            "type": "object",
            "properties": {"command": {"type": "string", "description": "The command."}},
            "required": ["command"],
        },
        "kind": "shell",
    },
    {
        "name": "str_replace_based_edit_tool",
        "description": "View, create and edit files.",
        "parameters": {
            "type": "object",
            "properties": {
                "command": {"type": "string", "description": "view, create, str_replace."},
                "path": {"type": "string", "description": "Absolute path."},
                "file_text": {"type": "string", "description": "Content (create)."},
            },
            "required": ["command", "path"],
        },
        "kind": "editor",
    },
]

Call = tuple[str, dict[str, Any]]


def bash(command: str) -> Call:
    """A bash call."""
    return ("bash", {"command": command})


def _message(role: str, *parts: dict[str, Any]) -> dict[str, Any]:
    return {"role": role, "parts": list(parts)}


def _turn(messages: list[dict[str, Any]], calls: list[Call], first: int) -> None:
    for i, (name, args) in enumerate(calls, start=first):
        cid = f"call_{i}"
        messages.append(
            _message("assistant", {"type": "tool_call", "id": cid, "name": name, "arguments": args})
        )
        messages.append(
            _message("tool", {"type": "tool_result", "call_id": cid, "output": "recorded"})
        )
    messages.append(_message("assistant", {"type": "text", "text": "All done."}))


def trace(trace_id: str, calls: list[Call], then: list[Call] | None = None) -> Trace:
    """A trace: system, user, an agent turn making ``calls`` (one per message), done; with
    ``then``, a second user message and a second turn making those calls."""
    messages = [
        _message("system", {"type": "text", "text": "You are the shop's operations agent."}),
        _message("user", {"type": "text", "text": "Please check the machine."}),
    ]
    _turn(messages, calls, 0)
    if then is not None:
        messages.append(_message("user", {"type": "text", "text": "And now the rest."}))
        _turn(messages, then, len(calls))
    return Trace.model_validate(
        {
            "id": trace_id,
            "source": {"format": "deploysim"},
            "tools": TOOLS,
            "messages": messages,
        }
    )


def scenario(folder: Path, traces: list[Trace], cut: int = 1, **limits: Any) -> Path:
    """A scenario replaying ``traces`` from agent turn ``cut`` against the shop."""
    folder.mkdir(parents=True, exist_ok=True)
    write_traces(traces, folder / "traces.jsonl")
    body: dict[str, Any] = {
        "traces": [{"path": "traces.jsonl"}],
        "snapshot": str(SHOP),
        "cut": cut,
        "mode": "original",
    }
    if limits:
        body["limits"] = limits
    path = folder / "faults.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path
