"""Claude Code session logs: ``~/.claude/projects/<project>/<session>.jsonl``.

Each line is one event. ``user`` and ``assistant`` lines carry an Anthropic API ``message``
and a ``uuid`` whose ``parentUuid`` names the line before it in the conversation (a compact
boundary names it in ``logicalParentUuid``). The file is append-only, so it can hold more than
the conversation: branches left when the user edited an earlier prompt or retried, and
lines written out of conversation order. The conversation is therefore the chain from the
last line that continues no other back to its root, not the file order. Conversation lines
off that chain are listed in ``metadata["branches"]`` (with the calls they made: those ran).

Claude Code writes each content block of one API response as a line of its own (same
``message.id``); they are joined into one assistant message, the tool results that were
logged between them following it. Thinking blocks become reasoning, ``tool_use`` /
``tool_result`` calls and results (``toolUseResult``, the structured result, is kept in
``structured``). A call the user rejected or cancelled is the error result Claude Code gave
the model, with ``error_type`` ``rejected`` / ``cancelled``; a tool's input-validation error
is ``tool_use_error``. ``isMeta`` lines (expanded slash commands, caveats) are user messages
marked ``is_meta``; compaction summaries are marked ``compact_summary``; the user's own shell
commands (bash mode) and their output ``user_shell`` (``input`` / ``output``): they ran.

Assistant lines Claude Code made itself (model ``<synthetic>``: API errors, "No response
requested") are not model output, so they are events, not assistant messages. Events are
every line that is not conversation (``summary``, ``system``, ``queue-operation``,
``file-history-snapshot``, ``progress`` and unknown types): listed in ``metadata["events"]``
by line and type (``at_message`` says where in the conversation a chained one happened), and
kept whole in ``raw``; session summaries also in ``metadata["summaries"]``.

Sidechains (subagent runs, ``isSidechain``) are traces of their own, whether they sit in
the session file or in an ``agent-<id>.jsonl`` of their own. Their id is the session's plus
``agent-<agentId>`` (or ``sidechain-<root uuid>``); ``metadata["parent"]`` names the session,
whose ``metadata["sidechains"]`` lists the in-file ones and ``metadata["subagents"]`` the ones
its ``Task`` results name. Field paths in errors are ``lines[i]``: the i-th JSON line, from 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from deploysim.traces._documents import BadLine, Document
from deploysim.traces._model import Message, ToolResult, ToolSpec, Trace
from deploysim.traces._reader import Node, RecordError, text_of
from deploysim.traces._registry import ImportContext, Importer, Record, importer
from deploysim.traces.importers._claude_code_chain import (
    Chain,
    follow_chain,
    is_conversation,
    split_sidechains,
    uuid_of,
)
from deploysim.traces.importers._claude_code_tools import claude_code_tool
from deploysim.traces.importers.anthropic import anthropic_turn

__all__ = ["ClaudeCodeImporter"]

_CONVERSATION = ("user", "assistant")
_SYNTHETIC_MODEL = "<synthetic>"
# Claude Code's own texts for a call that never ran (its REJECT and CANCEL messages).
_REFUSALS = (
    ("The user doesn't want to proceed with this tool use", "rejected"),
    ("The user doesn't want to take this action right now", "cancelled"),
    ("<tool_use_error>", "tool_use_error"),
)
_INTERRUPTED = "[Request interrupted by user"
# The user's own shell commands (bash mode, "!cmd"): the model reads them as user text, but
# they ran in the workspace, so later stages must know the state changed outside the agent.
_USER_SHELL = (("<bash-input>", "input"), ("<bash-stdout>", "output"), ("<bash-stderr>", "output"))
_LINE_FLAGS = (
    ("isMeta", "is_meta"),
    ("isCompactSummary", "compact_summary"),
    ("isApiErrorMessage", "api_error"),
)
_FACTS = (("cwd", "cwd"), ("gitBranch", "git_branch"), ("version", "claude_code_version"))


def _entries(doc: Document) -> list[Any]:
    if doc.kind == "jsonl" or (doc.kind == "json" and isinstance(doc.data, list)):
        return list(doc.data)
    return [doc.data]


def _is_entry(value: Any) -> bool:
    """A chained conversation line, or a session summary: shapes only Claude Code writes."""
    if not isinstance(value, dict):
        return False
    if value.get("type") == "summary":
        return isinstance(value.get("leafUuid"), str) and "summary" in value
    return (
        value.get("type") in ("user", "assistant", "system")
        and isinstance(value.get("uuid"), str)
        and isinstance(value.get("sessionId"), str)
        and "parentUuid" in value
    )


# -- splitting a file into the session and its sidechains ------------------------------------


def _first_str(entries: Iterable[Any], key: str) -> str | None:
    return next(
        (v[key] for v in entries if isinstance(v, dict) and isinstance(v.get(key), str) and v[key]),
        None,
    )


def _prompt(value: Any) -> str | None:
    """The text a sidechain starts with: the prompt of the Task call that ran it."""
    message = value.get("message") if isinstance(value, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    return text_of(content) if isinstance(content, str | list) and content else None


def _session_id(entries: list[Any], main: list[int], stem: str) -> str:
    """The session the file continues last (a resumed session's lines keep their old id)."""
    for i in reversed(main):
        v = entries[i]
        if is_conversation(v) and isinstance(v.get("sessionId"), str) and v["sessionId"]:
            return str(v["sessionId"])
    return _first_str(entries, "sessionId") or stem


def _sidechain_ids(session: str, entries: list[Any], groups: list[list[int]]) -> list[str]:
    """``agent-<agentId>``, else (or when two sidechains share it) ``sidechain-<root uuid>``."""
    ids: list[str] = []
    for lines in groups:
        agent = _first_str((entries[i] for i in lines), "agentId")
        trace_id = f"{session}/agent-{agent}"
        if not agent or trace_id in ids:
            trace_id = f"{session}/sidechain-{uuid_of(entries[lines[0]]) or f'line-{lines[0]}'}"
        ids.append(trace_id)
    return ids


# -- messages --------------------------------------------------------------------------------


def _error_type(output: str) -> str | None:
    return next((kind for prefix, kind in _REFUSALS if output.startswith(prefix)), None)


def _event(i: int, d: dict[str, Any], at: int | None) -> dict[str, Any]:
    event: dict[str, Any] = {"line": i, "type": d.get("type")}
    for key in ("subtype", "operation", "level"):
        if isinstance(d.get(key), str):
            event[key] = d[key]
    if d.get("type") == "system" and isinstance(d.get("content"), str):
        event["content"] = d["content"]
    if at is not None:
        event["at_message"] = at
    return event


class _Builder:
    """Walks the chain's lines into messages; everything else becomes an event."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.events: list[dict[str, Any]] = []
        self.names: dict[str, str] = {}
        self.subagents: list[dict[str, str]] = []
        self.models: list[str] = []
        self._open: int | None = None  # index of the assistant message later blocks join

    def line(self, i: int, node: Node) -> None:
        d = node.obj()
        kind = d.get("type")
        if kind not in _CONVERSATION or not node.has("message"):
            self.events.append(_event(i, d, len(self.messages)))
            return
        message = node["message"]
        role = message["role"].str()
        if role != kind:
            raise message["role"].fail(f"a {kind} line holds a message with role {role!r}")
        if kind == "assistant" and message.obj().get("model") == _SYNTHETIC_MODEL:
            # Claude Code wrote it (an API error, "No response requested"), not the model.
            event = _event(i, d, len(self.messages))
            event.update(synthetic=True, text=text_of(message.obj().get("content")))
            self.events.append(event)
            return
        meta: dict[str, Any] = {"uuids": [d["uuid"]]} if uuid_of(d) else {}
        if isinstance(d.get("timestamp"), str):
            meta["timestamp"] = d["timestamp"]
        meta.update({name: True for key, name in _LINE_FLAGS if d.get(key) is True})
        if kind == "assistant":
            self._assistant(message, meta)
        else:
            self._user(message, d, meta)

    def _assistant(self, message: Node, meta: dict[str, Any]) -> None:
        m = message.obj()
        if isinstance(m.get("model"), str) and m["model"] not in self.models:
            self.models.append(m["model"])
        if isinstance(m.get("stop_reason"), str):
            meta["stop_reason"] = m["stop_reason"]
        message_id = message.opt_str("id")
        turn = anthropic_turn(message, message_id)
        for t in turn:
            self.names.update((c.id, c.name) for c in t.tool_calls)
        if message_id and len(turn) == 1 and self._joins(message_id):
            assert self._open is not None
            self.messages[self._open] = _joined(self.messages[self._open], turn[0], meta)
            return
        self.messages.extend(
            t.model_copy(update={"metadata": {**t.metadata, **meta}}) for t in turn
        )
        self._open = len(self.messages) - 1 if turn and turn[-1].role == "assistant" else None

    def _joins(self, message_id: str) -> bool:
        """Whether this block continues the open response: same id, only results since."""
        if self._open is None or self.messages[self._open].id != message_id:
            return False
        return all(m.role == "tool" for m in self.messages[self._open + 1 :])

    def _user(self, message: Node, d: dict[str, Any], meta: dict[str, Any]) -> None:
        turn = anthropic_turn(message)
        results = [r for t in turn for r in t.tool_results]
        structured = d.get("toolUseResult") if len(results) == 1 else None
        for t in turn:
            extra = dict(meta)
            if t.role == "tool":
                t = t.model_copy(update={"parts": [self._result(r, structured) for r in t.parts]})
            elif t.text.startswith(_INTERRUPTED):
                extra["interrupted"] = True
            elif shell := next((k for tag, k in _USER_SHELL if t.text.startswith(tag)), None):
                extra["user_shell"] = shell
            if t.role == "user":
                self._open = None  # a user turn ends the response
            self.messages.append(t.model_copy(update={"metadata": {**t.metadata, **extra}}))

    def _result(self, part: Any, structured: Any) -> Any:
        if not isinstance(part, ToolResult):
            return part
        name = self.names.get(part.call_id)
        update: dict[str, Any] = {"name": name}
        if structured is not None:
            update["structured"] = structured
            agent = structured.get("agentId") if isinstance(structured, dict) else None
            if name == "Task" and isinstance(agent, str) and agent:
                self.subagents.append({"agent_id": agent, "call_id": part.call_id})
        if part.is_error:
            update["error_type"] = _error_type(part.output)
        return part.model_copy(update=update)


def _joined(first: Message, more: Message, meta: dict[str, Any]) -> Message:
    # The response's stop reason is its last block's; its time is its first block's.
    later = {k: v for k, v in meta.items() if k not in ("uuids", "timestamp")}
    metadata = {**first.metadata, **later}
    metadata["uuids"] = [*first.metadata.get("uuids", []), *meta.get("uuids", [])]
    if more.metadata.get("other_blocks"):
        metadata["other_blocks"] = [
            *first.metadata.get("other_blocks", []),
            *more.metadata["other_blocks"],
        ]
    return first.model_copy(update={"parts": [*first.parts, *more.parts], "metadata": metadata})


def _tools(messages: list[Message]) -> list[ToolSpec]:
    specs: dict[str, ToolSpec] = {}
    for m in messages:
        for call in m.tool_calls:
            if call.name not in specs and (spec := claude_code_tool(call.name)) is not None:
                specs[call.name] = spec
    return list(specs.values())


def _links(context: dict[str, Any], session: str, builder: _Builder) -> dict[str, Any]:
    """The subagent traces this one ran.

    They are found by the agentId a Task result names, and, for sidechains in the same file,
    by the Task prompt their first line repeats.
    """
    links: dict[str, Any] = {}
    prompts: dict[str, str | None] = context.get("sidechains") or {}
    if prompts:
        links["sidechains"] = list(prompts)
    root = context.get("parent") or session
    subagents = [
        {"trace": f"{root}/agent-{s['agent_id']}", "call_id": s["call_id"]}
        for s in builder.subagents
    ]
    by_prompt = {p: sid for sid, p in prompts.items() if p}
    for m in builder.messages:
        for call in m.tool_calls:
            prompt = (call.arguments or {}).get("prompt")
            if call.name == "Task" and isinstance(prompt, str) and prompt in by_prompt:
                subagents.append({"trace": by_prompt[prompt], "call_id": call.id})
    if subagents:
        links["subagents"] = subagents
    return links


def _off_chain(
    nodes: dict[int, Node], on_path: set[int], builder: _Builder
) -> list[dict[str, Any]]:
    """Record the lines off the chain that are not conversation as events; the summaries."""
    summaries: list[dict[str, Any]] = []
    for i, node in nodes.items():
        if i in on_path or is_conversation(node.value):
            continue  # conversation off the chain is a branch, listed by the chain
        builder.events.append(_event(i, node.value, None))
        if node.value.get("type") == "summary":
            summary = {
                "summary": node.value.get("summary"),
                "leaf_uuid": node.value.get("leafUuid"),
            }
            summaries.append(summary)
    return summaries


def _line_nodes(record: Node, lines: list[int]) -> dict[int, Node]:
    """The record's lines by their index in the file (``lines[k]`` is value ``k``'s)."""
    values = record.arr()
    if len(lines) != len(values):
        lines = list(range(len(values)))  # a record made without the file's line numbers
    nodes: dict[int, Node] = {}
    for i, value in zip(lines, values, strict=True):
        if isinstance(value, BadLine):
            raise RecordError(f"lines[{i}]", value.reason)
        nodes[i] = Node(value, f"lines[{i}]")
    return nodes


def _metadata(nodes: dict[int, Node], chain: Chain, builder: _Builder) -> dict[str, Any]:
    on_path = [nodes[i].value for i in chain.path]
    values = [n.value for n in nodes.values()]
    meta: dict[str, Any] = {}
    for key, name in _FACTS:
        if (fact := _first_str(on_path, key) or _first_str(values, key)) is not None:
            meta[name] = fact
    sessions = list(
        dict.fromkeys(v["sessionId"] for v in values if isinstance(v.get("sessionId"), str))
    )
    if len(sessions) > 1:
        meta["session_ids"] = sessions
    if builder.models:
        meta["model"] = builder.models[0]
        if len(builder.models) > 1:
            meta["models"] = builder.models
    if chain.continues_from:
        meta["continues_from"] = chain.continues_from
    if chain.branches:
        meta["branches"] = chain.branches
    if chain.duplicates:
        meta["duplicate_lines"] = chain.duplicates
    return meta


@importer
class ClaudeCodeImporter(Importer):
    """Claude Code session JSONL: the uuid chain as messages; sidechains as their own traces."""

    name = "claude-code"
    description = "Claude Code session logs (~/.claude/projects/*/*.jsonl), subagents as traces"
    priority = 25

    def sniff(self, doc: Document) -> bool:
        """Lines that all have a ``type``, one a chained Claude Code line or a summary."""
        if doc.kind not in ("json", "jsonl"):
            return False
        values = [v for v in _entries(doc) if not isinstance(v, BadLine)]
        return (
            bool(values)
            and all(isinstance(v, dict) and isinstance(v.get("type"), str) for v in values)
            and any(_is_entry(v) for v in values)
        )

    def records(self, doc: Document) -> Iterator[Record]:
        """The session (the lines off any sidechain), then each sidechain, by its first line."""
        entries = _entries(doc)
        split = split_sidechains(entries)
        session = _session_id(entries, split.main, doc.path.stem)
        side_ids = _sidechain_ids(session, entries, split.sidechains)
        if split.main:
            prompts = {
                sid: _prompt(entries[lines[0]])
                for sid, lines in zip(side_ids, split.sidechains, strict=True)
            }
            main: dict[str, Any] = {"lines": split.main, "id": session, "sidechains": prompts}
            yield Record(0, [entries[i] for i in split.main], None, main)
        first = 1 if split.main else 0
        for k, (lines, trace_id) in enumerate(zip(split.sidechains, side_ids, strict=True)):
            side: dict[str, Any] = {"lines": lines, "id": trace_id, "parent": session}
            side["sidechain"] = True
            # Each record holds only its own lines: checks run per record stay linear.
            values = [entries[i] for i in lines]
            yield Record(first + k, values, trace_id.rsplit("/", 1)[-1], side)

    def convert(self, record: Node, ctx: ImportContext) -> Trace:
        """Follow the uuid chain into messages; facts, events and branches into metadata."""
        context = ctx.record.context
        nodes = _line_nodes(record, context.get("lines", []))
        chain = follow_chain(nodes)
        builder = _Builder()
        for i in chain.path:
            builder.line(i, nodes[i])
        summaries = _off_chain(nodes, set(chain.path), builder)
        session = context.get("id") or Path(ctx.path).stem
        metadata = _metadata(nodes, chain, builder)
        metadata["sidechain"] = bool(context.get("sidechain"))
        if context.get("parent"):
            metadata["parent"] = context["parent"]
        if agent := _first_str((n.value for n in nodes.values()), "agentId"):
            metadata["agent_id"] = agent
        metadata.update(_links(context, session, builder))
        if summaries:
            metadata["summaries"] = summaries
        metadata["events"] = sorted(builder.events, key=lambda e: e["line"])
        return Trace(
            id=ctx.trace_id(session),
            source=ctx.source(),
            metadata=metadata,
            tools=_tools(builder.messages),
            messages=builder.messages,
            raw=record.value,
        )
