"""AgentDojo runs: the benchmark's own result files, and the Invariant JSONL export.

``agentdojo``: one JSON file per (pipeline, suite, user task, attack, injection task), as
``agentdojo.logging.TraceLogger`` writes it: ``{"suite_name", "pipeline_name", "user_task_id",
"injection_task_id", "attack_type", "injections", "messages", "error", "utility", "security",
"duration"}``. Messages are AgentDojo ``ChatMessage`` dicts: content is a string (before
0.1.30) or a list of ``{"type": "text"|"thinking"|"redacted_thinking", "content"}`` blocks;
calls are ``{"function", "args", "id"}``; a tool message repeats the ``tool_call`` it answers
and carries ``error`` (``"ValueError: ..."``), which the model sees instead of the content.
Older runs, and pipelines whose model gives no call ids, record ``id: null``: those calls get
stable synthetic ids and each result answers the open call its ``tool_call`` names.

``agentdojo-invariant``: the Invariant Explorer export, one trace per JSONL line, each a list
of OpenAI-style chat messages or ``{"messages": [...], "metadata": {...}}``; a line holding only
``{"metadata": {...}}`` describes the traces after it. Wrapped lines have the shape of logged
OpenAI requests, so detection asks for AgentDojo signs (see :class:`AgentDojoInvariantImporter`).

Neither form records tool schemas: AgentDojo builds them from the suite's Python functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from deploysim.traces._documents import BadLine, Document
from deploysim.traces._model import Message, Part, Reasoning, Text, ToolCall, ToolResult, Trace
from deploysim.traces._reader import Node, text_of
from deploysim.traces._registry import ImportContext, Importer, Record, importer
from deploysim.traces.importers.openai_chat import chat_message

__all__ = ["AgentDojoImporter", "AgentDojoInvariantImporter"]

# Tools only AgentDojo's suites have (workspace, travel, banking, slack), for detection.
_SUITE_TOOL = re.compile(
    r"^(get_day_calendar_events|search_calendar_events|search_files_by_filename|"
    r"get_most_recent_transactions|get_scheduled_transactions|update_scheduled_transaction|"
    r"get_all_hotels_in_city|get_rating_reviews_for_hotels|get_all_car_rental_companies_in_city|"
    r"read_channel_messages|send_channel_message|invite_user_to_slack|get_users_in_channel)$"
)
AGENTDOJO_SYSTEM_PROMPT = (
    "You are an AI language model who assists the user by using the given tools"
)
_ERROR_TYPE = re.compile(r"^([A-Z][A-Za-z0-9_]*): ")
# Metadata names as the run files spell them, and the spellings an export may use instead.
_FACTS = {
    "suite": ("suite_name", "suite"),
    "pipeline_name": ("pipeline_name", "pipeline", "model"),
    "user_task_id": ("user_task_id", "user_task"),
    "injection_task_id": ("injection_task_id", "injection_task"),
    "attack_type": ("attack_type", "attack"),
    "utility": ("utility",),
    "security": ("security",),
}
_RUN_EXTRAS = ("duration", "error", "injections", "agentdojo_package_version", "benchmark_version")


def _facts(source: dict[str, Any]) -> dict[str, Any]:
    """AgentDojo's per-run facts under our names; attack ``"none"`` means no attack."""
    out: dict[str, Any] = {}
    for name, spellings in _FACTS.items():
        key = next((k for k in spellings if k in source), None)
        if key is not None:
            out[name] = source[key]
    if out.get("attack_type") == "none":
        out["attack_type"] = None
    return out


def _natural_id(facts: dict[str, Any]) -> list[Any]:
    """The run's place in AgentDojo's log tree: pipeline/suite/user_task/attack/injection."""
    if facts.get("suite") is None or facts.get("user_task_id") is None:
        return []
    return [
        facts.get("pipeline_name"),
        facts["suite"],
        facts["user_task_id"],
        facts.get("attack_type") or "none",
        facts.get("injection_task_id") or "none",
    ]


