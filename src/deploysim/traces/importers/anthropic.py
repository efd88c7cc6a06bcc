"""Anthropic Messages API: ``tool_use`` / ``tool_result`` content blocks, top-level ``system``.

A record is a logged request (``{"model", "system"?, "messages", "tools"?}``), optionally with
the ``response`` Message it got, which becomes the final assistant turn; or
``{"request": ..., "response": ...}``; or a bare list of messages. A user turn holding
``tool_result`` blocks is split, in order, into a ``tool`` message and a user message with the
remaining blocks. Server tools (``server_tool_use`` and the ``*_tool_result`` blocks that
follow it in the assistant turn) are ``executed_by="server"``; their results go into a
``tool`` message between the assistant parts, where the model saw them. Anthropic-defined
client tools (bash, text editor, memory, computer) carry no schema in the request, so they
get the shipped ones. Blocks of unknown types are kept in the message's ``other_blocks``.
"""

from __future__ import annotations

from typing import Any, Literal

from deploysim._errors import ToolSchemaError
from deploysim.traces._builtin_tools import builtin_tool
from deploysim.traces._documents import Document
from deploysim.traces._model import (
    Message,
    Part,
    Reasoning,
    Role,
    Text,
    ToolCall,
    ToolResult,
    ToolSpec,
    Trace,
)
from deploysim.traces._reader import Node, parse_arguments, text_of
from deploysim.traces._registry import ImportContext, Importer, importer
from deploysim.traces._toolspecs import toolspec_from_definition

__all__ = ["AnthropicImporter", "anthropic_messages", "anthropic_turn"]

_MARKER_BLOCKS = frozenset(
    {
        "tool_use",
        "tool_result",
        "thinking",
        "redacted_thinking",
        "server_tool_use",
        "web_search_tool_result",
        "mcp_tool_use",
        "mcp_tool_result",
    }
)
# Client tools the provider defines, by the name a call uses when the request is not logged.
_BUILTIN_BY_NAME = {
    "bash": "bash_20250124",
    "str_replace_editor": "text_editor_20250124",
    "str_replace_based_edit_tool": "text_editor_20250728",
    "memory": "memory_20250818",
    "computer": "computer_20250124",
}
_META_KEYS = ("model", "tool_choice", "thinking")
_RESPONSE_META_KEYS = ("stop_reason", "stop_sequence", "usage")


def _blocks(message: Any) -> list[Any]:
    content = message.get("content") if isinstance(message, dict) else None
    return content if isinstance(content, list) else []


def _is_message(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and value.get("role") in ("user", "assistant")
        and isinstance(value.get("content"), str | list)
        and all(isinstance(b, dict) and "type" in b for b in _blocks(value))
    )


def _has_marker_blocks(messages: list[Any]) -> bool:
    return any(
        isinstance(b.get("type"), str) and b["type"] in _MARKER_BLOCKS
        for m in messages
        for b in _blocks(m)
    )


def _is_message_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(_is_message(m) for m in value)
        and _has_marker_blocks(value)
    )


def _is_record(value: Any) -> bool:
    """A request whose messages are Anthropic-shaped and which shows an Anthropic marker."""
    if _is_message_list(value):
        return True
    if not isinstance(value, dict):
        return False
    body = value["request"] if isinstance(value.get("request"), dict) else value
    messages, tools, response = body.get("messages"), body.get("tools"), value.get("response")
    if not (isinstance(messages, list) and messages and all(_is_message(m) for m in messages)):
        return False
    tools = tools if isinstance(tools, list) else []
    return (
        isinstance(body.get("system"), str | list)
        or _has_marker_blocks(messages)
        or any(isinstance(t, dict) and ("input_schema" in t or _is_typed_tool(t)) for t in tools)
        or (isinstance(response, dict) and "stop_reason" in response)
    )


def _is_typed_tool(tool: dict[str, Any]) -> bool:
    kind = tool.get("type")
    return isinstance(kind, str) and kind[-8:].isdigit()  # versioned: bash_20250124


def _placeholder(block: Node) -> str:
    d = block.obj()
    label = d.get("title") or d.get("file_id")
    return f"[{d['type']}: {label}]" if isinstance(label, str) else f"[{d['type']}]"


