"""OpenTelemetry GenAI spans exported as JSON: OTLP/JSON and flat SDK span dumps.

Accepted files: an OTLP/JSON export (``{"resourceSpans": [{"scopeSpans": [{"spans": [...]}]}]}``,
attributes as ``[{key, value: {stringValue | intValue | ...}}]``, also one export per JSONL
line), or a JSON list / JSONL of flat spans with ``attributes`` as an object (the Python
SDK's ``span.to_json()``, trace id in ``context.trace_id``). Spans are grouped by trace id:
one record, and one trace, per trace id, in order of first appearance (locator: the id).

Content read: ``gen_ai.input.messages`` / ``gen_ai.output.messages`` (JSON strings or
parsed) with parts ``text``, ``reasoning``, ``tool_call``, ``tool_call_response``
(``response``, or ``result``), ``server_tool_call`` / ``server_tool_call_response`` (kept
inline in the assistant message, ``executed_by="server"``); ``gen_ai.system_instructions``;
``gen_ai.tool.definitions`` (on the span, or on its ``gen_ai.client.inference.operation.
details`` event); ``execute_tool`` spans; and the older per-message span events
(``gen_ai.{system,user,assistant,tool}.message``, ``gen_ai.choice``). ``blob``, ``file``
and ``uri`` parts are listed in ``Message.metadata["omitted_content"]``.

Merge rule, how one conversation is built from many spans:

1. Spans are ordered by start time (file order when a span has none).
2. Content spans are the non-``execute_tool`` spans carrying messages. Inference spans
   (``chat`` and the like) are used; agent spans (``invoke_agent``, ``create_agent``,
   ``invoke_workflow``) only when no inference span carries content.
3. Conversations are cumulative, so the conversation is the *last* content span's system
   instructions, input messages and output messages; earlier spans are not merged (that
   would duplicate them). An earlier span whose input is not a prefix of that conversation
   (a sub-agent, a trimmed history) is listed in ``metadata["divergent_spans"]``.
4. ``execute_tool`` spans then fill in by call id: a call with no result gets one from its
   span (``gen_ai.tool.call.result``, else the error), inserted after the calling message
   and the tool messages that follow it; a result whose span failed (``error.type`` or
   status ERROR) is marked ``is_error``. Without any content, the conversation is rebuilt
   from ``execute_tool`` spans alone: consecutive tool spans under one parent, with no
   inference span between them, make one assistant message of calls, each followed by its
   result when one was recorded (a call without a recorded result stays unanswered). Tool
   spans whose call is not in a non-empty conversation go to
   ``metadata["unmatched_tool_spans"]``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, NamedTuple

from deploysim._errors import ToolSchemaError
from deploysim.traces._documents import BadLine, Document
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
from deploysim.traces._nesting import loads, nesting_error
from deploysim.traces._reader import Node, RecordError, parse_arguments, text_of
from deploysim.traces._registry import ImportContext, Importer, Record, importer
from deploysim.traces._toolspecs import toolspec_from_definition
from deploysim.traces.importers._otel_spans import (
    Span,
    attributes,
    decode_span,
    trace_id_of,
)

__all__ = ["OtelGenAIImporter"]

_INPUT, _OUTPUT = "gen_ai.input.messages", "gen_ai.output.messages"
_LEGACY = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
_AGENT_OPS = frozenset({"invoke_agent", "create_agent", "invoke_workflow"})
_INFERENCE_OPS = frozenset({"chat", "generate_content", "text_completion"})


# --- reading spans -----------------------------------------------------------------------


def _json(node: Node) -> Node:
    """The node's value parsed when it is a JSON string (attributes often are)."""
    if not isinstance(node.value, str):
        return node
    try:
        parsed = loads(node.value)
    except json.JSONDecodeError as e:
        raise node.fail(f"not JSON: {e.msg} (char {e.pos})") from e
    deep = nesting_error(parsed, node.path)
    if deep:
        raise RecordError(deep.field, f"a JSON string {deep.reason}")
    return Node(parsed, node.path)


def _call(p: Node, fallback_id: str, server: bool = False) -> ToolCall:
    field = p.get("arguments").path
    raw = p.get("arguments").value
    if server and raw is None:
        field = p.get("server_tool_call").path
        raw = p.get("server_tool_call").value
    parsed = parse_arguments(raw, field)
    return ToolCall(
        id=p["id"].id() if p.has("id") else fallback_id,
        name=p["name"].str(),
        arguments=parsed.arguments,
        raw_arguments=parsed.raw,
        parse_error=parsed.error,
        executed_by="server" if server else "client",
    )


