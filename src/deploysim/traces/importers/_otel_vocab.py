"""Attribute vocabularies beside the GenAI conventions, read into the shapes otel.py parses.

Instrumentations put the same facts under different names on the same OTLP transport, so the
importer keys on attribute names, never on who wrote the file:

- **OpenInference** (Arize Phoenix and its instrumentors): ``openinference.span.kind``
  (LLM / TOOL / AGENT / CHAIN), messages flattened into ``llm.input_messages.<i>.message.
  {role, content, name, tool_call_id, contents.<k>.message_content.{type, text},
  tool_calls.<j>.tool_call.{id, function.name, function.arguments}}`` (and
  ``llm.output_messages``), tool definitions in ``llm.tools.<i>.tool.json_schema``, tool
  spans with ``tool.name``, ``tool_call.id``, ``tool.parameters`` / ``tool.json_schema``,
  and arguments and result in ``input.value`` / ``output.value``.
- **GenAI dialects written before the conventions settled** (mozilla-ai any-agent and
  others): ``call_llm`` as the inference operation, the model's answer in ``gen_ai.output``
  (text, or, when ``gen_ai.output.type`` is ``json``, a list of ``{"tool.name",
  "tool.args"}`` calls), tool arguments in ``gen_ai.tool.args`` and the tool's result in
  ``gen_ai.output`` of the ``execute_tool`` span.

Messages come back as chat-form dicts (``role``, ``content``, ``tool_calls``) or GenAI
parts-form dicts, inside a :class:`Node` pointing at the attribute, so errors name it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from deploysim.traces._nesting import loads, nesting_error
from deploysim.traces._reader import Node, ParsedArguments, parse_arguments
from deploysim.traces.importers._otel_spans import Span

__all__ = [
    "INFERENCE_OUTPUT",
    "decode_arguments",
    "openinference_messages",
    "openinference_tool_schemas",
    "output_messages",
    "tool_arguments",
    "tool_call_arguments",
    "tool_call_id",
    "tool_name",
    "tool_result",
]

INFERENCE_OUTPUT = "gen_ai.output"
_FLAT = re.compile(r"^(?P<index>\d+)\.message\.(?P<rest>.+)$")
_FLAT_CALL = re.compile(r"^tool_calls\.(?P<index>\d+)\.tool_call\.(?P<rest>.+)$")
_FLAT_CONTENT = re.compile(r"^contents\.(?P<index>\d+)\.message_content\.(?P<rest>.+)$")


def _sparse(items: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """Indexed entries in index order; instrumentations skip indices, so gaps are closed."""
    return [items[i] for i in sorted(items)]


def _set(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for p in parents:
        target = target.setdefault(p, {})
    target[last] = value


# LangChain's serialized message classes, by the role they stand for.
_LC_ROLES = {
    "SystemMessage": "system",
    "HumanMessage": "user",
    "AIMessage": "assistant",
    "AIMessageChunk": "assistant",
    "ToolMessage": "tool",
    "FunctionMessage": "function",
}


def _lc_message(value: Any) -> Any:
    """A LangChain-serialized message as a chat-form message; any other value unchanged.

    The serialization is ``{"lc": 1, "type": "constructor", "id": [..., "AIMessage"],
    "kwargs": {"content", "tool_calls", "tool_call_id"}}``.
    """
    if not (
        isinstance(value, dict) and value.get("lc") == 1 and isinstance(value.get("kwargs"), dict)
    ):
        return value
    ids = value.get("id")
    kind = ids[-1] if isinstance(ids, list) and ids else None
    kwargs: dict[str, Any] = value["kwargs"]
    role = _LC_ROLES.get(kind) if isinstance(kind, str) else None
    if kind == "ChatMessage":
        role = kwargs.get("role")
    if not isinstance(role, str):
        return value
    message: dict[str, Any] = {"role": role, "content": kwargs.get("content")}
    calls = kwargs.get("tool_calls")
    if isinstance(calls, list) and calls:
        message["tool_calls"] = [
            {"id": c.get("id"), "function": {"name": c.get("name"), "arguments": c.get("args")}}
            if isinstance(c, dict) and "args" in c
            else c
            for c in calls
        ]
    for key in ("tool_call_id", "name"):
        if isinstance(kwargs.get(key), str):
            message[key] = kwargs[key]
    return message


def _chat_list(value: Any) -> list[dict[str, Any]] | None:
    """Chat messages inside an ``input.value`` / ``output.value`` payload, when it holds some.

    The payload is what the instrumented function got or returned: a message, a list of
    messages (also LangChain-serialized), ``{"messages": [...]}`` (a batch: its first list),
    call arguments whose first one is the list, or LangChain's ``{"generations": [[...]]}``.
    """
    value = _lc_message(_decoded(value))
    if isinstance(value, dict) and isinstance(value.get("role"), str):
        return [value]
    if isinstance(value, dict):
        generations = value.get("generations")
        if isinstance(generations, list) and generations and isinstance(generations[0], list):
            return _chat_list([g.get("message") for g in generations[0] if isinstance(g, dict)])
        for key in ("messages", "args"):
            inner = value.get(key)
            if isinstance(inner, list) and inner and isinstance(inner[0], list):
                inner = inner[0]
            if isinstance(inner, list):
                return _chat_list(inner)
        return None
    if isinstance(value, list) and value:
        messages = [_lc_message(m) for m in value]
        if all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in messages):
            return messages
    return None


def openinference_messages(span: Span, which: str) -> Node | None:
    """An OpenInference span's input or output messages, as chat-form messages.

    The ``input.value`` / ``output.value`` payload when it holds chat messages (it keeps
    tool-call arguments that the flattened attributes of some instrumentors drop), else the
    flattened ``llm.input_messages`` / ``llm.output_messages``.
    """
    payload = span.attrs.get(f"{which}.value")
    messages = _chat_list(payload.value) if payload is not None else None
    if payload is not None and messages is not None:
        return Node(messages, payload.path)
    return _flattened_messages(span, which)


def _flattened_messages(span: Span, which: str) -> Node | None:
    prefix = f"llm.{which}_messages."
    messages: dict[int, dict[str, Any]] = {}
    calls: dict[int, dict[int, dict[str, Any]]] = {}
    contents: dict[int, dict[int, dict[str, Any]]] = {}
    for key, node in span.attrs.items():
        if not key.startswith(prefix):
            continue
        m = _FLAT.match(key[len(prefix) :])
        if m is None:
            continue
        i, rest = int(m["index"]), m["rest"]
        message = messages.setdefault(i, {})
        if (c := _FLAT_CALL.match(rest)) is not None:
            _set(calls.setdefault(i, {}).setdefault(int(c["index"]), {}), c["rest"], node.value)
        elif (c := _FLAT_CONTENT.match(rest)) is not None:
            _set(contents.setdefault(i, {}).setdefault(int(c["index"]), {}), c["rest"], node.value)
        else:
            message[rest] = node.value
    if not messages:
        return None
    for i, message in messages.items():
        if i in calls:
            message["tool_calls"] = _sparse(calls[i])
        if i in contents and "content" not in message:
            message["content"] = _sparse(contents[i])
        message.setdefault("role", "user" if which == "input" else "assistant")
    return Node(_sparse(messages), f"{span.node.path}.attributes.llm.{which}_messages")


def _decoded(value: Any) -> Any:
    """A JSON string decoded, else the value; any-agent writes its lists as JSON strings."""
    if isinstance(value, str):
        try:
            decoded = loads(value)
        except json.JSONDecodeError:
            return value  # not JSON: the text is the value
        # Too deep to walk safely: keep the text, as for anything that does not decode.
        return value if nesting_error(decoded) else decoded
    return value


def output_messages(span: Span) -> Node | None:
    """``gen_ai.output`` of an inference span as one assistant message in parts form.

    Tool calls (a JSON list of ``{"tool.name", "tool.args"}``) become ``tool_call`` parts;
    anything else is the model's text, verbatim.
    """
    node = span.attrs.get(INFERENCE_OUTPUT)
    if node is None:
        return None
    value = node.value
    decoded = _decoded(value) if span.str_attr("gen_ai.output.type") == "json" else None
    parts: list[dict[str, Any]]
    if (
        isinstance(decoded, list)
        and decoded
        and all(isinstance(c, dict) and "tool.name" in c for c in decoded)
    ):
        parts = [
            {
                "type": "tool_call",
                "id": c.get("tool.call.id") or c.get("tool.id"),
                "name": c["tool.name"],
                "arguments": c.get("tool.args"),
            }
            for c in decoded
        ]
    else:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        parts = [{"type": "text", "content": text}]
    return Node([{"role": "assistant", "parts": parts}], node.path)


def openinference_tool_schemas(span: Span) -> list[Node]:
    """Tool definitions an OpenInference span carries (``llm.tools`` or a TOOL span's own)."""
    out = [
        node
        for key, node in sorted(span.attrs.items())
        if re.fullmatch(r"llm\.tools\.\d+\.tool\.json_schema", key)
    ]
    schema = span.attrs.get("tool.json_schema") or span.attrs.get("tool.parameters")
    name = span.str_attr("tool.name")
    if schema is not None and name:
        definition = {
            "name": name,
            "description": span.str_attr("tool.description") or "",
            "parameters": _schema(_decoded(schema.value)),
        }
        out.append(Node(definition, schema.path))
    return [Node(_decoded(n.value), n.path) for n in out]


def _schema(params: Any) -> Any:
    """A TOOL span's parameters as a JSON Schema.

    Instrumentors write a whole schema, ``{"parameters": schema}``, or only the map of
    properties (smolagents); the last is wrapped into an object schema.
    """
    if not isinstance(params, dict):
        return params
    if isinstance(params.get("parameters"), dict):
        return params["parameters"]
    if (
        params
        and not {"type", "properties", "$schema", "anyOf", "oneOf"} & set(params)
        and all(isinstance(v, dict) for v in params.values())
    ):
        return {"type": "object", "properties": params}
    return params


def tool_name(span: Span) -> str | None:
    """The tool an execute_tool / TOOL span ran."""
    return (
        span.str_attr("gen_ai.tool.name")
        or span.str_attr("tool.name")
        or span.name.removeprefix("execute_tool").strip()
        or None
    )


def tool_call_id(span: Span) -> str | None:
    """The call id a tool span records, when it records one."""
    return span.str_attr("gen_ai.tool.call.id") or span.str_attr("tool_call.id")


def decode_arguments(value: Any, field: str = "arguments") -> ParsedArguments:
    """Parse arguments, unwrapping one level of JSON-in-a-JSON-string (double encoding).

    Some instrumentations ``json.dumps`` an argument string that already was JSON; the
    object inside is what the tool got, and the recorded string is kept as ``raw``.
    """
    parsed = parse_arguments(value, field)
    if parsed.arguments is None and isinstance(value, str):
        inner = _decoded(value)
        if isinstance(inner, str):
            again = parse_arguments(inner, field)
            if again.arguments is not None:
                return ParsedArguments(again.arguments, value, None)
    return parsed


def tool_call_arguments(span: Span) -> ParsedArguments:
    """A tool span's arguments, parsed.

    OpenInference records a Python tool's bound call (``{"args": [], "kwargs": {...}}``,
    smolagents adds its own flags): the keyword arguments are what the tool was called with,
    and the recorded string stays in ``raw``.
    """
    raw = tool_arguments(span)
    parsed = decode_arguments(raw)
    args = parsed.arguments
    if (
        span.openinference
        and isinstance(args, dict)
        and isinstance(args.get("kwargs"), dict)
        and not args.get("args")
    ):
        return ParsedArguments(args["kwargs"], raw if isinstance(raw, str) else parsed.raw, None)
    return parsed


def tool_arguments(span: Span) -> Any:
    """The raw arguments a tool span records (GenAI, the older ``tool.args``, OpenInference)."""
    for key in ("gen_ai.tool.call.arguments", "gen_ai.tool.args"):
        if key in span.attrs:
            return span.attr(key)
    return span.attr("input.value") if span.openinference else None


def tool_result(span: Span) -> Any:
    """The raw result a tool span records, or None."""
    for key in ("gen_ai.tool.call.result", INFERENCE_OUTPUT):
        if key in span.attrs:
            return span.attr(key)
    return span.attr("output.value") if span.openinference else None
