"""SWE-agent trajectories: ``.traj`` JSON files, and demo ``.yaml`` files, with a ``history``.

The ``history`` is the conversation the model saw, in one of two forms:

- *tool calls* (SWE-agent 1.x with function calling): assistant entries carry OpenAI-style
  ``tool_calls`` (arguments as JSON strings) and observations are ``role: tool`` entries with
  a list of ``tool_call_ids``;
- *command in text* (0.x, and 1.x parsing thought/action from text): an assistant entry's
  ``action`` is the command it wrote (``find_file x.py``, a multi-line ``edit`` ending in
  ``end_of_edit``) and the next ``user`` entry is the observation. Each action becomes a call
  of one shell tool, :data:`COMMAND_TOOL`, with ``{"command": action}``, and the observation
  its result.

Demonstration entries (``is_demo``) are part of the prompt and stay text. When the run ended
on a call whose observation never reached the history (``submit``), the observation recorded
in ``trajectory`` becomes its result, marked ``from_trajectory``. Tool schemas come from the
``command_docs`` in ``replay_config`` when the file has one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from deploysim.traces._documents import Document
from deploysim.traces._model import (
    Message,
    Part,
    Reasoning,
    Text,
    ToolCall,
    ToolEffect,
    ToolKind,
    ToolResult,
    ToolSpec,
    Trace,
)
from deploysim.traces._nesting import loads, nesting_error
from deploysim.traces._reader import Node, RecordError, parse_arguments, text_of
from deploysim.traces._registry import ImportContext, Importer, importer
from deploysim.traces._toolspecs import classify_effect, classify_kind

__all__ = ["COMMAND_SPEC", "COMMAND_TOOL", "SweAgentImporter", "tools_from_command_docs"]

COMMAND_TOOL = "swe_agent_command"
"""The tool a command-in-text action calls: SWE-agent's shell session with its own commands."""

COMMAND_SPEC = ToolSpec(
    name=COMMAND_TOOL,
    description=(
        "A command typed into SWE-agent's shell session: bash, or one of SWE-agent's commands "
        "(open, goto, edit ... end_of_edit, find_file, search_dir, submit)."
    ),
    parameters={
        "type": "object",
        "properties": {"command": {"type": "string", "description": "The command, verbatim."}},
        "required": ["command"],
    },
    kind="shell",
)
_KINDS: dict[str, tuple[ToolKind, ToolEffect]] = {
    "bash": ("shell", "unknown"),
    "str_replace_editor": ("editor", "unknown"),
    "edit": ("editor", "write"),
    "insert": ("editor", "write"),
    "create": ("editor", "write"),
    "open": ("editor", "read"),
    "goto": ("editor", "read"),
    "scroll_up": ("editor", "read"),
    "scroll_down": ("editor", "read"),
}
_DOC_TOOL = re.compile(r"^(\S+):\s*$")
_DOC_TEXT = re.compile(r"^\s+docstring:\s?(.*)$")
_DOC_ARG = re.compile(r"^\s+- (\S+) \((\w+)\) \[(required|optional)\]:\s?(.*)$")
_SCHEMA_TYPES = frozenset({"string", "integer", "number", "boolean", "array", "object"})
_INFO_FACTS = ("exit_status", "submission", "model_stats", "swe_agent_version", "swe_rex_version")


def _is_trajectory(value: Any) -> bool:
    if not isinstance(value, dict) or not isinstance(value.get("history"), list):
        return False
    entries = value["history"]
    marks = ("agent", "action", "tool_call_ids", "message_type", "is_demo")
    return (
        bool(entries)
        and all(isinstance(e, dict) and "role" in e for e in entries)
        and any(k in e for e in entries for k in marks)
    )