def _response(p: Node, fallback_id: str, key: str) -> ToolResult:
    value = next(
        (p.obj()[k] for k in (key, "response", "result") if p.obj().get(k) is not None), None
    )
    return ToolResult(
        call_id=p["id"].id() if p.has("id") else fallback_id,
        output=text_of(value),
        structured=None if isinstance(value, str) else value,
    )


def _message(m: Node, index: int) -> list[Message]:
    """One message; tool responses inside a non-tool message become a tool message first."""
    d = m.obj()
    role = m["role"].str()
    meta: dict[str, Any] = {"original_role": role} if role == "developer" else {}
    role = "system" if role == "developer" else role
    if role not in ("system", "user", "assistant", "tool"):
        raise m["role"].fail(f"unknown role {role!r}")
    parts: list[Part] = []
    results: list[ToolResult] = []
    omitted: list[str] = []
    if not m.has("parts") and isinstance(d.get("content"), str) and d["content"]:
        parts.append(Text(text=d["content"]))
    for j, p in enumerate(m.get("parts", []).items()):
        kind, fallback = p["type"].str(), f"call-{index}-{j}"
        if kind == "text":
            parts.append(Text(text=text_of(p.get("content", p.obj().get("text")).value)))
        elif kind == "reasoning":
            parts.append(Reasoning(text=text_of(p.get("content").value)))
        elif kind in ("tool_call", "server_tool_call"):
            parts.append(_call(p, fallback, server=kind == "server_tool_call"))
        elif kind == "server_tool_call_response":
            parts.append(_response(p, fallback, kind))
        elif kind == "tool_call_response":
            results.append(_response(p, fallback, "response"))
        else:
            omitted.append(kind)
    if role == "tool" and not results:
        call_id = d.get("tool_call_id") or d.get("id")
        if call_id is None:
            raise m.fail("tool message has no tool_call_response part and no tool_call_id")
        text = "\n".join(p.text for p in parts if isinstance(p, Text))
        results, parts = [ToolResult(call_id=str(call_id), output=text)], []
    if omitted:
        meta["omitted_content"] = omitted
    name = d.get("name") if isinstance(d.get("name"), str) else None
    out = [Message(role="tool", parts=list(results))] if results else []
    if role != "tool" and (parts or not results):
        out.append(Message(role=role, parts=parts, name=name, metadata=meta))
    return out


def _messages(node: Node | None, offset: int = 0) -> list[Message]:
    """Messages of a JSON list; ``offset`` keeps synthetic call ids of outputs apart."""
    if node is None:
        return []
    out: list[Message] = []
    for m in _json(node).items():
        out.extend(_message(m, offset + len(out)))
    return out


def _legacy_message(role: str, fields: dict[str, Node]) -> dict[str, Any]:
    content = fields["content"].value if "content" in fields else None
    parts: list[dict[str, Any]] = []
    if role == "tool":
        call_id = fields["id"].value if "id" in fields else None
        parts.append({"type": "tool_call_response", "id": call_id, "response": content})
    elif content not in (None, ""):
        parts.append({"type": "text", "content": text_of(content)})
    if "tool_calls" in fields:
        for c in _json(fields["tool_calls"]).items():
            fn = c["function"]
            parts.append(
                {
                    "type": "tool_call",
                    "id": c.get("id").value,
                    "name": fn["name"].str(),
                    "arguments": fn.get("arguments").value,
                }
            )
    return {"role": role, "parts": parts}


def _legacy(span: Span) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    inputs: list[dict[str, Any]] = []
    outputs: list[dict[str, Any]] = []
    for name, fields in span.events:
        if name in _LEGACY:
            inputs.append(_legacy_message(_LEGACY[name], fields))
        elif name == "gen_ai.choice" and "message" in fields:
            msg = _json(fields["message"])
            outputs.append(_legacy_message("assistant", {k: msg.get(k) for k in msg.obj()}))
    return inputs, outputs


