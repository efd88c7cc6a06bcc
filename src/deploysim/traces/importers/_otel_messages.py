"""Reading one span's messages, in every vocabulary otel.py accepts (see its docstring)."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from deploysim.traces._model import (
    Message,
    Part,
    Reasoning,
    Text,
    ToolCall,
    ToolResult,
)
from deploysim.traces._nesting import loads, nesting_error
from deploysim.traces._reader import Node, RecordError, text_of
from deploysim.traces.importers._otel_spans import Span
from deploysim.traces.importers._otel_vocab import (
    INFERENCE_OUTPUT,
    decode_arguments,
    openinference_messages,
    output_messages,
)

INPUT_MESSAGES, OUTPUT_MESSAGES = "gen_ai.input.messages", "gen_ai.output.messages"
_LEGACY = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
AGENT_OPS = frozenset({"invoke_agent", "create_agent", "invoke_workflow"})
# call_llm: the inference operation of GenAI dialects older than the conventions (any-agent).
INFERENCE_OPS = frozenset({"chat", "generate_content", "text_completion", "call_llm"})
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


def json_node(node: Node) -> Node:
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
    parsed = decode_arguments(raw, field)
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
        parsed = decode_arguments(fn.get("arguments").value, fn.get("arguments").path)
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


def messages_of(node: Node | None, offset: int = 0) -> list[Message]:
    """Messages of a JSON list; ``offset`` keeps synthetic call ids of outputs apart."""
    if node is None:
        return []
    out: list[Message] = []
    for m in json_node(node).items():
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
        for c in json_node(fields["tool_calls"]).items():
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
            msg = json_node(fields["message"])
            outputs.append(_legacy_message("assistant", {k: msg.get(k) for k in msg.obj()}))
    return inputs, outputs


def has_content(span: Span) -> bool:
    if span.op == "execute_tool":
        return False
    return (
        INPUT_MESSAGES in span.attrs
        or OUTPUT_MESSAGES in span.attrs
        or (INFERENCE_OUTPUT in span.attrs and span.op in INFERENCE_OPS)
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
            for p in json_node(node).arr()
        ]
    )
    return [Message(role="system", parts=[Text(text=text)])]


class SpanNodes(NamedTuple):
    """Where a span keeps its input and its output messages (None: not recorded)."""

    inputs: Node | None
    outputs: Node | None


class SpanMessages(NamedTuple):
    """A span's input (with system instructions) and output messages."""

    inputs: list[Message]
    outputs: list[Message]


def span_nodes(span: Span) -> SpanNodes:
    """Where a content span keeps its input and output messages, by vocabulary."""
    if span.openinference:
        return SpanNodes(
            openinference_messages(span, "input"), openinference_messages(span, "output")
        )
    attrs = span.attrs
    if INPUT_MESSAGES in attrs or OUTPUT_MESSAGES in attrs or INFERENCE_OUTPUT in attrs:
        return SpanNodes(
            attrs.get(INPUT_MESSAGES), attrs.get(OUTPUT_MESSAGES) or output_messages(span)
        )
    raw_in, raw_out = _legacy(span)
    in_node = Node(raw_in, f"{span.node.path}.events")
    return SpanNodes(in_node, Node(raw_out, in_node.path))


def has_inputs(span: Span) -> bool:
    node = span_nodes(span)[0]
    return node is not None and node.value not in (None, "", [], "[]")


def span_messages(span: Span, offset: int = 0) -> SpanMessages:
    """A content span's (input with system instructions, output) messages.

    ``offset`` keeps the synthetic call ids of spans read one after another apart.
    """
    in_node, out_node = span_nodes(span)
    inputs = messages_of(in_node, offset)
    outputs = messages_of(out_node, offset=offset + len(inputs))
    if not inputs or inputs[0].role != "system":
        inputs = _system(span) + inputs
    return SpanMessages(inputs, outputs)