def _spec(name: str, description: str, props: dict[str, Any], required: list[str]) -> ToolSpec:
    kind, effect = _KINDS.get(name, (classify_kind(name), None))
    parameters: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        parameters["required"] = required
    return ToolSpec(
        name=name,
        description=description,
        parameters=parameters,
        kind=kind,
        effect=effect or classify_effect(name, kind),
    )


def tools_from_command_docs(docs: str) -> list[ToolSpec]:
    """Tool specs from SWE-agent's ``command_docs`` text (name, docstring, typed arguments)."""
    specs: list[ToolSpec] = []
    current: tuple[str, list[str], dict[str, Any], list[str]] | None = None
    for line in docs.splitlines():
        if m := _DOC_TOOL.match(line):
            if current:
                specs.append(_spec(current[0], " ".join(current[1]), current[2], current[3]))
            current = (m.group(1), [], {}, [])
        elif current and (m := _DOC_TEXT.match(line)):
            current[1].append(m.group(1).strip())
        elif current and (m := _DOC_ARG.match(line)):
            name, typ, need, text = m.groups()
            current[2][name] = {"description": text}
            if typ in _SCHEMA_TYPES:
                current[2][name]["type"] = typ
            if need == "required":
                current[3].append(name)
    if current:
        specs.append(_spec(current[0], " ".join(current[1]), current[2], current[3]))
    return specs


def _replay_config(record: Node) -> dict[str, Any]:
    node = record.get("replay_config", {})
    if isinstance(node.value, str):
        try:
            loaded = loads(node.value)
        except json.JSONDecodeError as e:
            raise RecordError(node.path, f"a string that is not JSON: {e.msg}") from e
        deep = nesting_error(loaded, node.path)
        if deep:
            raise RecordError(deep.field, f"a JSON string {deep.reason}")
        node = Node(loaded, node.path)
    return node.obj()


def _declared_tools(record: Node) -> list[ToolSpec]:
    config = _replay_config(record)
    agent = config.get("agent")
    tools = agent.get("tools") if isinstance(agent, dict) else None
    docs = tools.get("command_docs") if isinstance(tools, dict) else None
    return tools_from_command_docs(docs) if isinstance(docs, str) else []


