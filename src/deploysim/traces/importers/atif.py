"""ATIF, Harbor's Agent Trajectory Interchange Format (``schema_version: "ATIF-v1.x"``).

A record is one trajectory: a JSON object, each item of a JSON list, or each JSONL line.
Steps become messages: ``system`` and ``user`` steps as such; an ``agent`` step becomes an
assistant message (``reasoning_content``, the message text, ``tool_calls``) followed by one
tool message per ``observation`` result that names its call (``source_call_id``). A
result that names no call is environment feedback the model read as its next prompt
(Terminus-style agents, multi-command batches), so it becomes a user message marked
``metadata["observation"] = True``; the calls of that step then stay unanswered.

ATIF has no error flag; producers put one in ``extra``: a result counts as an error when
its ``extra`` (or its step's) has ``is_error`` or ``tool_result_is_error`` true, or a
non-empty ``error``; ``extra.error_type`` gives ``error_type``. A call whose ``extra``
holds the model's ``raw_arguments`` string keeps it as ``raw_arguments``.

Embedded ``subagent_trajectories`` are imported as traces of their own, right after their
parent, from the same file record (``TraceSource.locator`` is their path in it, such as
``subagent_trajectories[0]``). Their id is the parent's id and their ``trajectory_id``;
the parent lists them in ``metadata["subagents"]`` and each names its ``parent``.
Images and audio in messages are listed in ``Message.metadata["omitted_content"]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from deploysim._errors import ToolSchemaError
from deploysim.traces._documents import Document
from deploysim.traces._model import (
    Message,
    Part,
    Reasoning,
    Text,
    ToolCall,
    ToolResult,
    ToolSpec,
    Trace,
)
from deploysim.traces._reader import Node, RecordError, parse_arguments, text_of
from deploysim.traces._registry import ImportContext, Importer, Record, importer
from deploysim.traces._toolspecs import toolspec_from_definition

__all__ = ["AtifImporter"]

_SUB = "subagent_trajectories"
_SUB_INDEX = re.compile(rf"{_SUB}\[(\d+)\]")


def _is_trajectory(value: Any) -> bool:
    if not isinstance(value, dict) or not isinstance(value.get("steps"), list):
        return False
    version = value.get("schema_version")
    if isinstance(version, str):
        return version.startswith("ATIF")
    return isinstance(value.get("agent"), dict) and all(
        isinstance(s, dict) and "step_id" in s and "source" in s for s in value["steps"][:5]
    )


def _sub_locators(value: Any, prefix: str) -> Iterator[str]:
    subs = value.get(_SUB) if isinstance(value, dict) else None
    for i, sub in enumerate(subs if isinstance(subs, list) else []):
        path = f"{prefix}{_SUB}[{i}]"
        yield path
        yield from _sub_locators(sub, f"{path}.")


def _natural_id(node: Node) -> str | None:
    d = node.obj()
    for key in ("trajectory_id", "session_id"):
        if isinstance(d.get(key), str | int) and not isinstance(d.get(key), bool) and d[key] != "":
            return str(d[key])
    return None


def _content(node: Node) -> tuple[list[Part], list[str]]:
    if isinstance(node.value, str):
        return ([Text(text=node.value)] if node.value else []), []
    parts: list[Part] = []
    omitted: list[str] = []
    for p in node.items():
        kind = p["type"].str()
        if kind == "text":
            parts.append(Text(text=p["text"].str()))
        else:
            omitted.append(kind)
    return parts, omitted


def _tool_call(node: Node) -> ToolCall:
    extra = node.get("extra", {}).obj()
    raw = extra.get("raw_arguments")
    parsed = (
        parse_arguments(raw, node.get("extra").path + ".raw_arguments")
        if isinstance(raw, str)
        else parse_arguments(node["arguments"].value, node["arguments"].path)
    )
    return ToolCall(
        id=node["tool_call_id"].id(),
        name=node["function_name"].str(),
        arguments=parsed.arguments,
        raw_arguments=parsed.raw,
        parse_error=parsed.error,
    )


def _error(*extras: dict[str, Any]) -> tuple[bool, str | None]:
    """Whether a result failed, and the error type when one is named."""
    for extra in extras:
        error = extra.get("error")
        if extra.get("is_error") is True or extra.get("tool_result_is_error") is True or error:
            kind = extra.get("error_type")
            return True, kind if isinstance(kind, str) else None
    return False, None


def _observation(step: Node, names: dict[str, str], meta: dict[str, Any]) -> list[Message]:
    step_extra = step.get("extra", {}).obj()
    tool_messages: list[Message] = []
    feedback: list[Message] = []
    for res in step["observation"].get("results", []).items():
        content = res.get("content").value
        rmeta = dict(meta)
        if res.has("subagent_trajectory_ref"):
            rmeta["subagent_trajectory_ref"] = res["subagent_trajectory_ref"].arr()
        call_id = res.get("source_call_id").value
        if call_id is None:
            if content is not None:
                parts, omitted = _content(res["content"])
                if omitted:
                    rmeta["omitted_content"] = omitted
                feedback.append(
                    Message(role="user", parts=parts, metadata={**rmeta, "observation": True})
                )
            continue
        cid = res["source_call_id"].id()
        is_error, error_type = _error(res.get("extra", {}).obj(), step_extra)
        result = ToolResult(
            call_id=cid,
            output=text_of(content),
            is_error=is_error,
            error_type=error_type,
            name=names.get(cid),
            structured=content if isinstance(content, list) else None,
        )
        tool_messages.append(Message(role="tool", parts=[result], metadata=rmeta))
    return tool_messages + feedback


def _step(step: Node) -> list[Message]:
    d = step.obj()
    source = step["source"].str()
    meta: dict[str, Any] = {"step_id": step["step_id"].value}
    for key, name in (
        ("timestamp", "timestamp"),
        ("model_name", "model"),
        ("is_copied_context", "copied_context"),
    ):
        if d.get(key) is not None:
            meta[name] = d[key]
    parts, omitted = _content(step["message"]) if step.has("message") else ([], [])
    message_meta = {**meta, "omitted_content": omitted} if omitted else meta
    if source in ("system", "user"):
        messages = [Message(role=source, parts=parts, metadata=message_meta)]
    elif source == "agent":
        reasoning = step.opt_str("reasoning_content")
        calls = [_tool_call(c) for c in step.get("tool_calls", []).items()]
        head: list[Part] = [Reasoning(text=reasoning)] if reasoning else []
        messages = [Message(role="assistant", parts=[*head, *parts, *calls], metadata=message_meta)]
    else:
        raise step["source"].fail(f"unknown source {source!r}; expected system, user or agent")
    if step.has("observation"):
        names = {c.id: c.name for m in messages for c in m.tool_calls}
        messages.extend(_observation(step, names, {"step_id": meta["step_id"]}))
    return messages


def _tools(agent: Node) -> list[ToolSpec]:
    specs: dict[str, ToolSpec] = {}
    for t in agent.get("tool_definitions", []).items():
        try:
            spec = toolspec_from_definition(t.value, t.path)
        except ToolSchemaError as e:
            raise RecordError(t.path, str(e)) from e
        specs.setdefault(spec.name, spec)
    return list(specs.values())


def _metadata(node: Node, agent: Node) -> dict[str, Any]:
    d = node.obj()
    meta: dict[str, Any] = {
        k: d[k]
        for k in (
            "schema_version",
            "session_id",
            "trajectory_id",
            "notes",
            "final_metrics",
            "continued_trajectory_ref",
            "extra",
        )
        if d.get(k) is not None
    }
    a = agent.obj()
    meta["agent"] = {k: a[k] for k in ("name", "version", "extra") if a.get(k) is not None}
    if a.get("model_name") is not None:
        meta["model"] = a["model_name"]
    return meta


def _child_id(value: Any, index: int) -> str:
    natural = _natural_id(Node(value)) if isinstance(value, dict) else None
    return natural or f"subagent-{index}"


def _locate(record: Node, locator: str | None) -> tuple[Node, list[tuple[Node, int]]]:
    """The trajectory a locator points at, and the subagents (with index) down to it."""
    node = record
    chain: list[tuple[Node, int]] = []
    for index in _SUB_INDEX.findall(locator or ""):
        subs = node[_SUB]
        i = int(index)
        if i >= len(subs.arr()):
            raise subs.fail(f"has no item {i}")
        node = Node(subs.arr()[i], f"{subs.path}[{i}]")
        chain.append((node, i))
    return node, chain


@importer
class AtifImporter(Importer):
    """Harbor ATIF trajectories; embedded subagent trajectories become traces of their own."""

    name = "atif"
    description = "Harbor ATIF agent trajectories (ATIF-v1.x), subagents as their own traces"
    priority = 20

    def sniff(self, doc: Document) -> bool:
        """A trajectory object, or a list or lines of them."""
        return doc.kind in ("json", "jsonl") and _is_trajectory(doc.first())

    def records(self, doc: Document) -> Iterator[Record]:
        """Each trajectory, then each subagent trajectory it embeds (depth first)."""
        for record in super().records(doc):
            yield record
            for locator in _sub_locators(record.value, ""):
                yield Record(record.index, record.value, locator)

    def convert(self, record: Node, ctx: ImportContext) -> Trace:
        """Steps to messages; agent tool definitions; trajectory facts into metadata."""
        node, chain = _locate(record, ctx.record.locator)
        ids = [ctx.trace_id(_natural_id(record))]
        ids += [_child_id(sub.value, i) for sub, i in chain]
        trace_id = "/".join(ids)
        agent = node["agent"]
        metadata = _metadata(node, agent)
        if chain:
            metadata["parent"] = "/".join(ids[:-1])
        children = [f"{trace_id}/{_child_id(s, i)}" for i, s in enumerate(node.get(_SUB, []).arr())]
        if children:
            metadata["subagents"] = children
        messages = [m for step in node["steps"].items() for m in _step(step)]
        return Trace(
            id=trace_id,
            source=ctx.source(),
            metadata=metadata,
            tools=_tools(agent),
            messages=messages,
            raw=node.value,
        )