def _has_content(span: Span) -> bool:
    return span.op != "execute_tool" and (
        _INPUT in span.attrs
        or _OUTPUT in span.attrs
        or any(n in _LEGACY or n == "gen_ai.choice" for n, _ in span.events)
    )


def _system(span: Span) -> list[Message]:
    node = span.attrs.get("gen_ai.system_instructions")
    if node is None:
        return []
    if isinstance(node.value, str) and not node.value.lstrip().startswith("["):
        return [Message(role="system", parts=[Text(text=node.value)])]
    text = text_of(
        [
            {"text": p.get("content", p.get("text"))} if isinstance(p, dict) else p
            for p in _json(node).arr()
        ]
    )
    return [Message(role="system", parts=[Text(text=text)])]


def _span_messages(span: Span) -> tuple[list[Message], list[Message]]:
    """A content span's (input with system instructions, output) messages."""
    if _INPUT in span.attrs or _OUTPUT in span.attrs:
        in_node, out_node = span.attrs.get(_INPUT), span.attrs.get(_OUTPUT)
    else:
        raw_in, raw_out = _legacy(span)
        in_node = Node(raw_in, f"{span.node.path}.events")
        out_node = Node(raw_out, in_node.path)
    inputs = _messages(in_node)
    outputs = _messages(out_node, offset=len(inputs))
    if not inputs or inputs[0].role != "system":
        inputs = _system(span) + inputs
    return inputs, outputs


def _key(m: Message) -> tuple[Any, ...]:
    return (
        m.role,
        m.text,
        tuple(c.id for c in m.tool_calls),
        tuple(r.call_id for r in m.tool_results),
    )


def _conversation(spans: list[Span]) -> tuple[list[Message], Span | None, list[str]]:
    content = [s for s in spans if _has_content(s)]
    chosen = [s for s in content if s.op not in _AGENT_OPS] or content
    if not chosen:
        return [], None, []
    inputs, outputs = _span_messages(chosen[-1])
    messages = inputs + outputs
    final = [_key(m) for m in messages]
    divergent = []
    for s in chosen[:-1]:
        earlier = [_key(m) for m in _span_messages(s)[0]]
        if final[: len(earlier)] != earlier:
            divergent.append(s.span_id or s.name)
    return messages, chosen[-1], divergent


# --- execute_tool spans ------------------------------------------------------------------


class _ToolSpan(NamedTuple):
    span: Span
    call_id: str | None
    name: str
    error_type: str | None
    failed: bool

    def call(self, fallback_id: str) -> ToolCall:
        parsed = parse_arguments(self.span.attr("gen_ai.tool.call.arguments"))
        return ToolCall(
            id=self.call_id or fallback_id,
            name=self.name,
            arguments=parsed.arguments,
            raw_arguments=parsed.raw,
            parse_error=parsed.error,
        )

    def result(self, call_id: str) -> ToolResult | None:
        value = self.span.attr("gen_ai.tool.call.result")
        if value is None and not self.failed:
            return None
        output = (
            text_of(value)
            if value is not None
            else (self.span.status_error or self.error_type or "error")
        )
        return ToolResult(
            call_id=call_id,
            output=output,
            is_error=self.failed,
            error_type=self.error_type,
            name=self.name,
            structured=None if isinstance(value, str | None) else value,
        )


def _tool_span(span: Span) -> _ToolSpan:
    name = span.str_attr("gen_ai.tool.name") or span.name.removeprefix("execute_tool").strip()
    if not name:
        raise span.node.fail("execute_tool span has no gen_ai.tool.name")
    error_type = span.str_attr("error.type")
    return _ToolSpan(
        span,
        span.str_attr("gen_ai.tool.call.id"),
        name,
        error_type,
        error_type is not None or span.status_error is not None,
    )


def _from_tool_spans(spans: list[Span]) -> list[Message]:
    """Calls and results from tool spans; an inference span between two tool spans splits turns."""
    groups: list[list[_ToolSpan]] = []
    open_group = False
    for s in spans:
        if s.op in _INFERENCE_OPS:
            open_group = False
        elif s.op == "execute_tool":
            t = _tool_span(s)
            if open_group and groups[-1][-1].span.parent_id == s.parent_id:
                groups[-1].append(t)
            else:
                groups.append([t])
                open_group = True
    messages: list[Message] = []
    for group in groups:
        calls = [
            t.call(t.span.span_id or f"tool-span-{len(messages)}-{i}") for i, t in enumerate(group)
        ]
        messages.append(Message(role="assistant", parts=list(calls)))
        for t, call in zip(group, calls, strict=True):
            result = t.result(call.id)
            if result is not None:
                messages.append(Message(role="tool", parts=[result]))
    return messages


