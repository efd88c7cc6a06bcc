"""LangChain agent steps: actions in every serialization, and ReAct text transcripts."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from deploysim.traces._nesting import loads, nesting_error
from deploysim.traces._reader import Node
from deploysim.traces.importers._pyrepr import Call, Parsed

__all__ = ["REACT_LINE", "Run", "Step", "run_from_value", "transcript"]

_ACTION_TYPES = ("AgentAction", "ToolAgentAction", "AgentActionMessageLog", "OpenAIToolAgentAction")
REACT_LINE = re.compile(
    r"^[ \t]*(Question|Thought|Action Input|Action|Observation|Final Answer)[ \t]*:[ \t]?",
    re.MULTILINE,
)
_JSON_BLOB = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)


@dataclass(frozen=True)
class Step:
    """One agent step: the action the model took and what the tool returned."""

    tool: str
    tool_input: Any
    log: str
    observation: Any
    observation_source: str | None
    call_id: str | None = None


def _action_fields(action: Any) -> dict[str, Any] | None:
    """The tool, tool_input, log and tool_call_id of an action, in any serialization."""
    if isinstance(action, Call) and action.name.rsplit(".", 1)[-1] in _ACTION_TYPES:
        fields = dict(zip(("tool", "tool_input", "log"), action.args, strict=False))
        return {**fields, **action.kwargs}
    if isinstance(action, dict):
        if action.get("lc") == 1 and isinstance(action.get("kwargs"), dict):
            ids = action.get("id")
            if (
                isinstance(ids, list)
                and ids
                and isinstance(ids[-1], str)
                and ids[-1] in _ACTION_TYPES
            ):
                kwargs: dict[str, Any] = action["kwargs"]
                return kwargs
            return None
        if "tool" in action and "tool_input" in action:
            return action
    return None


def _step(pair: Any, where: Node, source: str | None) -> Step:
    if isinstance(pair, Call) and pair.name.rsplit(".", 1)[-1] == "AgentStep":
        fields = dict(zip(("action", "observation"), pair.args, strict=False)) | pair.kwargs
        action, observation = fields.get("action"), fields.get("observation")
    elif isinstance(pair, list) and len(pair) == 2:
        action, observation = pair
    else:
        raise where.fail("expected an (action, observation) pair")
    action_fields = _action_fields(action)
    if action_fields is None:
        raise where.fail("the action is not an AgentAction (tool, tool_input, log)")
    fields = action_fields
    tool = fields.get("tool")
    if not isinstance(tool, str) or not tool:
        raise where.fail("the action has no tool name")
    log = fields.get("log")
    call_id = fields.get("tool_call_id")
    return Step(
        tool=tool,
        tool_input=fields.get("tool_input"),
        log=log if isinstance(log, str) else "",
        observation=observation,
        observation_source=source,
        call_id=call_id if isinstance(call_id, str) and call_id else None,
    )


class Run:
    """What one row holds: the user input, the steps and the final output."""

    def __init__(self, user: str | None, steps: list[Step], output: str | None) -> None:
        self.user = user
        self.steps = steps
        self.output = output


def run_from_value(parsed: Parsed, where: Node) -> Run:
    value = parsed.value
    user = output = None
    if isinstance(value, dict):
        user = value.get("input") if isinstance(value.get("input"), str) else None
        output = value.get("output") if isinstance(value.get("output"), str) else None
        steps_value = value.get("intermediate_steps", [])
    else:
        steps_value = value
    if not isinstance(steps_value, list):
        raise where.fail("intermediate_steps is not a list of (action, observation) pairs")
    steps = [
        _step(pair, Node(pair, f"{where.path}.intermediate_steps[{i}]"), parsed.observations.get(i))
        for i, pair in enumerate(steps_value)
    ]
    return Run(user, steps, output)


def transcript(cell: str) -> Run:
    """A ReAct transcript: Thought / Action / Action Input / Observation / Final Answer."""
    marks = list(REACT_LINE.finditer(cell))
    fields = [
        (m.group(1), cell[m.end() : marks[i + 1].start() if i + 1 < len(marks) else len(cell)])
        for i, m in enumerate(marks)
    ]
    user = output = None
    steps: list[Step] = []
    log: list[str] = []
    tool: str | None = None
    tool_input: Any = None
    for key, text in fields:
        if key == "Question":
            user = text.strip()
            continue
        if key == "Observation" and tool is not None:
            steps.append(Step(tool, tool_input, "".join(log), text.strip(), None))
            log, tool, tool_input = [], None, None
            continue
        log.append(f"{key}: {text}")
        if key == "Action":
            blob = _JSON_BLOB.search(text)
            if blob is not None:
                action = _json_object(blob.group(1)) or {}
                name = action.get("action")
                tool = name if isinstance(name, str) and name else None
                tool_input = action.get("action_input")
                if tool == "Final Answer":
                    output, tool = _answer_text(tool_input), None
            else:
                tool = text.strip() or None
        elif key == "Action Input":
            tool_input = text.strip()
        elif key == "Final Answer":
            output = text.strip()
    return Run(user, steps, output)


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = loads(text)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) and not nesting_error(value) else None


def _answer_text(value: Any) -> str:
    """A final answer as text (structured-chat agents may answer with JSON)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
