"""inspect-ai eval logs: ``.eval`` zip archives and single-file ``.json`` logs.

The log is read as plain JSON, not through ``inspect_ai`` (which ``import deploysim`` must
not load, and whose models change between versions). One record per sample and epoch:
the zip member ``samples/<id>_epoch_<n>.json``, or an item of the ``.json`` log's
``samples``. A log still in progress may hold only ``_journal/``; it has no records yet.

What is read from a sample:

- ``messages`` (role system/user/assistant/tool). Content is a string or a list of parts:
  ``text``; ``reasoning`` (readable text, or ``summary`` when ``redacted``, with the
  signature or redacted blob kept as ``opaque``); ``tool_use`` (a provider-run tool:
  web search, MCP, code execution) becomes a ``ToolCall(executed_by="server")`` followed,
  in the same assistant message, by its recorded ``ToolResult``. Images, audio, video,
  documents and data parts have no place in the trace model: their types are listed in
  ``Message.metadata["omitted_content"]``.
- Assistant ``tool_calls`` (arguments are an object; ``parse_error`` is kept).
- Tool messages: ``error {type, message}`` gives ``is_error`` and ``error_type``; the
  output is the content text, or the error message when the content is empty (providers
  show the model the message), and the message is kept in ``metadata["error_message"]``.
- ``attachment://<hash>`` references anywhere in messages and events are resolved from
  ``sample.attachments``; ``Trace.raw`` keeps the sample as stored, references included.
- Tool schemas: the union, by name, of the ``tools`` of every ``model`` event (including
  events nested in tool events), first definition wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from deploysim._errors import ToolSchemaError
from deploysim.traces._documents import Document, ZipJson
from deploysim.traces._limits import format_size
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

__all__ = ["InspectLogImporter"]

_SAMPLE_MEMBER = re.compile(r"^samples/[^/]+\.json$")
_ATTACHMENT = re.compile(r"attachment://([0-9A-Za-z]+)")
_HEADERS = ("header.json", "_journal/start.json")
_ROLES = ("system", "user", "assistant")


def _is_json_log(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("eval"), dict)
        and "version" in value
        and ("samples" in value or "status" in value)
    )


def _zip_eval(zj: ZipJson) -> dict[str, Any]:
    for name in _HEADERS:
        header = zj.members.get(name)
        if isinstance(header, dict) and isinstance(header.get("eval"), dict):
            eval_: dict[str, Any] = header["eval"]
            return eval_
    return {}


def _locator(sample: Any, index: int) -> str:
    if isinstance(sample, dict) and sample.get("id") is not None:
        return f"{sample['id']}_epoch_{sample.get('epoch', 1)}"
    return f"samples[{index}]"


class _Attachments:
    """Resolves ``attachment://`` references, within a byte budget.

    A sample may reference one large attachment thousands of times: resolving would turn a
    1 MB record into gigabytes, so what the references add is counted against the limit.
    """

    def __init__(self, attachments: dict[str, Any], budget: int) -> None:
        self.attachments = attachments
        self.budget = budget
        self.left = budget

    def _sub(self, m: re.Match[str]) -> str:
        found = self.attachments.get(m.group(1))
        if found is None:
            return m.group(0)
        text = str(found)
        self.left -= len(text)
        if self.left < 0:
            raise RecordError(
                "sample.attachments",
                f"attachment references expand the sample past {format_size(self.budget)}; "
                "pass --max-uncompressed SIZE to allow more",
            )
        return text

    def resolve(self, value: Any) -> Any:
        """``value`` with every known ``attachment://<hash>`` replaced by its content."""
        if isinstance(value, str):
            if "attachment://" not in value:
                return value
            return _ATTACHMENT.sub(self._sub, value)
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value


def _reasoning(part: Node) -> Reasoning:
    d = part.obj()
    redacted = d.get("redacted") is True
    reasoning = part.get("reasoning", "").str()
    summary = part.opt_str("summary")
    if redacted:
        return Reasoning(text=summary or "", opaque=reasoning or None, redacted=True)
    return Reasoning(text=reasoning, opaque=part.opt_str("signature"))


def _server_tool(part: Node) -> list[Part]:
    parsed = parse_arguments(part.get("arguments").value, part.get("arguments").path)
    call = ToolCall(
        id=part["id"].id(),
        name=part["name"].str(),
        arguments=parsed.arguments,
        raw_arguments=parsed.raw,
        parse_error=parsed.error,
        executed_by="server",
    )
    error = part.opt_str("error")
    result = ToolResult(
        call_id=call.id,
        output=text_of(part.get("result").value) or (error or ""),
        is_error=error is not None,
        name=call.name,
    )
    return [call, result]


def _content(node: Node) -> tuple[list[Part], list[str]]:
    """Parts of a message's content, and the types of parts the model cannot hold."""
    if isinstance(node.value, str):
        return ([Text(text=node.value)] if node.value else []), []
    parts: list[Part] = []
    omitted: list[str] = []
    for part in node.items():
        kind = part["type"].str()
        if kind == "text":
            parts.append(Text(text=part["text"].str()))
        elif kind == "reasoning":
            parts.append(_reasoning(part))
        elif kind == "tool_use":
            parts.extend(_server_tool(part))
        else:
            omitted.append(kind)
    return parts, omitted


def _tool_call(node: Node) -> ToolCall:
    parsed = parse_arguments(node.get("arguments").value, node.get("arguments").path)
    inspect_error = node.opt_str("parse_error")
    return ToolCall(
        id=node["id"].id(),
        name=node["function"].str(),
        arguments=None if inspect_error else parsed.arguments,
        raw_arguments=parsed.raw,
        parse_error=inspect_error or parsed.error,
    )