def _mark_failed(m: Message, failed: dict[str, _ToolSpan]) -> Message:
    def fix(p: Part) -> Part:
        if isinstance(p, ToolResult) and p.call_id in failed and not p.is_error:
            return p.model_copy(
                update={
                    "is_error": True,
                    "error_type": p.error_type or failed[p.call_id].error_type,
                }
            )
        return p

    parts = [fix(p) for p in m.parts]
    return m if parts == m.parts else m.model_copy(update={"parts": parts})


def _apply_tool_spans(
    messages: list[Message], spans: list[Span]
) -> tuple[list[Message], list[dict[str, Any]]]:
    if not messages:
        return _from_tool_spans(spans), []
    tools = [_tool_span(s) for s in spans if s.op == "execute_tool"]
    call_at = {c.id: i for i, m in enumerate(messages) for c in m.tool_calls}
    answered = {r.call_id for m in messages for r in m.tool_results}
    failed = {t.call_id: t for t in tools if t.failed and t.call_id}
    additions: dict[int, list[Message]] = defaultdict(list)
    unmatched: list[dict[str, Any]] = []
    for t in tools:
        if t.call_id is None or t.call_id not in call_at:
            unmatched.append({"span_id": t.span.span_id, "name": t.name, "call_id": t.call_id})
            continue
        result = None if t.call_id in answered else t.result(t.call_id)
        if result is not None:
            additions[call_at[t.call_id]].append(Message(role="tool", parts=[result]))
            answered.add(t.call_id)
    out: list[Message] = []
    pending: list[Message] = []
    for i, m in enumerate(messages):
        if m.role != "tool":
            out.extend(pending)
            pending = []
        out.append(_mark_failed(m, failed))
        pending.extend(additions.get(i, []))
    return out + pending, unmatched


# --- the importer ------------------------------------------------------------------------


def _tools(spans: list[Span]) -> list[ToolSpec]:
    specs: dict[str, ToolSpec] = {}
    for s in spans:
        if "gen_ai.tool.definitions" in s.attrs:
            for t in _json(s.attrs["gen_ai.tool.definitions"]).items():
                try:
                    spec = toolspec_from_definition(t.value, t.path)
                except ToolSchemaError as e:
                    raise RecordError(t.path, str(e)) from e
                specs.setdefault(spec.name, spec)
    return list(specs.values())


def _metadata(trace_id: str, spans: list[Span], last: Span | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"trace_id": trace_id, "span_count": len(spans)}
    firsts = {
        "provider": ("gen_ai.provider.name", "gen_ai.system"),
        "agent_name": ("gen_ai.agent.name",),
        "agent_id": ("gen_ai.agent.id",),
        "conversation_id": ("gen_ai.conversation.id",),
    }
    for field, keys in firsts.items():
        value = next((s.str_attr(k) for s in spans for k in keys if s.str_attr(k)), None)
        if value:
            meta[field] = value
    inference = [s for s in spans if s.op in _INFERENCE_OPS]
    models = [
        s.str_attr("gen_ai.response.model") or s.str_attr("gen_ai.request.model") for s in inference
    ]
    if any(models):
        meta["model"] = [m for m in models if m][-1]
    usage: dict[str, int] = {}
    for s in inference:
        for k in ("input_tokens", "output_tokens"):
            v = s.attr(f"gen_ai.usage.{k}")
            if isinstance(v, int) and not isinstance(v, bool):
                usage[k] = usage.get(k, 0) + v
    if usage:
        meta["usage"] = usage
    if last is not None:
        meta["conversation_span"] = last.span_id
    return meta


def _service_name(record: Node, spans: list[Span]) -> str | None:
    resource = record.get("resource").value
    if resource is None and spans and isinstance(spans[0].node.value.get("resource"), dict):
        resource = spans[0].node.value["resource"]
    if not isinstance(resource, dict):
        return None
    name = attributes(Node(resource, "resource").get("attributes", {})).get("service.name")
    return name.value if name is not None and isinstance(name.value, str) else None