class _Conversion:
    """Walks the history, pairing each call with the observation that answers it."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.open: list[str] = []  # ids of the last assistant entry's unanswered calls
        self.open_in_text = False  # they are text actions, answered by the next user entry
        self.last_action: str | None = None
        self.forms: set[str] = set()
        self.actions = 0

    def entry(self, node: Node) -> None:
        d = node.obj()
        role = node["role"].str()
        meta = {k: d[k] for k in ("agent", "message_type") if isinstance(d.get(k), str)}
        text = text_of(d.get("content"))
        if d.get("is_demo") is True:
            # Demonstrations are prompt text: their actions were never run in this episode.
            meta["is_demo"] = True
            out = role if role in ("system", "user", "assistant") else "user"
            if out != role:
                meta["original_role"] = role
            self.messages.append(Message(role=out, parts=_text(text), metadata=meta))
        elif role == "tool":
            ids = [i.id() for i in node["tool_call_ids"].items()]
            self._observation(ids, text, meta)
        elif role == "user" and self.open and self.open_in_text:
            meta["original_role"] = "user"
            self._observation(list(self.open), text, meta)
        elif role == "assistant":
            self.messages.append(
                Message(role="assistant", parts=self._assistant(node), metadata=meta)
            )
        elif role in ("system", "user"):
            self.messages.append(Message(role=role, parts=_text(text), metadata=meta))
        else:
            raise node["role"].fail(f"unknown role {role!r}")

    def _assistant(self, node: Node) -> list[Part]:
        d = node.obj()
        parts: list[Part] = [_reasoning(b) for b in node.get("thinking_blocks", []).items()]
        parts += _text(text_of(d.get("content")))
        calls = [_tool_call(c) for c in node.get("tool_calls", []).items()]
        action = d.get("action")
        self.open_in_text = False
        if calls:
            self.forms.add("tool_calls")
        elif isinstance(action, str) and action.strip():
            self.forms.add("action_text")
            self.open_in_text = True
            self.actions += 1
            calls = [
                ToolCall(
                    id=f"swe-agent-action-{self.actions}",
                    name=COMMAND_TOOL,
                    arguments={"command": action},
                    raw_arguments=action,
                )
            ]
        self.open = [c.id for c in calls]
        self.last_action = action if isinstance(action, str) else None
        return parts + calls

    def _observation(self, ids: list[str], text: str, meta: dict[str, Any]) -> None:
        parts: list[Part] = [ToolResult(call_id=i, output=text) for i in ids]
        self.messages.append(Message(role="tool", parts=parts, metadata=meta))
        self.open = [i for i in self.open if i not in ids]

    def finish(self, trajectory: Node) -> None:
        """Answer the last calls from the trajectory when the history stops before their output."""
        steps = trajectory.value if isinstance(trajectory.value, list) else []
        last = steps[-1] if steps and isinstance(steps[-1], dict) else {}
        if self.open and self.last_action and last.get("action") == self.last_action:
            output = text_of(last.get("observation"))
            self._observation(list(self.open), output, {"from_trajectory": True})


def _text(text: str) -> list[Part]:
    return [Text(text=text)] if text else []


def _reasoning(node: Node) -> Reasoning:
    d = node.obj()
    if d.get("type") == "redacted_thinking":
        return Reasoning(opaque=node.get("data", "").str(), redacted=True)
    return Reasoning(text=node.get("thinking", "").str(), opaque=node.opt_str("signature"))


def _tool_call(node: Node) -> ToolCall:
    fn = node["function"]
    parsed = parse_arguments(fn.obj().get("arguments"), fn.get("arguments").path)
    return ToolCall(
        id=node["id"].id(),
        name=fn["name"].str(),
        arguments=parsed.arguments,
        raw_arguments=parsed.raw,
        parse_error=parsed.error,
    )


@importer
class SweAgentImporter(Importer):
    """SWE-agent ``.traj`` trajectories and demo YAML files."""

    name = "swe-agent"
    description = "SWE-agent trajectories (.traj JSON or demo YAML with a history)"
    priority = 30

    def sniff(self, doc: Document) -> bool:
        """An object whose ``history`` is a list of SWE-agent entries (role plus agent/action)."""
        return doc.kind in ("json", "yaml") and _is_trajectory(doc.data)

    def convert(self, record: Node, ctx: ImportContext) -> Trace:
        """History to messages; text actions become shell-tool calls; run facts to metadata."""
        d = record.obj()
        conversion = _Conversion()
        for entry in record["history"].items():
            conversion.entry(entry)
        conversion.finish(record.get("trajectory", []))
        tools = _declared_tools(record)
        if "action_text" in conversion.forms:
            tools.append(COMMAND_SPEC)
        return Trace(
            id=ctx.trace_id(Path(ctx.path).stem),
            source=ctx.source(),
            metadata=_metadata(record, ctx, conversion.forms),
            tools=tools,
            messages=conversion.messages,
            raw=d,
        )


def _metadata(record: Node, ctx: ImportContext, forms: set[str]) -> dict[str, Any]:
    d = record.obj()
    problem = _replay_config(record).get("problem_statement")
    instance = problem.get("id") if isinstance(problem, dict) else None
    form = "mixed" if len(forms) > 1 else next(iter(forms), "none")
    metadata: dict[str, Any] = {
        "instance_id": instance if isinstance(instance, str) else Path(ctx.path).stem,
        "form": form,
    }
    if "environment" in d:
        metadata["environment"] = d["environment"]
    info = record.get("info", {}).obj()
    metadata.update({k: info[k] for k in _INFO_FACTS if k in info})
    if isinstance(d.get("trajectory"), list):
        metadata["trajectory_steps"] = len(d["trajectory"])
    return metadata
