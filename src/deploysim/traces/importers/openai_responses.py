"""OpenAI Responses API: ``input`` and ``output`` items, tool calls paired on ``call_id``.

A record is a logged request/response (``{"input": [...] | str, "instructions"?, "tools"?,
"output"?}`` or ``{"request": {...}, "response": {...}}``) or a bare list of items, which is
one trace. Consecutive model items (reasoning, messages, calls) make one assistant message;
consecutive outputs make one ``tool`` message. Built-in tools (shell, local_shell,
apply_patch, computer) get their shipped schemas when the request does not declare them.
Hosted tools (MCP, web search, file search, code interpreter) are ``executed_by="server"``
and keep what the item recorded of their result. Items of other types are kept verbatim in
the ``other_items`` metadata of the message they occur in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any, Literal, NamedTuple

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
from deploysim.traces._nesting import loads, nesting_error
from deploysim.traces._reader import Node, ParsedArguments, RecordError, parse_arguments, text_of
from deploysim.traces._registry import ImportContext, Importer, importer
from deploysim.traces._toolspecs import toolspec_from_definition

__all__ = ["ConvertedItems", "OpenAIResponsesImporter", "response_items"]

_ROLES = frozenset({"user", "assistant", "system", "developer"})
_PART_TYPES = frozenset(
    ("input_text", "output_text", "refusal", "input_image", "input_file", "input_audio")
)
# Item types of the SDK (openai 3.57): client tool calls and their outputs, hosted tool calls,
# and the rest. Items of other types are still read, but do not mark a file as ours.
_CLIENT_CALLS = ("function", "custom_tool", "shell", "local_shell", "apply_patch", "computer")
_HOSTED_CALLS = ("mcp", "web_search", "file_search", "code_interpreter", "image_generation")
_OTHER_ITEMS = (
    "message reasoning mcp_list_tools mcp_approval_request mcp_approval_response compaction "
    "item_reference tool_search_call tool_search_output program program_output additional_tools"
)
_ITEM_TYPES = frozenset(
    [f"{c}_call" for c in _CLIENT_CALLS + _HOSTED_CALLS]
    + [f"{c}_call_output" for c in _CLIENT_CALLS]
    + _OTHER_ITEMS.split()
)
# OpenAI's computer actions are objects ({"type": "click", "x", "y"}), unlike Anthropic's.
_COMPUTER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"action": {"type": "object"}, "actions": {"type": "array"}},
}
_META_KEYS = (
    "model",
    "tool_choice",
    "parallel_tool_calls",
    "previous_response_id",
    "conversation",
    "reasoning",
)
_RESPONSE_META_KEYS = ("status", "usage", "error", "incomplete_details")


def _is_one_of(value: Any, names: frozenset[str]) -> bool:
    return isinstance(value, str) and value in names


def _is_item(value: Any) -> bool:
    """A typed item (of any type: new ones keep appearing) or an untyped role message."""
    if not isinstance(value, dict):
        return False
    if "type" not in value:
        return _is_one_of(value.get("role"), _ROLES)
    return isinstance(value["type"], str)


def _is_marker(value: Any) -> bool:
    """An item only the Responses API writes (chat and Anthropic messages are untyped)."""
    if not isinstance(value, dict) or not _is_one_of(value.get("type"), _ITEM_TYPES):
        return False
    content = value.get("content")
    if value["type"] != "message" or isinstance(content, str):
        return True
    return isinstance(content, list) and all(
        isinstance(p, dict) and _is_one_of(p.get("type"), _PART_TYPES) for p in content
    )


def _is_item_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(_is_item(v) for v in value)
        and any(_is_marker(v) for v in value)
    )


def _is_record(value: Any) -> bool:
    if _is_item_list(value):
        return True
    if not isinstance(value, dict):
        return False
    body = value["request"] if isinstance(value.get("request"), dict) else value
    response: dict[str, Any] = value["response"] if isinstance(value.get("response"), dict) else {}
    inp = body.get("input")
    out = response.get("output") if response else body.get("output")
    if "messages" in body or (inp is None and out is None):
        return False
    inputs = inp if isinstance(inp, list) else []
    outputs = out if isinstance(out, list) else []
    if not (inp is None or isinstance(inp, str) or all(_is_item(v) for v in inputs)):
        return False
    if not (out is None or isinstance(out, list)) or not all(_is_item(v) for v in outputs):
        return False
    return (
        any(_is_marker(v) for v in inputs + outputs)
        or isinstance(body.get("instructions"), str)
        or (isinstance(body.get("model"), str) and inp is not None)
        or "response" in (body.get("object"), response.get("object"))
    )


def _content(node: Node) -> list[Part]:
    if isinstance(node.value, str):
        return [Text(text=node.value)] if node.value else []
    parts: list[Part] = []
    for p in node.items():
        kind = p["type"].str()
        if kind in ("input_text", "output_text", "text", "refusal"):
            text = p["refusal" if kind == "refusal" else "text"].str()
        elif kind == "input_file":
            text = f"[file: {p.get('filename', 'unnamed').str()}]"
        else:
            text = f"[{kind.removeprefix('input_')}]"
        parts.append(Text(text=text))
    return parts


def _present(d: dict[str, Any], *drop: str) -> dict[str, Any]:
    """``d`` without null values and without the keys ``drop``."""
    return {k: v for k, v in d.items() if v is not None and k not in drop}


def _hosted_spec(provider_type: str) -> ToolSpec:
    if provider_type.startswith("computer"):
        name, description, params = "computer", "Control a computer's screen.", _COMPUTER_SCHEMA
    else:
        name = re.sub(r"(_preview)?(_\d{4}_\d{2}_\d{2})?$", "", provider_type)
        description, params = f"OpenAI hosted tool {provider_type}.", {"type": "object"}
    effect = "write" if name == "computer" else "read" if "search" in name else "unknown"
    return ToolSpec(
        name=name,
        description=description,
        parameters=params,
        kind="provider-builtin",
        effect=effect,
        provider_type=provider_type,
    )


def _provider_spec(provider_type: str) -> ToolSpec:
    """The shipped schema of a client built-in (shell, apply_patch), else the hosted tool's."""
    spec = None if provider_type.startswith("computer") else builtin_tool(provider_type)
    return spec or _hosted_spec(provider_type)


