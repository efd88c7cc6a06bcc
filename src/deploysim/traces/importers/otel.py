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
from deploysim.traces._reader import Node, RecordError, text_of
from deploysim.traces._registry import ImportContext, Importer, Record, importer
from deploysim.traces._toolspecs import toolspec_from_definition
from deploysim.traces.importers._otel_spans import (
    OPENINFERENCE_KIND,
    Span,
    attributes,
    decode_span,
    trace_id_of,
)
from deploysim.traces.importers._otel_vocab import (
    INFERENCE_OUTPUT,
    decode_arguments,
    openinference_messages,
    openinference_tool_schemas,
    output_messages,
    tool_arguments,
    tool_call_arguments,
    tool_call_id,
    tool_name,
    tool_result,
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
# call_llm: the inference operation of GenAI dialects older than the conventions (any-agent).
_INFERENCE_OPS = frozenset({"chat", "generate_content", "text_completion", "call_llm"})
# Roles other vocabularies use (OpenAI developer, LangChain human/ai, Gemini model).
# smolagents sends its tool-response turns to the model as user turns, tool-call as assistant.
_ROLE_ALIASES = {
    "developer": "system",
    "human": "user",
    "ai": "assistant",
    "model": "assistant",
    "tool-response": "user",
    "tool-call": "assistant",
}


# --- reading spans -----------------------------------------------------------------------


def _json(node: Node) -> Node:
    """The node's value parsed when it is a JSON string (attributes often are)."""
    if not isinstance(node.value, str):
        return node
    try:
        return Node(json.loads(node.value), node.path)
    except json.JSONDecodeError as e:
        raise node.fail(f"not JSON: {e.msg} (char {e.pos})") from e
    except RecursionError as e:
        raise node.fail("JSON nested deeper than can be read") from e


def _call(p: Node, fallback_id: str, server: bool = False) -> ToolCall:
    raw = p.get("arguments").value
    if server and raw is None:
        raw = p.get("server_tool_call").value
    parsed = decode_arguments(raw)
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


def _chat_calls(m: Node) -> list[ToolCall]:
    """Chat-form ``tool_calls`` (``{"id", "function": {"name", "arguments"}}``) of a message."""
    calls = []
    for c in m.get("tool_calls", []).items():
        fn = c["function"] if c.has("function") else c
        parsed = decode_arguments(fn.get("arguments").value)
        calls.append(
            ToolCall(
                id=c["id"].id(),
                name=fn["name"].str(),
                arguments=parsed.arguments,
                raw_arguments=parsed.raw,
                parse_error=parsed.error,
            )
        )
    return calls


def _message(m: Node, index: int) -> list[Message]:
    """One message in parts form or chat form (``content``, ``tool_calls``, ``tool_call_id``).

    Tool responses inside a non-tool message become a tool message first.
    """
    d = m.obj()
    original = m["role"].str()
    role = _ROLE_ALIASES.get(original, original)
    meta: dict[str, Any] = {"original_role": original} if role != original else {}
    if role not in ("system", "user", "assistant", "tool"):
        raise m["role"].fail(f"unknown role {original!r}")
    parts: list[Part] = []
    results: list[ToolResult] = []
    omitted: list[str] = []
    if not m.has("parts") and d.get("content") not in (None, "", []):
        parts.append(Text(text=text_of(d["content"])))
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
    if not m.has("parts"):
        parts.extend(_chat_calls(m))
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
    if span.op == "execute_tool":
        return False
    return (
        _INPUT in span.attrs
        or _OUTPUT in span.attrs
        or (INFERENCE_OUTPUT in span.attrs and span.op in _INFERENCE_OPS)
        or (span.openinference and span.op == "chat" and _openinference_content(span))
        or any(n in _LEGACY or n == "gen_ai.choice" for n, _ in span.events)
    )


def _openinference_content(span: Span) -> bool:
    return any(openinference_messages(span, which) is not None for which in ("input", "output"))


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


def _span_nodes(span: Span) -> tuple[Node | None, Node | None]:
    """Where a content span keeps its input and output messages, by vocabulary."""
    if span.openinference:
        return openinference_messages(span, "input"), openinference_messages(span, "output")
    if _INPUT in span.attrs or _OUTPUT in span.attrs or INFERENCE_OUTPUT in span.attrs:
        return span.attrs.get(_INPUT), span.attrs.get(_OUTPUT) or output_messages(span)
    raw_in, raw_out = _legacy(span)
    in_node = Node(raw_in, f"{span.node.path}.events")
    return in_node, Node(raw_out, in_node.path)


def _has_inputs(span: Span) -> bool:
    node = _span_nodes(span)[0]
    return node is not None and node.value not in (None, "", [], "[]")


def _span_messages(span: Span, offset: int = 0) -> tuple[list[Message], list[Message]]:
    """A content span's (input with system instructions, output) messages.

    ``offset`` keeps the synthetic call ids of spans read one after another apart.
    """
    in_node, out_node = _span_nodes(span)
    inputs = _messages(in_node, offset)
    outputs = _messages(out_node, offset=offset + len(inputs))
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


class _Conversation(NamedTuple):
    messages: list[Message]
    produced: list[int | None]
    """Start time of the span whose output each message is (sequential merge), else None."""
    last: Span | None
    divergent: list[str]
    unread_inputs: list[dict[str, str]]
    """Spans whose input messages were not read (sequential merge), with why."""
    merge: str


def _nested_inference(spans: list[Span]) -> set[str]:
    """Inference spans inside another inference span: one call seen by two instrumentations."""
    inference = {s.span_id for s in spans if s.op in _INFERENCE_OPS and s.span_id}
    return {
        s.span_id
        for s in spans
        if s.span_id in inference and s.parent_id is not None and s.parent_id in inference
    }


def _conversation(spans: list[Span]) -> _Conversation:
    nested = _nested_inference(spans)
    content = [s for s in spans if _has_content(s) and s.span_id not in nested]
    chosen = [s for s in content if s.op not in _AGENT_OPS] or content
    if not chosen:
        return _Conversation([], [], None, [], [], "none")
    last = chosen[-1]
    if len(chosen) == 1:
        return _cumulative(chosen)
    if not _has_inputs(last):
        return _sequential(chosen, [])
    try:
        final = [_key(m) for m in _span_messages(last)[0]]
    except RecordError as e:
        lossy = {"span_id": last.span_id or last.name, "reason": f"{e.field}: {e.reason}"}
        return _sequential(chosen, [lossy])
    if _carries_history(chosen[:-1], final):
        return _cumulative(chosen)
    return _sequential(chosen, [])


def _carries_history(earlier: list[Span], final: list[tuple[Any, ...]]) -> bool:
    """Whether the last input repeats what an earlier span said (input and output)."""
    for s in earlier:
        try:
            inputs, outputs = _span_messages(s)
        except RecordError:
            continue  # this span cannot vouch either way; another may
        said = [_key(m) for m in inputs + outputs]
        if said and final[: len(said)] == said:
            return True
    return False


def _cumulative(chosen: list[Span]) -> _Conversation:
    """The last span's input and output; earlier spans are checked, not merged."""
    inputs, outputs = _span_messages(chosen[-1])
    messages = inputs + outputs
    final = [_key(m) for m in messages]
    produced: list[int | None] = [None] * len(inputs)
    produced += [chosen[-1].start] * len(outputs)
    divergent = []
    for s in chosen[:-1]:
        earlier_in, earlier_out = _span_messages(s)
        earlier = [_key(m) for m in earlier_in]
        if final[: len(earlier)] != earlier:
            divergent.append(s.span_id or s.name)
            continue
        # Where this span's output recurs in the final input, it was said at this span's time.
        said = earlier + [_key(m) for m in earlier_out]
        if final[: len(said)] == said:
            for i in range(len(earlier), len(said)):
                produced[i] = s.start
    return _Conversation(messages, produced, chosen[-1], divergent, [], "cumulative")


def _sequential(chosen: list[Span], unread: list[dict[str, str]]) -> _Conversation:
    """The first span's input, then every span's output in time order.

    For spans that record only their first input (or later inputs that cannot be read): a
    later input that continues the conversation adds its new messages; one that starts a
    different conversation (a sub-agent) leaves that span out, as divergent.
    """
    messages: list[Message] = []
    produced: list[int | None] = []
    divergent: list[str] = []
    first: list[tuple[Any, ...]] = []
    lossy = {u["span_id"] for u in unread}
    for i, s in enumerate(chosen):
        sid = s.span_id or s.name
        inputs: list[Message]
        outputs: list[Message]
        if sid in lossy:
            inputs, outputs = [], _messages(_span_nodes(s)[1], offset=len(messages))
        else:
            try:
                inputs, outputs = _span_messages(s, len(messages))
            except RecordError as e:
                if i == 0:
                    raise
                unread.append({"span_id": sid, "reason": f"{e.field}: {e.reason}"})
                inputs, outputs = [], _messages(_span_nodes(s)[1], offset=len(messages))
        keys = [_key(m) for m in inputs]
        if i == 0:
            first = keys
            messages.extend(inputs)
            produced.extend([None] * len(inputs))
        elif keys and [_key(m) for m in messages] == keys[: len(messages)]:
            extra = inputs[len(messages) :]
            messages.extend(extra)
            produced.extend([None] * len(extra))
        elif keys and keys[: len(first)] != first:
            divergent.append(sid)
            continue
        messages.extend(outputs)
        produced.extend([s.start] * len(outputs))
    return _Conversation(messages, produced, chosen[-1], divergent, unread, "sequential")


# --- execute_tool spans ------------------------------------------------------------------


class _ToolSpan(NamedTuple):
    span: Span
    call_id: str | None
    name: str
    error_type: str | None
    failed: bool

    def call(self, fallback_id: str) -> ToolCall:
        parsed = tool_call_arguments(self.span)
        return ToolCall(
            id=self.call_id or fallback_id,
            name=self.name,
            arguments=parsed.arguments,
            raw_arguments=parsed.raw,
            parse_error=parsed.error,
        )

    def result(self, call_id: str) -> ToolResult | None:
        """The recorded result; an empty one when the span records arguments but no result.

        A span that records its arguments had content capture on, so a missing result means
        the tool returned nothing (a write returning None); without arguments it is unknown.
        """
        value = tool_result(self.span)
        if value is None and not self.failed:
            if tool_arguments(self.span) is None:
                return None
            value = ""
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
    name = tool_name(span)
    if not name:
        raise span.node.fail("execute_tool span has no gen_ai.tool.name")
    error_type = span.str_attr("error.type")
    return _ToolSpan(
        span,
        tool_call_id(span),
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


def _match_tool_spans(
    conv: _Conversation, tools: list[_ToolSpan]
) -> tuple[dict[int, str], dict[str, str]]:
    """Which call each tool span executed: by call id, else by tool name and time.

    A tool span without a known id answers the most recent unanswered call to its tool made
    before it started (the first such call when the calling span's time is unknown). When
    that span records an id the call lacks, the call takes it (``renames``: old -> new).
    """
    calls = [(i, c) for i, m in enumerate(conv.messages) for c in m.tool_calls]
    ids = {c.id for _, c in calls}
    matched: dict[int, str] = {}
    claimed: set[str] = set()
    for k, t in enumerate(tools):
        if t.call_id in ids and t.call_id not in claimed:
            matched[k] = t.call_id
            claimed.add(t.call_id)
    renames: dict[str, str] = {}
    for k, t in enumerate(tools):
        if k in matched:
            continue
        open_calls = [
            (conv.produced[i], c)
            for i, c in calls
            if c.name == t.name and c.id not in claimed and _before(conv.produced[i], t.span.start)
        ]
        if not open_calls:
            continue
        latest = max((p for p, _ in open_calls if p is not None), default=None)
        call = next(c for p, c in open_calls if p == latest)
        claimed.add(call.id)
        matched[k] = call.id
        if t.call_id is not None and t.call_id not in ids:
            renames[call.id] = t.call_id
            ids.add(t.call_id)
    return matched, renames


def _ran_after(conv: _Conversation, t: _ToolSpan) -> int | None:
    """The message a call-less tool span ran after, when span times tell (sequential merge)."""
    start = t.span.start
    if start is None:
        return None
    before = [i for i, p in enumerate(conv.produced) if p is not None and p <= start]
    return before[-1] if before else None


def _call_from_tool_span(t: _ToolSpan, fallback_id: str) -> list[Message]:
    """A tool span with no call id and no call (asked for in text, say a ReAct prompt).

    It did run, so its call and result go where it ran, marked as coming from the span.
    """
    call = t.call(t.call_id or t.span.span_id or fallback_id)
    messages = [Message(role="assistant", parts=[call], metadata={"from_tool_span": True})]
    result = t.result(call.id)
    if result is not None:
        messages.append(Message(role="tool", parts=[result]))
    return messages


def _before(produced: int | None, start: int | None) -> bool:
    """Whether a call made at ``produced`` can be the one a span started at ``start`` ran."""
    return produced is None or start is None or produced <= start


def _renamed(m: Message, renames: dict[str, str]) -> Message:
    def fix(p: Part) -> Part:
        if isinstance(p, ToolCall) and p.id in renames:
            return p.model_copy(update={"id": renames[p.id]})
        if isinstance(p, ToolResult) and p.call_id in renames:
            return p.model_copy(update={"call_id": renames[p.call_id]})
        return p

    if not renames:
        return m
    parts = [fix(p) for p in m.parts]
    return m if parts == m.parts else m.model_copy(update={"parts": parts})


def _executed_arguments(m: Message, executed: dict[str, Any]) -> Message:
    """Note on the calling message the arguments a tool span ran with, where they differ."""
    differing = {
        c.id: executed[c.id]
        for c in m.tool_calls
        if c.id in executed and executed[c.id] != c.arguments
    }
    if not differing:
        return m
    return m.model_copy(update={"metadata": {**m.metadata, "executed_arguments": differing}})


def _apply_tool_spans(
    conv: _Conversation, spans: list[Span]
) -> tuple[list[Message], list[dict[str, Any]]]:
    if not conv.messages:
        return _from_tool_spans(spans), []
    tools = [_tool_span(s) for s in spans if s.op == "execute_tool"]
    matched, renames = _match_tool_spans(conv, tools)
    messages = [_renamed(m, renames) for m in conv.messages]
    call_at = {c.id: i for i, m in enumerate(messages) for c in m.tool_calls}
    answered = {r.call_id for m in messages for r in m.tool_results}
    additions: dict[int, list[Message]] = defaultdict(list)
    unmatched: list[dict[str, Any]] = []
    failed: dict[str, _ToolSpan] = {}
    executed: dict[str, Any] = {}
    for k, t in enumerate(tools):
        if k not in matched:
            # With a call id the conversation lacks, the call was made outside it (a
            # sub-agent); without one, it can only have been asked for in text.
            where = _ran_after(conv, t) if t.call_id is None else None
            if where is None:
                unmatched.append({"span_id": t.span.span_id, "name": t.name, "call_id": t.call_id})
            else:
                additions[where].extend(_call_from_tool_span(t, f"tool-span-{k}"))
            continue
        call_id = renames.get(matched[k], matched[k])
        if t.failed:
            failed[call_id] = t
        ran_with = tool_call_arguments(t.span).arguments
        if ran_with is not None:
            executed[call_id] = ran_with
        result = None if call_id in answered else t.result(call_id)
        if result is not None:
            additions[call_at[call_id]].append(Message(role="tool", parts=[result]))
            answered.add(call_id)
    out: list[Message] = []
    pending: list[Message] = []
    for i, m in enumerate(messages):
        if m.role != "tool":
            out.extend(pending)
            pending = []
        out.append(_executed_arguments(_mark_failed(m, failed), executed))
        pending.extend(additions.get(i, []))
    return out + pending, unmatched


# --- the importer ------------------------------------------------------------------------


def _definitions(s: Span) -> list[Node]:
    found = (
        list(_json(s.attrs["gen_ai.tool.definitions"]).items())
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
    nested = _nested_inference(spans)
    inference = [s for s in spans if s.op in _INFERENCE_OPS and s.span_id not in nested]
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


def _unique(spans: list[Span]) -> tuple[list[Span], list[str]]:
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
    return out, repeats


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
        conv = _conversation(indexed)
        messages, unmatched = _apply_tool_spans(conv, indexed)
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