def _block_text(block: Node) -> str:
    """A content block as text: text verbatim, search results with their text, others named."""
    kind = block["type"].str()
    if kind == "text":
        return block["text"].str()
    if kind == "search_result":
        return f"{_placeholder(block)}\n{_content_text(block['content'])}"
    return _placeholder(block)


def _content_text(content: Node) -> str:
    """Result content (a string or a list of blocks) as text."""
    if not isinstance(content.value, list):
        return text_of(content.value)
    return "\n".join(_block_text(block) for block in content.items())


def _server_result(block: Node) -> ToolResult:
    """A ``*_tool_result`` block: an error object, or results whose shape depends on the tool."""
    content = block["content"]
    value = content.value
    call_id = block["tool_use_id"].id()
    if isinstance(value, dict) and str(value.get("type", "")).endswith("_error"):
        code = value.get("error_code")
        return ToolResult(
            call_id=call_id,
            output=f"error: {code}",
            is_error=True,
            error_type=code if isinstance(code, str) else None,
            structured=value,
        )
    if isinstance(value, dict) and ("stdout" in value or "stderr" in value):
        text = "\n".join(s for s in (value.get("stdout"), value.get("stderr")) if s)
        return ToolResult(
            call_id=call_id,
            output=text,
            structured=value,
            is_error=value.get("return_code") not in (0, None),
        )
    if isinstance(value, list) and all(isinstance(r, dict) and "url" in r for r in value):
        text = "\n".join(f"{r.get('title', '')} <{r['url']}>" for r in value)
        return ToolResult(call_id=call_id, output=text, structured=value)
    return ToolResult(
        call_id=call_id,
        output=_content_text(content),
        structured=value,
        is_error=block.obj().get("is_error") is True,
    )


def _call(block: Node, executed_by: Literal["client", "server"]) -> ToolCall:
    parsed = parse_arguments(block.get("input").value, block.get("input").path)
    return ToolCall(
        id=block["id"].id(),
        name=block["name"].str(),
        arguments=parsed.arguments,
        raw_arguments=parsed.raw,
        parse_error=parsed.error,
        executed_by=executed_by,
    )


def _part(block: Node) -> Part | None:
    """One content block as a part; None for blocks of unknown type."""
    kind = block["type"].str()
    if kind == "text":
        return Text(text=block["text"].str())
    if kind == "thinking":
        return Reasoning(text=block["thinking"].str(), opaque=block.opt_str("signature"))
    if kind == "redacted_thinking":
        return Reasoning(opaque=block["data"].str(), redacted=True)
    if kind == "tool_use":
        return _call(block, "client")
    if kind in ("server_tool_use", "mcp_tool_use"):
        return _call(block, "server")
    if kind == "tool_result":
        content = block.get("content", "")
        return ToolResult(
            call_id=block["tool_use_id"].id(),
            output=_content_text(content),
            is_error=block.obj().get("is_error") is True,
            structured=content.value if isinstance(content.value, list) else None,
        )
    if kind.endswith("_tool_result"):
        return _server_result(block)
    if kind in ("image", "document", "container_upload", "search_result"):
        return Text(text=_block_text(block))
    return None


def _turn(node: Node, message_id: str | None = None) -> list[Message]:
    """One API message; split where results (tool or server) alternate with other blocks."""
    given = node["role"].str()
    if given not in ("user", "assistant"):
        raise node["role"].fail(f"expected role user or assistant, got {given!r}")
    role: Role = "user" if given == "user" else "assistant"
    content = node["content"]
    if isinstance(content.value, str):
        return [Message(role=role, parts=[Text(text=content.value)], id=message_id)]
    segments: list[tuple[Role, list[Part], list[Any]]] = []  # role, parts, unknown blocks
    for block in content.items():
        part = _part(block)
        target: Role = "tool" if isinstance(part, ToolResult) else role
        if not segments or segments[-1][0] != target:
            segments.append((target, [], []))
        if part is None:
            segments[-1][2].append(block.value)
        else:
            segments[-1][1].append(part)
    return [
        Message(
            role=target,
            parts=parts,
            id=message_id if i == 0 else None,
            metadata={"other_blocks": other} if other else {},
        )
        for i, (target, parts, other) in enumerate(segments)
    ]