def _tool_specs(node: Node) -> list[ToolSpec]:
    """Specs of the request's ``tools``; hosted MCP servers are listed by mcp_list_tools."""
    specs: list[ToolSpec] = []
    for t in node.items():
        kind = t.obj().get("type")
        if kind == "namespace":
            specs.extend(_tool_specs(t["tools"]))
        elif kind in (None, "function", "custom", "shell", "local_shell", "apply_patch"):
            try:
                specs.append(toolspec_from_definition(t.value, t.path))
            except ToolSchemaError as e:
                raise t.fail(str(e)) from e
        elif kind != "mcp":
            specs.append(_hosted_spec(t["type"].str()))
    return specs


class _Conversion:
    """Walks items in order, grouping them into messages; ``_item_<type>`` converts a type."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.tools: list[ToolSpec] = []
        self.provider_calls: dict[str, str] = {}  # tool name -> provider type, for built-ins
        self._role: Role | None = None
        self._parts: list[Part] = []
        self._ids: list[str] = []
        self._meta: dict[str, Any] = {}
        self._local_shell_ids: dict[str, str] = {}  # item id -> call_id

    def flush(self) -> None:
        """Close the message being built."""
        if self._role is not None:
            meta = {**self._meta, "item_ids": self._ids} if len(self._ids) > 1 else self._meta
            first = self._ids[0] if self._ids else None
            self.messages.append(
                Message(role=self._role, parts=self._parts, id=first, metadata=meta)
            )
        self._role, self._parts, self._ids, self._meta = None, [], [], {}

    def _add(self, role: Role, parts: list[Part], item: Node | None, alone: bool = False) -> None:
        if role != self._role or alone:
            self.flush()
            self._role = role
        self._parts.extend(parts)
        item_id = item.value.get("id") if item is not None else None
        if isinstance(item_id, str):
            self._ids.append(item_id)

    def add_source(
        self, source: Node, role: Role = "user", meta: dict[str, Any] | None = None
    ) -> None:
        """Add a string (one message of ``role``) or a list of items."""
        if isinstance(source.value, str):
            self._add(role, [Text(text=source.value)], None, alone=True)
            self._meta.update(meta or {})
            self.flush()
        elif source.value is not None:
            for item in source.items():
                self.item(item)

    def item(self, node: Node) -> None:
        """Convert one item; unknown types are kept in the message's ``other_items``."""
        kind = node["type"].str() if node.has("type") else "message"
        handler: Callable[[Node], None] | None
        if kind in ("function_call_output", "custom_tool_call_output", "computer_call_output"):
            handler = self._output
        elif kind in ("web_search_call", "file_search_call", "code_interpreter_call"):
            handler = self._hosted_call
        else:
            handler = getattr(self, f"_item_{kind}", None)
        if handler is not None:
            handler(node)
            return
        if self._role is None:
            self._role = "assistant"
        self._meta.setdefault("other_items", []).append(node.value)

    def _call(
        self,
        item: Node,
        name: str,
        args: ParsedArguments,
        call_id: str,
        provider: str | None = None,
        executed_by: Literal["client", "server"] = "client",
    ) -> None:
        """Add a call; ``provider`` names the built-in type whose spec to add if undeclared."""
        if provider:
            self.provider_calls.setdefault(name, provider)
        call = ToolCall(
            id=call_id,
            name=name,
            arguments=args.arguments,
            raw_arguments=args.raw,
            parse_error=args.error,
            executed_by=executed_by,
        )
        self._add("assistant", [call], item)

    def _result(self, item: Node | None, call_id: str, output: str, **fields: Any) -> None:
        self._add("tool", [ToolResult(call_id=call_id, output=output, **fields)], item)

    def _item_message(self, node: Node) -> None:
        role = node["role"].str()
        if role not in _ROLES:
            raise node["role"].fail(f"unknown role {role!r}")
        parts = _content(node["content"])
        if role == "assistant":
            self._add("assistant", parts, node)
            return
        self._add("user" if role == "user" else "system", parts, node, alone=True)
        if role == "developer":
            self._meta["original_role"] = "developer"
        self.flush()

    def _item_reasoning(self, node: Node) -> None:
        texts = [p["text"].str() for k in ("summary", "content") for p in node.get(k, []).items()]
        opaque = node.opt_str("encrypted_content")
        self._add("assistant", [Reasoning(text="\n\n".join(texts), opaque=opaque)], node)

    def _item_function_call(self, node: Node) -> None:
        args = parse_arguments(node.get("arguments").value, node.get("arguments").path)
        self._call(node, node["name"].str(), args, node["call_id"].id())

    def _item_custom_tool_call(self, node: Node) -> None:
        text = node.get("input", "").str()
        args = ParsedArguments({"input": text}, text, None)
        self._call(node, node["name"].str(), args, node["call_id"].id())

    def _item_shell_call(self, node: Node) -> None:
        node["action"]["commands"].arr()
        args = parse_arguments(_present(node["action"].obj()))
        self._call(node, "shell", args, node["call_id"].id(), "shell")

    def _item_local_shell_call(self, node: Node) -> None:
        node["action"]["command"].arr()
        call_id = node["call_id"].id()
        if node.has("id"):
            self._local_shell_ids[node["id"].id()] = call_id
        args = parse_arguments(_present(node["action"].obj(), "type"))
        self._call(node, "local_shell", args, call_id, "local_shell")

    def _item_apply_patch_call(self, node: Node) -> None:
        args = parse_arguments(node["operation"].obj())
        self._call(node, "apply_patch", args, node["call_id"].id(), "apply_patch")

    def _item_computer_call(self, node: Node) -> None:
        args = parse_arguments(_present({k: node.obj().get(k) for k in ("action", "actions")}))
        self._call(node, "computer", args, node["call_id"].id(), "computer_use_preview")

    def _item_mcp_call(self, node: Node) -> None:
        call_id, name = node["id"].id(), node["name"].str()
        args = parse_arguments(node.get("arguments").value, node.get("arguments").path)
        self._call(node, name, args, call_id, executed_by="server")
        error = node.get("error").value
        detail = error.get("content") or error.get("message") if isinstance(error, dict) else error
        error_type = error.get("type") if isinstance(error, dict) else None
        self._result(
            None,
            call_id,
            node.opt_str("output") or text_of(detail),
            is_error=error is not None or node.obj().get("status") == "failed",
            error_type=error_type if isinstance(error_type, str) else None,
            structured=error,
            name=name,
        )

    def _item_mcp_list_tools(self, node: Node) -> None:
        for t in node["tools"].items():
            d = {"name": t["name"].str(), "description": t.get("description").value}
            try:
                spec = toolspec_from_definition({**d, "input_schema": t.get("input_schema").value})
            except ToolSchemaError as e:
                raise t.fail(str(e)) from e
            self.tools.append(spec.model_copy(update={"provider_type": "mcp"}))

    def _hosted_call(self, node: Node) -> None:
        kind, call_id = node["type"].str().removesuffix("_call"), node["id"].id()
        if kind == "web_search":
            args = node.get("action", {}).obj()
        elif kind == "file_search":
            args = {"queries": node.get("queries", []).arr()}
        else:
            args = {"code": node.opt_str("code"), "container_id": node.opt_str("container_id")}
        self._call(node, kind, parse_arguments(args), call_id, kind, executed_by="server")
        recorded = node.get("results" if kind == "file_search" else "outputs")
        failed = node.obj().get("status") == "failed"
        if recorded.value is not None or failed:
            listed = recorded.arr() if recorded.value is not None else []
            text = text_of([r.get("logs", r) if isinstance(r, dict) else r for r in listed])
            self._result(None, call_id, text, is_error=failed, structured=recorded.value, name=kind)

    def _output(self, node: Node) -> None:
        output = node["output"].value
        screenshot = node.obj().get("type") == "computer_call_output"
        self._result(
            node,
            node["call_id"].id(),
            "[screenshot]" if screenshot else text_of(output),
            name=node.opt_str("name"),
            structured=None if isinstance(output, str) else output,
        )

    def _item_shell_call_output(self, node: Node) -> None:
        texts: list[str] = []
        error_type: str | None = None
        failed = False
        for chunk in node["output"].items():
            texts += [t for t in (chunk.get(k, "").str() for k in ("stdout", "stderr")) if t]
            outcome = chunk.get("outcome", {}).obj()
            if outcome.get("type") == "timeout":
                failed, error_type = True, "timeout"
            elif outcome.get("exit_code") not in (0, None):
                failed = True
        output = node["output"].value
        self._result(
            node,
            node["call_id"].id(),
            "\n".join(texts),
            is_error=failed,
            error_type=error_type,
            structured=output,
        )

    def _item_local_shell_call_output(self, node: Node) -> None:
        call_id = (node["call_id"] if node.has("call_id") else node["id"]).id()
        output = node["output"].str()
        try:
            parsed = loads(output)
        except json.JSONDecodeError:
            parsed = None
        deep = nesting_error(parsed, node["output"].path)
        if deep:
            raise RecordError(deep.field, f"the output string holds JSON {deep.reason}")
        meta = parsed.get("metadata", parsed) if isinstance(parsed, dict) else {}
        failed = isinstance(meta, dict) and meta.get("exit_code") not in (0, None)
        structured = parsed if isinstance(parsed, dict) else None
        # This item's ``id`` names the call, so it is no message id.
        call_id = self._local_shell_ids.get(call_id, call_id)
        self._result(None, call_id, output, is_error=failed, structured=structured)

    def _item_apply_patch_call_output(self, node: Node) -> None:
        failed = node.obj().get("status") == "failed"
        self._result(node, node["call_id"].id(), node.get("output", "").str(), is_error=failed)