def _looks_like_span(v: Any) -> bool:
    return (
        isinstance(v, dict)
        and "name" in v
        and isinstance(v.get("attributes"), dict | list)
        and trace_id_of(v) is not None
    )


def _is_genai(v: Any) -> bool:
    attrs = v.get("attributes")
    keys = (
        attrs if isinstance(attrs, dict) else [a.get("key") for a in attrs if isinstance(a, dict)]
    )
    events = v.get("events") if isinstance(v.get("events"), list) else []
    names = [e.get("name") for e in events if isinstance(e, dict)]
    return any(isinstance(k, str) and k.startswith("gen_ai.") for k in [*keys, *names])


def _values(doc: Document) -> list[Any]:
    if doc.kind == "jsonl" or (doc.kind == "json" and isinstance(doc.data, list)):
        return list(doc.data)
    return [doc.data]


def _entries(doc: Document) -> Iterator[tuple[Any, Any] | BadLine]:
    """Every span of the document with its OTLP resource (None for flat spans)."""
    for value in _values(doc):
        if isinstance(value, dict) and isinstance(value.get("resourceSpans"), list):
            for rs in value["resourceSpans"]:
                rs = rs if isinstance(rs, dict) else {}
                scopes = rs.get("scopeSpans") or rs.get("instrumentationLibrarySpans") or []
                for ss in scopes if isinstance(scopes, list) else []:
                    spans = ss.get("spans") if isinstance(ss, dict) else None
                    for span in spans if isinstance(spans, list) else []:
                        yield span, rs.get("resource")
        elif isinstance(value, BadLine):
            yield value
        else:
            yield value, None


@importer
class OtelGenAIImporter(Importer):
    """OpenTelemetry GenAI spans (OTLP/JSON or flat SDK dumps), one trace per trace id."""

    name = "otel-genai"
    description = "OpenTelemetry GenAI spans (OTLP/JSON or SDK span dumps), one trace per trace id"
    priority = 25

    def sniff(self, doc: Document) -> bool:
        """An OTLP export, or flat spans of which some carry ``gen_ai.*`` attributes."""
        if doc.kind not in ("json", "jsonl"):
            return False
        values = [v for v in _values(doc)[:50] if not isinstance(v, BadLine)]
        if not values or not isinstance(values[0], dict):
            return False
        if isinstance(values[0].get("resourceSpans"), list):
            return True
        spans = [v for v in values if _looks_like_span(v)]
        return _looks_like_span(values[0]) and any(_is_genai(v) for v in spans)

    def records(self, doc: Document) -> Iterator[Record]:
        """Group spans by trace id; a span without one, or a bad line, is its own record."""
        order: list[str | BadLine] = []
        groups: dict[str, dict[str, Any]] = {}
        for entry in _entries(doc):
            if isinstance(entry, BadLine):
                order.append(entry)
                continue
            span, resource = entry
            tid = trace_id_of(span)
            key = tid or f"#{len(order)}"
            if key not in groups:
                groups[key] = {"trace_id": tid, "resource": resource, "spans": []}
                order.append(key)
            groups[key]["spans"].append(span)
        for i, item in enumerate(order):
            if isinstance(item, BadLine):
                yield Record(i, item)
            else:
                yield Record(i, groups[item], groups[item]["trace_id"])

    def convert(self, record: Node, ctx: ImportContext) -> Trace:
        """The conversation by the merge rule above, tool definitions, and span facts."""
        indexed = [decode_span(s) for s in record["spans"].items()]
        if all(s.start is not None for s in indexed):
            indexed.sort(key=lambda s: s.start or 0)
        trace_id = trace_id_of(indexed[0].node.value) if indexed else None
        if trace_id is None:
            raise record["spans"].fail("no spans")
        messages, last, divergent = _conversation(indexed)
        messages, unmatched = _apply_tool_spans(messages, indexed)
        meta = _metadata(trace_id, indexed, last)
        service = _service_name(record, indexed)
        if service:
            meta["service_name"] = service
        if divergent:
            meta["divergent_spans"] = divergent
        if unmatched:
            meta["unmatched_tool_spans"] = unmatched
        return Trace(
            id=ctx.trace_id(trace_id),
            source=ctx.source(),
            metadata=meta,
            tools=_tools(indexed),
            messages=messages,
            raw=record.value,
        )
