"""OpenAI Chat Completions: ``messages`` with ``tool_calls`` and ``role: tool``, plus ``tools``.

A record is a logged request (``{"messages": [...], "tools": [...]}``, optionally with the
``response`` it got, or ``{"request": ..., "response": ...}``) or a bare list of messages.
Other importers whose messages are in this shape (tau-bench, SWE-agent) reuse
:func:`chat_messages`.
"""

from __future__ import annotations

from typing import Any

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
from deploysim.traces._reader import Node, parse_arguments, text_of
from deploysim.traces._registry import ImportContext, Importer, importer
from deploysim.traces._toolspecs import toolspec_from_definition

__all__ = ["OpenAIChatImporter", "chat_message", "chat_messages", "chat_tools"]

_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}


def _is_chat_message(value: Any) -> bool:
    return (
        isinstance(value, dict) and isinstance(value.get("role"), str) and value["role"] in _ROLES
    )


def _is_request(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    request = value.get("request")
    body: dict[str, Any] = request if isinstance(request, dict) else value
    msgs = body.get("messages")
    return (
        isinstance(msgs, list)
        and bool(msgs)
        and all(_is_chat_message(m) for m in msgs)
        and not any(isinstance(m.get("parts"), list) for m in msgs)
        and not any(
            isinstance(m.get("content"), list)
            and any(
                isinstance(b, dict) and b.get("type") in ("tool_use", "tool_result")
                for b in m["content"]
            )
            for m in msgs
        )
    )


def _tool_call(node: Node, requestor: str = "assistant") -> ToolCall:
    d = node.obj()
    call_id = node["id"].id()
    if d.get("type") == "custom" or isinstance(d.get("custom"), dict):
        custom = node["custom"]
        text = custom.get("input", "").str()
        return ToolCall(
            id=call_id, name=custom["name"].str(), arguments={"input": text}, raw_arguments=text
        )
    fn = node["function"]
    parsed = parse_arguments(fn.obj().get("arguments"), fn.get("arguments").path)
    return ToolCall(
        id=call_id,
        name=fn["name"].str(),
        arguments=parsed.arguments,
        raw_arguments=parsed.raw,
        parse_error=parsed.error,
        requestor="user" if requestor == "user" else "assistant",
    )


def chat_message(node: Node, index: int, pending_functions: list[ToolCall]) -> Message:
    """Convert one chat message; ``pending_functions`` pairs legacy function calls/results."""
    d = node.obj()
    role = node["role"].str()
    name = d.get("name") if isinstance(d.get("name"), str) else None
    msg_id = d.get("id") if isinstance(d.get("id"), str) else None
    parts: list[Part] = []
    if role in ("tool", "function"):
        if role == "tool":
            call_id = node["tool_call_id"].id()
        else:
            match = next((c for c in pending_functions if c.name == name), None)
            call_id = match.id if match else f"function_{index}"
            if match:
                pending_functions.remove(match)
        content = d.get("content")
        parts.append(
            ToolResult(
                call_id=call_id,
                output=text_of(content),
                structured=content if not isinstance(content, str | None) else None,
                name=name,
            )
        )
        return Message(role="tool", parts=parts, id=msg_id)
    for key in ("reasoning_content", "reasoning"):
        if isinstance(d.get(key), str) and d[key]:
            parts.append(Reasoning(text=d[key]))
    text = text_of(d.get("content"))
    if text:
        parts.append(Text(text=text))
    if isinstance(d.get("refusal"), str) and d["refusal"]:
        parts.append(Text(text=d["refusal"]))
    for call_node in node.get("tool_calls", []).items():
        parts.append(_tool_call(call_node))
    if isinstance(d.get("function_call"), dict):
        fc = node["function_call"]
        parsed = parse_arguments(fc.obj().get("arguments"), fc.get("arguments").path)
        call = ToolCall(
            id=f"function_{index}",
            name=fc["name"].str(),
            arguments=parsed.arguments,
            raw_arguments=parsed.raw,
            parse_error=parsed.error,
        )
        pending_functions.append(call)
        parts.append(call)
    metadata = {"original_role": "developer"} if role == "developer" else {}
    out_role = "system" if role == "developer" else role
    if out_role not in ("system", "user", "assistant"):
        raise node["role"].fail(f"unknown role {role!r}")
    return Message(role=out_role, parts=parts, id=msg_id, name=name, metadata=metadata)


def chat_messages(node: Node) -> list[Message]:
    """Convert a list of chat messages."""
    pending: list[ToolCall] = []
    return [chat_message(m, i, pending) for i, m in enumerate(node.items())]


def chat_tools(node: Node) -> list[ToolSpec]:
    """Read the request's ``tools`` (or legacy ``functions``)."""
    specs: list[ToolSpec] = []
    for t in node.items():
        specs.append(toolspec_from_definition(t.value, t.path))
    return specs


@importer
class OpenAIChatImporter(Importer):
    """OpenAI Chat Completions requests (messages + tools), or bare message lists."""

    name = "openai-chat"
    description = "OpenAI Chat Completions messages and request tools"
    priority = 90

    def sniff(self, doc: Document) -> bool:
        """A request dict, a list/lines of request dicts, or a bare list of chat messages."""
        if doc.kind not in ("json", "jsonl"):
            return False
        if (
            doc.kind == "json"
            and isinstance(doc.data, list)
            and doc.data
            and all(_is_chat_message(m) for m in doc.data)
        ):
            return _is_request({"messages": doc.data})
        return _is_request(doc.first())

    def is_conversation(self, data: Any) -> bool:
        """A bare list of messages is one trace."""
        return isinstance(data, list) and bool(data) and all(_is_chat_message(m) for m in data)

    def convert(self, record: Node, ctx: ImportContext) -> Trace:
        """Messages, tools, and the response's message when one was logged."""
        if isinstance(record.value, list):
            return Trace(
                id=ctx.trace_id(),
                source=ctx.source(),
                messages=chat_messages(record),
                raw=record.value,
            )
        body = record["request"] if record.has("request") else record
        messages = chat_messages(body["messages"])
        response = record.get("response")
        if isinstance(response.value, dict) and response.has("choices"):
            choice = response["choices"].arr()
            if choice:
                first = Node(choice[0], f"{response.path}.choices[0]")
                messages.append(chat_message(first["message"], len(messages), []))
        tools = chat_tools(body.get("tools", [])) + chat_tools(body.get("functions", []))
        metadata = {
            k: body.obj()[k]
            for k in ("model", "tool_choice", "parallel_tool_calls")
            if k in body.obj()
        }
        natural = record.obj().get("id") or (
            response.obj().get("id") if isinstance(response.value, dict) else None
        )
        return Trace(
            id=ctx.trace_id(natural),
            source=ctx.source(),
            metadata=metadata,
            tools=tools,
            messages=messages,
            raw=record.value,
        )
