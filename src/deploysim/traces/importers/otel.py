"""OpenTelemetry GenAI spans exported as JSON: OTLP/JSON and flat SDK span dumps.

Accepted files: an OTLP/JSON export (``{"resourceSpans": [{"scopeSpans": [{"spans": [...]}]}]}``,
attributes as ``[{key, value: {stringValue | intValue | ...}}]``, also one export per JSONL
line), a JSON list / JSONL of flat spans with ``attributes`` as an object (the Python SDK's
``span.to_json()``, trace id in ``context.trace_id``), or a run file ``{"spans": [...], ...}``
whose other fields go to ``metadata["document"]``. Ids may be hex strings or the integers an
SDK keeps (written as zero-padded hex); the parent is ``parentSpanId``, ``parent_id`` or a
``parent`` context object; status codes are matched case-insensitively. Spans are grouped by
trace id: one record, and one trace, per trace id, in order of first appearance (locator:
the id). A span written twice (same id, same content) is read once
(``metadata["repeated_spans"]``).

Vocabularies read (see ``_otel_vocab`` for the other two): the GenAI conventions, with
``gen_ai.input.messages`` / ``gen_ai.output.messages`` (JSON strings or parsed; parts form,
or chat form with ``content`` / ``tool_calls`` / ``tool_call_id``) with parts ``text``,
``reasoning``, ``tool_call``, ``tool_call_response`` (``response``, or ``result``),
``server_tool_call`` / ``server_tool_call_response`` (kept inline in the assistant message,
``executed_by="server"``); ``gen_ai.system_instructions``; ``gen_ai.tool.definitions`` (on
the span, or on its ``gen_ai.client.inference.operation.details`` event); ``execute_tool``
spans; and the older per-message span events (``gen_ai.{system,user,assistant,tool}.message``,
``gen_ai.choice``). ``blob``, ``file`` and ``uri`` parts are listed in
``Message.metadata["omitted_content"]``. OpenInference spans (``openinference.span.kind``)
and pre-convention GenAI dialects (``call_llm``, ``gen_ai.output``, ``gen_ai.tool.args``)
are read into the same shapes. Roles other vocabularies use (developer, human, ai, model,
smolagents' tool-response / tool-call) are mapped, the original kept in
``metadata["original_role"]``.

Merge rule, how one conversation is built from many spans:

1. Spans are ordered by start time (file order when a span has none). An inference span
   inside another inference span is the same call seen by two instrumentations: only the
   outer one is read (and counted in usage).
2. Content spans are the non-``execute_tool`` spans carrying messages. Inference spans
   (``chat``, ``call_llm`` and the like) are used; agent spans (``invoke_agent``,
   ``create_agent``, ``invoke_workflow``) only when no inference span carries content.
3. **Cumulative** logs, where the last content span's input repeats what an earlier span
   said: the conversation is the last span's system instructions, input and output;
   earlier spans are not merged (that would duplicate them). An earlier span whose input
   is not a prefix of that conversation (a sub-agent, a trimmed history) is listed in
   ``metadata["divergent_spans"]``.
4. **Sequential** logs (``metadata["merge"] = "sequential"``), where later spans record no
   input, or an input that does not repeat the calls (a lossy history), or one that cannot
   be read (``metadata["unread_input_spans"]``, with why): the first span's input, then
   each span's output in time order; a later input that continues the conversation adds
   its new messages, one that starts another conversation is divergent.
5. Tool spans (``execute_tool``, OpenInference TOOL) then fill in. A span is matched to its
   call by call id, else by tool name and time (the latest unanswered call to that tool
   said before the span started); a call without an id takes the span's. A call with no
   result gets the span's (``gen_ai.tool.call.result`` / ``gen_ai.output`` / ``output.
   value``, else the error; a span that records arguments but no result returned nothing:
   an empty result), inserted after the calling message and the tool messages that follow
   it; a result whose span failed (``error.type`` or status ERROR) is marked ``is_error``.
   Arguments a span ran with that differ from the call's are kept in the calling message's
   ``metadata["executed_arguments"]``. A tool span without a call id and without a call
   (the agent asked in text, a ReAct prompt) is inserted where it ran, marked
   ``metadata["from_tool_span"]``; one whose call id is not in the conversation goes to
   ``metadata["unmatched_tool_spans"]``. Without any content, the conversation is rebuilt
   from tool spans alone: consecutive tool spans under one parent, with no inference span
   between them, make one assistant message of calls, each followed by its result when one
   was recorded (a call whose span records neither arguments nor result stays unanswered).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, NamedTuple

from deploysim._errors import ToolSchemaError
from deploysim.traces._documents import BadLine, Document
from deploysim.traces._model import (
    ToolSpec,
    Trace,
)
from deploysim.traces._reader import Node, RecordError
from deploysim.traces._registry import ImportContext, Importer, Record, importer
from deploysim.traces._toolspecs import toolspec_from_definition
from deploysim.traces.importers._otel_merge import conversation, nested_inference
from deploysim.traces.importers._otel_messages import INFERENCE_OPS, json_node
from deploysim.traces.importers._otel_spans import (
    OPENINFERENCE_KIND,
    Span,
    attributes,
    decode_span,
    trace_id_of,
)
from deploysim.traces.importers._otel_tools import apply_tool_spans
from deploysim.traces.importers._otel_vocab import (
    openinference_tool_schemas,
)

__all__ = ["OtelGenAIImporter"]

INPUT_MESSAGES, OUTPUT_MESSAGES = "gen_ai.input.messages", "gen_ai.output.messages"
# --- the importer ------------------------------------------------------------------------


def _definitions(s: Span) -> list[Node]:
    found = (
        list(json_node(s.attrs["gen_ai.tool.definitions"]).items())
        if ("gen_ai.tool.definitions" in s.attrs)
        else []
    )
    return found + (openinference_tool_schemas(s) if s.openinference else [])


def _tools(spans: list[Span]) -> list[ToolSpec]:
    specs: dict[str, ToolSpec] = {}
    for s in spans:
        for t in _definitions(s):
            try:
                spec = toolspec_from_definition(t.value, t.path)
            except ToolSchemaError as e:
                raise RecordError(t.path, str(e)) from e
            specs.setdefault(spec.name, spec)
    return list(specs.values())


def _metadata(trace_id: str, spans: list[Span], last: Span | None) -> dict[str, Any]:
    """Facts of the run; an inference span nested in another is the same call, counted once."""
    meta: dict[str, Any] = {"trace_id": trace_id, "span_count": len(spans)}
    firsts = {
        "provider": ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system"),
        "agent_name": ("gen_ai.agent.name",),
        "agent_id": ("gen_ai.agent.id",),
        "conversation_id": ("gen_ai.conversation.id", "session.id"),
    }
    for field, keys in firsts.items():
        value = next((s.str_attr(k) for s in spans for k in keys if s.str_attr(k)), None)
        if value:
            meta[field] = value
    nested = nested_inference(spans)
    inference = [s for s in spans if s.op in INFERENCE_OPS and s.span_id not in nested]
    models = [
        s.str_attr("gen_ai.response.model")
        or s.str_attr("gen_ai.request.model")
        or s.str_attr("llm.model_name")
        for s in inference
    ]
    if any(models):
        meta["model"] = [m for m in models if m][-1]
    usage: dict[str, int] = {}
    for s in inference:
        for k, oi in (("input_tokens", "prompt"), ("output_tokens", "completion")):
            v = s.attr(f"gen_ai.usage.{k}")
            v = s.attr(f"llm.token_count.{oi}") if v is None else v
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
    return any(
        isinstance(k, str) and (k.startswith("gen_ai.") or k == OPENINFERENCE_KIND)
        for k in [*keys, *names]
    )


def _span_document(data: Any) -> bool:
    """``{"spans": [...], ...}``: a run's spans with facts about the run beside them."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("spans"), list)
        and "resourceSpans" not in data
    )