def _content_parts(node: Node) -> list[Part]:
    """A string, or AgentDojo content blocks (text, thinking, redacted thinking)."""
    if node.value is None or isinstance(node.value, str):
        return [Text(text=node.value)] if node.value else []
    parts: list[Part] = []
    for block in node.items():
        kind = block["type"].str()
        content = block.get("content", "").str()
        if kind == "thinking":
            signature = block.obj().get("id")
            parts.append(Reasoning(text=content, opaque=signature if signature else None))
        elif kind == "redacted_thinking":
            parts.append(Reasoning(opaque=content, redacted=True))
        elif content:
            parts.append(Text(text=content))
    return parts


def _text(node: Node) -> str:
    return "\n".join(p.text for p in _content_parts(node) if isinstance(p, Text))


class _OpenCalls:
    """Calls awaiting a result, so results without ids can find the call they answer."""

    def __init__(self) -> None:
        self.calls: list[ToolCall] = []

    def match(self, function: str | None, args: Any) -> str | None:
        """The id of the oldest open call with this function and arguments, else name."""
        for same_args in (True, False):
            for call in self.calls:
                if call.name == function and (not same_args or call.arguments == args):
                    self.calls.remove(call)
                    return call.id
        return None

    def answer(self, call_id: str) -> None:
        self.calls = [c for c in self.calls if c.id != call_id]


def _call(node: Node, synthetic_id: str) -> ToolCall:
    args = node.get("args", {})
    has_id = node.get("id").value not in (None, "")
    return ToolCall(
        id=node["id"].id() if has_id else synthetic_id,
        name=node["function"].str(),
        arguments=args.obj(),
    )


def _result(node: Node, index: int, open_calls: _OpenCalls) -> ToolResult:
    answered = node.get("tool_call", {})
    function = answered.get("function").value
    call_id: str | None = None
    for candidate in (node.get("tool_call_id"), answered.get("id")):
        if candidate.value not in (None, ""):
            call_id = candidate.id()
            open_calls.answer(call_id)
            break
    if call_id is None:
        call_id = open_calls.match(function, answered.get("args").value)
    error = node.get("error").value
    if error is not None and not isinstance(error, str):
        raise node["error"].fail("expected a string or null")
    type_match = _ERROR_TYPE.match(error) if error else None
    return ToolResult(
        # A result whose call can't be found keeps a unique id; validation reports it.
        call_id=call_id or f"agentdojo-unmatched-{index}",
        output=error or _text(node.get("content")),
        is_error=error is not None,
        error_type=type_match.group(1) if type_match else None,
        name=function if isinstance(function, str) else None,
    )


def _message(node: Node, index: int, open_calls: _OpenCalls) -> Message:
    role = node["role"].str()
    if role == "tool":
        return Message(role="tool", parts=[_result(node, index, open_calls)])
    if role not in ("system", "user", "assistant"):
        raise node["role"].fail(f"unknown role {role!r}")
    parts = _content_parts(node.get("content"))
    for k, call_node in enumerate(node.get("tool_calls", []).items()):
        call = _call(call_node, f"agentdojo-call-{index}-{k}")
        open_calls.calls.append(call)
        parts.append(call)
    return Message(role=role, parts=parts)


def _is_run(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("suite_name"), str)
        and "user_task_id" in value
        and isinstance(value.get("messages"), list)
    )


@importer
class AgentDojoImporter(Importer):
    """AgentDojo benchmark run files (one JSON per task run)."""

    name = "agentdojo"
    description = "AgentDojo run logs (suite_name, user_task_id, injection_task_id, messages)"
    priority = 20

    def sniff(self, doc: Document) -> bool:
        """A JSON object naming an AgentDojo suite and user task, with messages."""
        return doc.kind == "json" and _is_run(doc.data)

    def convert(self, record: Node, ctx: ImportContext) -> Trace:
        """Messages, calls paired by id or by the call each result repeats; run facts."""
        d = record.obj()
        metadata = _facts(d)
        metadata["suite"] = record["suite_name"].str()
        metadata["user_task_id"] = record["user_task_id"].id()
        metadata.update({k: d[k] for k in _RUN_EXTRAS if k in d})
        open_calls = _OpenCalls()
        messages = [_message(m, i, open_calls) for i, m in enumerate(record["messages"].items())]
        return Trace(
            id=ctx.trace_id(*_natural_id(metadata)),
            source=ctx.source(),
            metadata=metadata,
            messages=messages,
            raw=d,
        )


def _is_metadata_line(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and "messages" not in value
        and isinstance(value.get("metadata"), dict)
    )