class ConvertedItems(NamedTuple):
    """Messages made from Responses items, and the tools the items themselves tell of."""

    messages: list[Message]
    tools: list[ToolSpec]
    """Tools listed by ``mcp_list_tools`` items, and built-ins called but not declared."""


def response_items(
    *sources: Node, instructions: Node | None = None, declared: Sequence[ToolSpec] = ()
) -> ConvertedItems:
    """Convert instructions, then each source (a string or a list of items), into messages.

    Other importers whose records embed Responses items (agent SDK input lists) reuse this.
    """
    conv = _Conversion()
    if instructions is not None and instructions.value is not None:
        conv.add_source(instructions, role="system", meta={"source": "instructions"})
    for source in sources:
        conv.add_source(source)
    conv.flush()
    names = {t.name for t in (*declared, *conv.tools)}
    calls = conv.provider_calls.items()
    builtins = [_provider_spec(ptype) for name, ptype in calls if name not in names]
    return ConvertedItems(conv.messages, conv.tools + builtins)


def _metadata(body: Node, response: Node | None) -> dict[str, Any]:
    req = body.obj()
    meta = {k: req[k] for k in _META_KEYS if req.get(k) is not None}
    if response is not None:
        r = response.obj()
        meta.update({k: r[k] for k in _RESPONSE_META_KEYS if r.get(k) is not None})
        meta.update({"model": r["model"]} if "model" not in meta and r.get("model") else {})
        meta.update({"response_id": r["id"]} if r.get("id") is not None else {})
    tools: list[Any] = req["tools"] if isinstance(req.get("tools"), list) else []
    servers = [
        t.get("server_label") for t in tools if isinstance(t, dict) and t.get("type") == "mcp"
    ]
    return {**meta, "mcp_servers": servers} if servers else meta