def _values(doc: Document) -> list[Any]:
    if doc.kind == "jsonl" or (doc.kind == "json" and isinstance(doc.data, list)):
        return list(doc.data)
    if doc.kind == "json" and _span_document(doc.data):
        return list(doc.data["spans"])
    return [doc.data]


def _document_fields(doc: Document) -> dict[str, Any]:
    if doc.kind == "json" and _span_document(doc.data):
        return {k: v for k, v in doc.data.items() if k != "spans"}
    return {}


class _Unique(NamedTuple):
    spans: list[Span]
    repeats: list[str]
    """Ids of the spans left out as exact repeats."""


def _unique(spans: list[Span]) -> _Unique:
    """Spans without exact repeats; exporters that flush twice write a span twice."""
    seen: set[str] = set()
    out: list[Span] = []
    repeats: list[str] = []
    for s in spans:
        key = json.dumps(s.node.value, sort_keys=True, default=str) if s.span_id else ""
        if key and key in seen:
            repeats.append(s.span_id or s.name)
            continue
        seen.add(key)
        out.append(s)
    return _Unique(out, repeats)


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
        fields = _document_fields(doc)
        for entry in _entries(doc):
            if isinstance(entry, BadLine):
                order.append(entry)
                continue
            span, resource = entry
            tid = trace_id_of(span)
            key = tid or f"#{len(order)}"
            if key not in groups:
                groups[key] = {"trace_id": tid, "resource": resource, "spans": []}
                if fields:
                    groups[key]["document"] = fields
                order.append(key)
            groups[key]["spans"].append(span)
        for i, item in enumerate(order):
            if isinstance(item, BadLine):
                yield Record(i, item)
            else:
                yield Record(i, groups[item], groups[item]["trace_id"])

    def convert(self, record: Node, ctx: ImportContext) -> Trace:
        """The conversation by the merge rule above, tool definitions, and span facts."""
        indexed, repeats = _unique([decode_span(s) for s in record["spans"].items()])
        if all(s.start is not None for s in indexed):
            indexed.sort(key=lambda s: s.start or 0)
        trace_id = trace_id_of(indexed[0].node.value) if indexed else None
        if trace_id is None:
            raise record["spans"].fail("no spans")
        conv = conversation(indexed)
        messages, unmatched = apply_tool_spans(conv, indexed)
        meta = _metadata(trace_id, indexed, conv.last)
        service = _service_name(record, indexed)
        if service:
            meta["service_name"] = service
        extras: dict[str, Any] = {
            "merge": conv.merge if conv.merge == "sequential" else None,
            "divergent_spans": conv.divergent,
            "unread_input_spans": conv.unread_inputs,
            "unmatched_tool_spans": unmatched,
            "repeated_spans": repeats,
            "document": record.obj().get("document"),
        }
        meta.update({k: v for k, v in extras.items() if v})
        return Trace(
            id=ctx.trace_id(trace_id),
            source=ctx.source(),
            metadata=meta,
            tools=_tools(indexed),
            messages=messages,
            raw=record.value,
        )