def _tool_message(node: Node, msg_id: str | None) -> Message:
    d = node.obj()
    content = d.get("content")
    text = text_of(content)
    error = node.get("error")
    metadata: dict[str, Any] = {}
    error_type: str | None = None
    if error.value is not None:
        error.obj()
        error_type = error.opt_str("type")
        message = error.opt_str("message")
        if message:
            metadata["error_message"] = message
            text = text or message
    result = ToolResult(
        call_id=node["tool_call_id"].id(),
        output=text,
        is_error=error.value is not None,
        error_type=error_type,
        structured=content if isinstance(content, list) else None,
        name=node.opt_str("function"),
    )
    return Message(role="tool", parts=[result], id=msg_id, metadata=metadata)


def _message(node: Node) -> Message:
    d = node.obj()
    role = node["role"].str()
    msg_id = d.get("id") if isinstance(d.get("id"), str) else None
    if role == "tool":
        return _tool_message(node, msg_id)
    if role not in _ROLES:
        raise node["role"].fail(f"unknown role {role!r}")
    parts, omitted = _content(node.get("content", ""))
    metadata: dict[str, Any] = {}
    if omitted:
        metadata["omitted_content"] = omitted
    if role == "assistant":
        parts.extend(_tool_call(c) for c in node.get("tool_calls", []).items())
        if isinstance(d.get("model"), str):
            metadata["model"] = d["model"]
    return Message(role=role, parts=parts, id=msg_id, metadata=metadata)


def _model_events(events: Node) -> Iterator[Node]:
    for event in events.items():
        if not isinstance(event.value, dict):
            continue
        if event.value.get("event") == "model":
            yield event
        elif isinstance(event.value.get("events"), list):
            yield from _model_events(event["events"])


def _tools(events: Node) -> list[ToolSpec]:
    specs: dict[str, ToolSpec] = {}
    for event in _model_events(events):
        for tool in event.get("tools", []).items():
            try:
                spec = toolspec_from_definition(tool.value, tool.path)
            except ToolSchemaError as e:
                raise RecordError(tool.path, str(e)) from e
            specs.setdefault(spec.name, spec)
    return list(specs.values())


def _metadata(
    eval_: dict[str, Any], sample: dict[str, Any], sample_id: str, epoch: int
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        k: eval_[k]
        for k in ("task", "task_id", "eval_id", "run_id", "model")
        if eval_.get(k) is not None
    }
    meta.update(sample_id=sample_id, epoch=epoch)
    for key in ("target", "scores", "error", "limit"):
        if sample.get(key) not in (None, "", {}, []):
            meta[key] = sample[key]
    if sample.get("metadata"):
        meta["sample_metadata"] = sample["metadata"]
    if isinstance(eval_.get("sandbox"), dict | list):
        meta["sandbox"] = eval_["sandbox"]
    return meta


@importer
class InspectLogImporter(Importer):
    """inspect-ai eval logs, one trace per sample and epoch."""

    name = "inspect"
    description = "inspect-ai eval logs (.eval zip or .json), one trace per sample"
    priority = 15

    def sniff(self, doc: Document) -> bool:
        """A zip with an inspect header, journal or samples; or a JSON log object."""
        if doc.kind == "zip" and isinstance(doc.data, ZipJson):
            names = doc.data.members.keys()
            return any(n in _HEADERS for n in names) or any(
                _SAMPLE_MEMBER.match(n) and "_epoch_" in n for n in names
            )
        return doc.kind == "json" and _is_json_log(doc.data)

    def records(self, doc: Document) -> Iterator[Record]:
        """One record ``{"eval": ..., "sample": ...}`` per sample, located by member or id."""
        if isinstance(doc.data, ZipJson):
            eval_ = _zip_eval(doc.data)
            members = [n for n in doc.data.members if _SAMPLE_MEMBER.match(n)]
            for i, name in enumerate(members):
                yield Record(i, {"eval": eval_, "sample": doc.data.members[name]}, name)
            return
        log = Node(doc.data)
        eval_ = log.get("eval", {}).obj()
        for i, sample in enumerate(log.get("samples", []).arr()):
            yield Record(i, {"eval": eval_, "sample": sample}, _locator(sample, i))

    def convert(self, record: Node, ctx: ImportContext) -> Trace:
        """Messages, tool schemas from model events, and the eval's facts as metadata."""
        eval_ = record.get("eval", {}).obj()
        raw_sample = record["sample"].obj()
        attachments = raw_sample.get("attachments")
        sample = Node(
            _Attachments(attachments, ctx.limits.max_bytes).resolve(raw_sample)
            if isinstance(attachments, dict)
            else raw_sample,
            "sample",
        )
        sample_id = sample["id"].id()
        epoch = sample.get("epoch", 1).value
        if isinstance(epoch, bool) or not isinstance(epoch, int):
            raise sample["epoch"].fail("expected an integer epoch")
        natural = (
            [eval_.get("eval_id")]
            if eval_.get("eval_id")
            else [eval_.get("run_id"), eval_.get("task_id")]
        )
        return Trace(
            id=ctx.trace_id(*natural, sample_id, f"epoch-{epoch}"),
            source=ctx.source(),
            metadata=_metadata(eval_, sample.obj(), sample_id, epoch),
            tools=_tools(sample.get("events", [])),
            messages=[_message(m) for m in sample.get("messages", []).items()],
            raw=raw_sample,
        )