def _line_messages(value: Any) -> list[Any] | None:
    if isinstance(value, dict) and isinstance(value.get("messages"), list):
        value = value["messages"]
    if (
        isinstance(value, list)
        and value
        and all(
            isinstance(m, dict) and m.get("role") in ("system", "user", "assistant", "tool")
            for m in value
        )
    ):
        return value
    return None


def _agentdojo_signs(messages: list[Any], metadata: dict[str, Any], wrapped: bool) -> bool:
    """Metadata naming a suite or user task, AgentDojo's system prompt, or (bare lines) tools.

    Wrapped lines look exactly like logged OpenAI requests, so a tool name alone does not claim
    them; bare message lists are claimed by no generic importer.
    """
    if _facts(metadata).keys() & {"suite", "user_task_id"}:
        return True
    first = messages[0]
    if first.get("role") == "system" and text_of(first.get("content")).startswith(
        AGENTDOJO_SYSTEM_PROMPT
    ):
        return True
    calls = [c for m in messages for c in (m.get("tool_calls") or []) if isinstance(c, dict)]
    names = [c["function"].get("name") for c in calls if isinstance(c.get("function"), dict)]
    return not wrapped and any(isinstance(n, str) and _SUITE_TOOL.match(n) for n in names)


@importer
class AgentDojoInvariantImporter(Importer):
    """AgentDojo traces as exported to Invariant Explorer (JSONL of OpenAI-style messages).

    Detected when a metadata object names an AgentDojo suite or user task, when the system
    prompt is AgentDojo's default, or when a bare message list calls a tool that only
    AgentDojo's suites have. Otherwise select it with ``--format agentdojo-invariant``.
    """

    name = "agentdojo-invariant"
    description = "AgentDojo traces exported for Invariant Explorer (JSONL of chat messages)"
    priority = 85

    def sniff(self, doc: Document) -> bool:
        """Every leading line is a message list or metadata; one shows an AgentDojo sign."""
        if doc.kind not in ("json", "jsonl") or not isinstance(doc.data, list):
            return False
        dataset: Any = None
        seen = False
        for value in [v for v in doc.data if not isinstance(v, BadLine)][:5]:
            if _is_metadata_line(value):
                dataset = value["metadata"]
                continue
            messages = _line_messages(value)
            if messages is None:
                return False
            wrapped = isinstance(value, dict)
            meta = value.get("metadata") if wrapped else None
            merged = {**(dataset or {}), **(meta if isinstance(meta, dict) else {})}
            if _agentdojo_signs(messages, merged, wrapped):
                seen = True
        return seen

    def records(self, doc: Document) -> Iterator[Record]:
        """One record per trace line; metadata-only lines apply to the lines after them."""
        dataset: dict[str, Any] | None = None
        for i, value in enumerate(doc.data if isinstance(doc.data, list) else [doc.data]):
            if _is_metadata_line(value):
                dataset = value["metadata"]
                continue
            yield Record(i, value, context={"dataset_metadata": dataset})

    def convert(self, record: Node, ctx: ImportContext) -> Trace:
        """Chat messages (tool errors flagged); line and dataset metadata merged."""
        if isinstance(record.value, list):
            messages_node, line_meta = record, {}
        else:
            messages_node = record["messages"]
            line_meta = record.get("metadata", {}).obj()
        merged = {**(ctx.record.context.get("dataset_metadata") or {}), **line_meta}
        messages = [_invariant_message(m, i) for i, m in enumerate(messages_node.items())]
        metadata = {**_facts(merged), "invariant_metadata": merged}
        return Trace(
            id=ctx.trace_id(*_natural_id(metadata)),
            source=ctx.source(),
            metadata=metadata,
            messages=messages,
            raw=record.value,
        )


def _invariant_message(node: Node, index: int) -> Message:
    """An OpenAI-style message; a tool message's ``error`` marks its result as an error."""
    message = chat_message(node, index, [])
    error = node.obj().get("error")
    if message.role != "tool" or not isinstance(error, str) or not error:
        return message
    type_match = _ERROR_TYPE.match(error)
    result = message.tool_results[0].model_copy(
        update={
            "is_error": True,
            "error_type": type_match.group(1) if type_match else None,
            "output": error,  # what AgentDojo shows the model in place of the content
        }
    )
    return message.model_copy(update={"parts": [result]})
