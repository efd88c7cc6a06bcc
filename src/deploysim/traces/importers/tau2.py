"""tau2-bench results: ``{"timestamp", "info", "tasks", "simulations"}``, a trace per simulation.

tau2 messages have their own shape: ``tool_calls[].arguments`` is already an object, every call
names its ``requestor`` (the agent, or in the telecom domain the simulated user acting on their
own phone), and results are ``role: tool`` messages carrying the call ``id``, the
``requestor`` and an ``error`` flag. Simulations carry no tool schemas; pass
``--tools tool_schemas.json``. Each simulation's task (``tasks[]`` matched on ``task_id``) goes
into the trace metadata, since the evaluation criteria and initial state live there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from deploysim.traces._documents import Document
from deploysim.traces._model import Message, Part, Reasoning, Text, ToolCall, ToolResult, Trace
from deploysim.traces._reader import Node, text_of
from deploysim.traces._registry import ImportContext, Importer, Record, importer

__all__ = ["Tau2Importer"]

_MESSAGE_FACTS = ("turn_idx", "timestamp", "cost", "usage")
_SIMULATION_FACTS = (
    "trial",
    "seed",
    "termination_reason",
    "reward_info",
    "duration",
    "agent_cost",
    "user_cost",
)
Requestor = Literal["assistant", "user"]


def _is_results(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    sims, tasks = value.get("simulations"), value.get("tasks")
    if not isinstance(sims, list) or not isinstance(tasks, list):
        return False
    return all(isinstance(s, dict) and "task_id" in s and "messages" in s for s in sims[:3])


def _run_facts(info: Any) -> dict[str, Any]:
    """Domain and models from the file's ``info``, shared by every simulation of the run."""
    if not isinstance(info, dict):
        return {}

    def pick(section: str, key: str) -> Any:
        value = info.get(section)
        return value.get(key) if isinstance(value, dict) else None

    facts = {
        "domain": pick("environment_info", "domain_name"),
        "model": pick("agent_info", "llm"),
        "user_model": pick("user_info", "llm"),
        "git_commit": info.get("git_commit"),
    }
    return {k: v for k, v in facts.items() if isinstance(v, str)}


def _requestor(node: Node, default: Requestor) -> Requestor:
    value = node.get("requestor", default).str()
    if value not in ("assistant", "user"):
        raise node["requestor"].fail(f"expected 'assistant' or 'user', got {value!r}")
    return "user" if value == "user" else "assistant"


def _tool_call(node: Node, default: Requestor) -> ToolCall:
    args = node.get("arguments", {})
    return ToolCall(
        id=node["id"].id(),
        name=node["name"].str(),
        arguments=args.obj(),
        requestor=_requestor(node, default),
    )


def _tool_result(node: Node) -> ToolResult:
    error = node.get("error", False).value
    if not isinstance(error, bool):
        raise node["error"].fail(f"expected a boolean, got {type(error).__name__}")
    return ToolResult(
        call_id=node["id"].id(), output=text_of(node.obj().get("content")), is_error=error
    )


def _message(node: Node) -> Message:
    d = node.obj()
    role = node["role"].str()
    facts = {k: d[k] for k in _MESSAGE_FACTS if d.get(k) is not None}
    if role == "tool":
        facts["requestor"] = _requestor(node, "assistant")
        return Message(role="tool", parts=[_tool_result(node)], metadata=facts)
    if role not in ("system", "user", "assistant"):
        raise node["role"].fail(f"unknown role {role!r}")
    parts: list[Part] = []
    if isinstance(d.get("reasoning"), str) and d["reasoning"]:
        parts.append(Reasoning(text=d["reasoning"]))
    text = text_of(d.get("content"))
    if text:
        parts.append(Text(text=text))
    default: Requestor = "user" if role == "user" else "assistant"
    parts.extend(_tool_call(c, default) for c in node.get("tool_calls", []).items())
    return Message(role=role, parts=parts, metadata=facts)


@importer
class Tau2Importer(Importer):
    """tau2-bench results files, one trace per simulation."""

    name = "tau2"
    description = "tau2-bench results (timestamp, info, tasks, simulations)"
    priority = 20

    def sniff(self, doc: Document) -> bool:
        """A JSON object with ``tasks`` and ``simulations`` lists of tau2 simulations."""
        return doc.kind == "json" and _is_results(doc.data)

    def records(self, doc: Document) -> Iterator[Record]:
        """One record per simulation, carrying the task it ran and the run's facts."""
        root = Node(doc.data)
        run = _run_facts(root.obj().get("info"))
        tasks = {
            str(t["id"]): t
            for t in root["tasks"].arr()
            if isinstance(t, dict) and isinstance(t.get("id"), str | int)
        }
        for i, sim in enumerate(root["simulations"].arr()):
            task_id = sim.get("task_id") if isinstance(sim, dict) else None
            task = tasks.get(str(task_id)) if task_id is not None else None
            yield Record(i, sim, f"simulations[{i}]", context={"task": task, "run": run})

    def convert(self, record: Node, ctx: ImportContext) -> Trace:
        """Messages keep turn index and timestamp; requestors, errors and the task are kept."""
        d = record.obj()
        sim_id = record["id"].id()
        metadata: dict[str, Any] = {"simulation_id": sim_id, "task_id": record["task_id"].id()}
        metadata.update(ctx.record.context.get("run") or {})
        metadata.update({k: d[k] for k in _SIMULATION_FACTS if k in d})
        reward_info = d.get("reward_info")
        if isinstance(reward_info, dict) and "reward" in reward_info:
            metadata["reward"] = reward_info["reward"]
        task = ctx.record.context.get("task")
        if task is not None:
            metadata["task"] = task
        messages = [_message(m) for m in record["messages"].items()]
        return Trace(
            id=ctx.trace_id(sim_id),
            source=ctx.source(),
            metadata=metadata,
            messages=messages,
            raw=d,
        )