def anthropic_turn(node: Node, message_id: str | None = None) -> list[Message]:
    """Convert one Anthropic API message; a user turn with results becomes tool + user messages.

    Logs that store one API message per record (Claude Code sessions) convert with this.
    """
    return _turn(node, message_id)


def anthropic_messages(node: Node) -> list[Message]:
    """Convert a list of Anthropic API messages."""
    return [m for turn in node.items() for m in _turn(turn)]


def _system(node: Node) -> list[Message]:
    if node.value is None:
        return []
    if isinstance(node.value, str):
        return [Message(role="system", parts=[Text(text=node.value)])]
    return [Message(role="system", parts=[Text(text=b["text"].str()) for b in node.items()])]


def _tool(node: Node) -> ToolSpec:
    d = node.obj()
    kind = d.get("type")
    try:
        if kind in (None, "custom") or "input_schema" in d:
            # Drop "type": the shared reader takes {"type": "custom"} for OpenAI free-text tools.
            return toolspec_from_definition({k: v for k, v in d.items() if k != "type"}, node.path)
    except ToolSchemaError as e:
        raise node.fail(str(e)) from e
    spec = builtin_tool(node["type"].str(), node.opt_str("name"))
    if spec is not None:
        return spec
    # A server tool (web_search_20250305, code_execution_...): the provider runs it.
    return ToolSpec(
        name=node.opt_str("name") or kind,
        description=f"Anthropic server tool {kind}.",
        kind="provider-builtin",
        effect="unknown",
        provider_type=kind,
    )


def _tools(node: Node, messages: list[Message]) -> list[ToolSpec]:
    """Declared tools, plus the shipped schema of provider tools called but not declared."""
    specs = [_tool(t) for t in node.items()]
    names = {s.name for s in specs}
    for m in messages:
        for call in m.tool_calls:
            provider_type = _BUILTIN_BY_NAME.get(call.name)
            if call.executed_by == "client" and provider_type and call.name not in names:
                spec = builtin_tool(provider_type, call.name)
                if spec is not None:
                    specs.append(spec)
                    names.add(call.name)
    return specs


def _response(node: Node, metadata: dict[str, Any]) -> list[Message]:
    """The response Message as the final assistant turn; its facts go into ``metadata``."""
    r = node.obj()
    response_id = r.get("id") if isinstance(r.get("id"), str) else None
    if response_id:
        metadata["response_id"] = response_id
    if r.get("type") == "error":
        metadata["response_error"] = r.get("error")
        return []
    keys = _RESPONSE_META_KEYS if "model" in metadata else (*_RESPONSE_META_KEYS, "model")
    metadata.update({k: r[k] for k in keys if r.get(k) is not None})
    return _turn(Node({**r, "role": "assistant"}, node.path), response_id)


@importer
class AnthropicImporter(Importer):
    """Anthropic Messages API requests (system, messages, tools) with their responses."""

    name = "anthropic"
    description = "Anthropic Messages API requests and responses (tool_use / tool_result)"
    priority = 50

    def sniff(self, doc: Document) -> bool:
        """Anthropic-shaped messages plus a marker: system, typed blocks, tools, stop_reason."""
        if doc.kind not in ("json", "jsonl"):
            return False
        if doc.kind == "json" and self.is_conversation(doc.data):
            return True
        return _is_record(doc.first())

    def is_conversation(self, data: Any) -> bool:
        """A bare list of messages is one trace."""
        return _is_message_list(data)

    def convert(self, record: Node, ctx: ImportContext) -> Trace:
        """System, messages and the response's content; tools; model and stop facts."""
        if isinstance(record.value, list):
            messages = anthropic_messages(record)
            return Trace(
                id=ctx.trace_id(),
                source=ctx.source(),
                messages=messages,
                tools=_tools(Node([]), messages),
                raw=record.value,
            )
        body = record["request"] if record.has("request") else record
        messages = _system(body.get("system")) + anthropic_messages(body["messages"])
        metadata = {k: body.obj()[k] for k in _META_KEYS if body.obj().get(k) is not None}
        response = record.get("response")
        if response.value is not None:
            messages += _response(response, metadata)
        natural = record.obj().get("id") or metadata.get("response_id")
        return Trace(
            id=ctx.trace_id(natural),
            source=ctx.source(),
            metadata=metadata,
            tools=_tools(body.get("tools", []), messages),
            messages=messages,
            raw=record.value,
        )
