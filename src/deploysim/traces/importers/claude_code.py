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
marked ``is_meta``; compaction summaries are marked ``compact_summary``.

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
from typing import Any, NamedTuple

from deploysim.traces._documents import BadLine, Document
from deploysim.traces._model import Message, ToolResult, ToolSpec, Trace
from deploysim.traces._reader import Node, RecordError, text_of
from deploysim.traces._registry import ImportContext, Importer, Record, importer
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


def _uuid(value: Any) -> str | None:
    u = value.get("uuid") if isinstance(value, dict) else None
    return u if isinstance(u, str) and u else None


def _parent(value: Any) -> str | None:
    for key in ("parentUuid", "logicalParentUuid"):
        p = value.get(key) if isinstance(value, dict) else None
        if isinstance(p, str) and p:
            return p
    return None


def _is_conversation(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") in _CONVERSATION and "message" in value


# -- splitting a file into the session and its sidechains ------------------------------------


def _roots(lines: list[int], entries: list[Any], index: dict[str, int]) -> dict[int, int]:
    """The first line of the chain each line is on; a loop ends the walk where it closes."""
    root: dict[int, int] = {}
    for i in lines:
        if i in root:
            continue
        trail: list[int] = []
        on_trail: set[int] = set()
        j = i
        while j not in root and j not in on_trail:
            trail.append(j)
            on_trail.add(j)
            p = _parent(entries[j])
            if p is None or p not in index:
                break
            j = index[p]
        top = root.get(j, trail[-1])  # memoized lines are walked once: O(lines) overall
        for t in trail:
            root[t] = top
    return root


def _first_str(entries: Iterable[Any], key: str) -> str | None:
    return next(
        (v[key] for v in entries if isinstance(v, dict) and isinstance(v.get(key), str) and v[key]),
        None,
    )


class _Split(NamedTuple):
    main: list[int]
    sidechains: list[list[int]]


def _split(entries: list[Any]) -> _Split:
    side = [
        i for i, v in enumerate(entries) if isinstance(v, dict) and v.get("isSidechain") is True
    ]
    index: dict[str, int] = {}
    for i in side:
        if (u := _uuid(entries[i])) is not None:
            index.setdefault(u, i)
    roots = _roots(side, entries, index)
    groups: dict[int, list[int]] = {}
    for i in side:
        groups.setdefault(roots[i], []).append(i)
    in_side = set(side)
    return _Split([i for i in range(len(entries)) if i not in in_side], list(groups.values()))


def _prompt(value: Any) -> str | None:
    """The text a sidechain starts with: the prompt of the Task call that ran it."""
    message = value.get("message") if isinstance(value, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    return text_of(content) if isinstance(content, str | list) and content else None


def _sidechain_id(session: str, entries: list[Any], lines: list[int]) -> str:
    agent = _first_str((entries[i] for i in lines), "agentId")
    if agent:
        return f"{session}/agent-{agent}"
    return f"{session}/sidechain-{_uuid(entries[lines[0]]) or f'line-{lines[0]}'}"


# -- the conversation chain ------------------------------------------------------------------


class _Chain(NamedTuple):
    path: list[int]
    continues_from: str | None
    branches: list[dict[str, Any]]
    duplicates: list[int]


def _index(nodes: dict[int, Node]) -> tuple[dict[str, int], list[int]]:
    index: dict[str, int] = {}
    duplicates: list[int] = []
    for i, node in nodes.items():
        node.obj()
        if (u := _uuid(node.value)) is not None:
            if u in index:
                duplicates.append(i)  # a line logged twice: the first one is the conversation's
            else:
                index[u] = i
    return index, duplicates


def _parent_line(value: Any, index: dict[str, int]) -> int | None:
    p = _parent(value)
    return index.get(p) if p is not None else None


def _leaf(nodes: dict[int, Node], index: dict[str, int]) -> int | None:
    """The last conversation line no other conversation line continues."""
    convo = [i for i in index.values() if _is_conversation(nodes[i].value)]
    continued: set[int] = set()
    for i in convo:
        j = _parent_line(nodes[i].value, index)
        while j is not None and j not in continued:  # each line is marked once: O(lines)
            continued.add(j)
            j = _parent_line(nodes[j].value, index)
    leaves = [i for i in convo if i not in continued] or convo
    return leaves[-1] if leaves else None


def _walk(leaf: int, nodes: dict[int, Node], index: dict[str, int]) -> tuple[list[int], str | None]:
    path: list[int] = []
    seen: set[int] = set()
    i: int | None = leaf
    while i is not None:
        if i in seen:
            raise (
                nodes[path[-1]]
                .get("parentUuid")
                .fail(f"the parentUuid chain loops back to lines[{i}]")
            )
        seen.add(i)
        path.append(i)
        p = _parent(nodes[i].value)
        if p is not None and p not in index:
            path.reverse()
            return path, p
        i = index[p] if p is not None else None
    path.reverse()
    return path, None


def _branches(
    nodes: dict[int, Node], index: dict[str, int], on_path: set[int]
) -> list[dict[str, Any]]:
    """Conversation lines off the chain, grouped by the chain line they fork from."""
    fork_of: dict[int, str | None] = {}
    groups: dict[str | None, list[int]] = {}
    for i in index.values():
        if i in on_path or not _is_conversation(nodes[i].value):
            continue
        trail: set[int] = set()
        j: int | None = i
        while j is not None and j not in on_path and j not in fork_of and j not in trail:
            trail.add(j)
            j = _parent_line(nodes[j].value, index)
        fork: str | None = None  # a root, a parent from elsewhere, or a loop: no fork point
        if j is not None and j in on_path:
            fork = _uuid(nodes[j].value)
        elif j is not None and j in fork_of:
            fork = fork_of[j]
        fork_of.update(dict.fromkeys(trail, fork))
        groups.setdefault(fork, []).append(i)
    return [
        {"fork": fork, "lines": lines, "tool_calls": sum(_tool_uses(nodes[i].value) for i in lines)}
        for fork, lines in groups.items()
    ]


def _tool_uses(value: Any) -> int:
    content = value.get("message", {}).get("content") if isinstance(value, dict) else None
    if not isinstance(content, list):
        return 0
    return sum(1 for b in content if isinstance(b, dict) and b.get("type") == "tool_use")


def _chain(nodes: dict[int, Node]) -> _Chain:
    index, duplicates = _index(nodes)
    leaf = _leaf(nodes, index)
    if leaf is None:
        return _Chain([], None, [], duplicates)
    path, continues_from = _walk(leaf, nodes, index)
    return _Chain(path, continues_from, _branches(nodes, index, set(path)), duplicates)


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
        meta: dict[str, Any] = {"uuids": [d["uuid"]]} if _uuid(d) else {}
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


def _line_nodes(record: Node, lines: list[int]) -> dict[int, Node]:
    entries = record.arr()
    nodes: dict[int, Node] = {}
    for i in lines:
        value = entries[i]
        if isinstance(value, BadLine):
            raise RecordError(f"lines[{i}]", value.reason)
        nodes[i] = Node(value, f"lines[{i}]")
    return nodes


def _metadata(nodes: dict[int, Node], chain: _Chain, builder: _Builder) -> dict[str, Any]:
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
        split = _split(entries)
        main = [entries[i] for i in split.main]
        session = (
            next(
                (
                    v["sessionId"]
                    for v in reversed(main)
                    if _is_conversation(v) and isinstance(v.get("sessionId"), str)
                ),
                None,
            )
            or _first_str(entries, "sessionId")
            or doc.path.stem
        )
        side_ids = [_sidechain_id(session, entries, lines) for lines in split.sidechains]
        n = 0
        prompts = {
            sid: _prompt(entries[lines[0]])
            for sid, lines in zip(side_ids, split.sidechains, strict=True)
        }
        if split.main:
            yield Record(
                0, entries, None, {"lines": split.main, "id": session, "sidechains": prompts}
            )
            n = 1
        for k, (lines, trace_id) in enumerate(zip(split.sidechains, side_ids, strict=True)):
            context = {"lines": lines, "id": trace_id, "parent": session, "sidechain": True}
            yield Record(n + k, entries, trace_id.rsplit("/", 1)[-1], context)

    def convert(self, record: Node, ctx: ImportContext) -> Trace:
        """Follow the uuid chain into messages; facts, events and branches into metadata."""
        context = ctx.record.context
        lines = context.get("lines", list(range(len(record.arr()))))
        nodes = _line_nodes(record, lines)
        chain = _chain(nodes)
        builder = _Builder()
        for i in chain.path:
            builder.line(i, nodes[i])
        on_path = set(chain.path)
        summaries: list[dict[str, Any]] = []
        for i, node in nodes.items():
            if i in on_path or _is_conversation(node.value):
                continue
            builder.events.append(_event(i, node.value, None))
            if node.value.get("type") == "summary":
                summaries.append(
                    {"summary": node.value.get("summary"), "leaf_uuid": node.value.get("leafUuid")}
                )
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
            raw=[nodes[i].value for i in lines],
        )