@importer
class OpenAIResponsesImporter(Importer):
    """OpenAI Responses API request/response logs, or bare item lists."""

    name = "openai-responses"
    description = "OpenAI Responses API items (input/output, call_id pairing, built-in tools)"
    priority = 60

    def sniff(self, doc: Document) -> bool:
        """A request/response record (or lines of them) or a bare list of Responses items."""
        if doc.kind not in ("json", "jsonl"):
            return False
        if doc.kind == "json" and self.is_conversation(doc.data):
            return True
        return _is_record(doc.first())

    def is_conversation(self, data: Any) -> bool:
        """A bare list of Responses items is one trace."""
        return _is_item_list(data)

    def convert(self, record: Node, ctx: ImportContext) -> Trace:
        """Messages from instructions, input and output items; tools; response facts."""
        if isinstance(record.value, list):
            items = response_items(record)
            return Trace(
                id=ctx.trace_id(),
                source=ctx.source(),
                messages=items.messages,
                tools=items.tools,
                raw=record.value,
            )
        body = record["request"] if record.has("request") else record
        response = record.get("response")
        output = response.get("output") if response.value is not None else body.get("output")
        if output.value is None and not body.has("input"):
            raise body.get("input").fail("required field is missing (and there is no output)")
        declared = _tool_specs(body.get("tools", []))
        inputs, instructions = body.get("input"), body.get("instructions")
        items = response_items(inputs, output, instructions=instructions, declared=declared)
        # A flat log merges the response's fields (id, status, usage) into the request's.
        resp = response if response.value is not None else body if body.has("output") else None
        natural = record.obj().get("id") or (resp.obj().get("id") if resp else None)
        return Trace(
            id=ctx.trace_id(natural),
            source=ctx.source(),
            metadata=_metadata(body, resp),
            tools=declared + items.tools,
            messages=items.messages,
            raw=record.value,
        )
