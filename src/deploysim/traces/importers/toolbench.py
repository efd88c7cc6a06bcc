"""ToolBench DFSDT answer files: a search tree of function-call chains, one trace per file.

An answer file is ``{"win", "tree", "forward_args", "compare_candidates",
"answer_generation"}``. ``tree.tree`` is the depth-first search: ``Thought`` nodes (the
model's text), ``Action`` nodes (``description`` = the function name) and their ``Action
Input`` child (``description`` = the arguments string, ``observation`` = the response the
model saw, ``observation_code`` = ToolBench's status). ``answer_generation.function`` holds
the functions offered (OpenAI's legacy ``functions`` schema, ``Finish`` included) and
``train_messages`` the chat messages of the chain ToolBench kept, in the legacy
``function_call`` / ``role: function`` form.

Decisions:

- **The conversation is one path of the tree**, the chosen one: the path that ends in a
  ``Finish`` call with ``return_type: give_answer`` (DFSDT stops at its first answer); else
  the path ``train_messages`` records (ToolBench's own pick for a run that gave up, matched
  by thoughts, functions and arguments); else the last path explored, where the search
  stopped. ``metadata["chosen_by"]`` says which (``give_answer`` / ``train_messages`` /
  ``last_explored``). The path is built from the tree, so every call has its recorded
  observation, ``Finish`` included; ``train_messages`` supplies the system and user prompts
  when recorded (the tree has none), else the user turn is ``answer_generation.query``.
- **Abandoned branches stay in metadata**, not as extra traces: they share their prefix with
  the chosen path (extra traces would count those calls twice) and the model never saw them
  as one conversation. ``metadata["search_tree"]`` lists every step of the tree in the order
  it was explored: ``{"step", "parent", "thought", "name", "arguments", "observation",
  "observation_code", "pruned", "chosen"}`` (``parent`` is the index of the step it follows,
  None at the root; ``name`` is None for a thought with no action after it). The recorded
  responses of abandoned branches are environment state too (the same endpoint called with
  other arguments), which is why every step keeps its observation.
- Calls get the id ``step-<n>`` (the legacy form has no ids); a result is an error when its
  observation's ``error`` field is non-empty (timeouts, rate limits, unknown functions);
  the tool message keeps ``observation_code`` in its metadata.
- Instruction files (``instruction/*.json``: queries with ``api_list``) hold no
  conversation; they are recognized and reported as not a trace. The answer file's own
  ``function`` list already holds the schemas of that query's tools.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from deploysim.traces._documents import Document
from deploysim.traces._model import Message, Part, Text, ToolCall, ToolResult, Trace
from deploysim.traces._reader import Node, parse_arguments, text_of
from deploysim.traces._registry import ImportContext, Importer, Record, importer, not_a_trace
from deploysim.traces.importers.openai_chat import chat_tools

__all__ = ["ToolBenchImporter"]

_NODE_TYPES = frozenset({"Thought", "Action", "Action Input"})


class _Step(NamedTuple):
    """One step of the search: an optional thought, then (usually) a call and its response."""

    parent: int | None
    thought: str | None
    name: str | None
    arguments: str | None
    observation: str | None
    observation_code: Any
    pruned: bool


def _is_tree_node(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("node_type"), str)
        and value["node_type"] in _NODE_TYPES
        and isinstance(value.get("children", []), list)
    )


def _is_answer(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    tree = value.get("tree")
    generation = value.get("answer_generation")
    return (
        isinstance(tree, dict)
        and _is_tree_node(tree.get("tree"))
        and isinstance(generation, dict)
        and "query" in generation
    )


def _is_instruction_file(value: Any) -> bool:
    """A JSON list of ToolBench queries: ``{"query", "query_id"}``, usually with ``api_list``."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(
            isinstance(q, dict)
            and isinstance(q.get("query"), str)
            and "query_id" in q
            and isinstance(q.get("api_list", []), list)
            and not {"messages", "answer_generation", "tree"} & set(q)
            for q in value
        )
    )


def _steps(root: Node) -> list[_Step]:
    """Every step of the tree in exploration (pre-)order; iterative, so depth is no limit."""
    out: list[_Step] = []
    stack: list[tuple[Node, int | None, str | None]] = [(root, None, None)]
    while stack:
        node, parent, thought = stack.pop()
        d = node.obj()
        kind = node["node_type"].str()
        children = list(node.get("children", []).items())
        if kind == "Thought":
            text = node.get("description", "").str()
            if not children:
                out.append(_Step(parent, text, None, None, None, None, bool(d.get("pruned"))))
            stack.extend((c, parent, text) for c in reversed(children))
        elif kind == "Action":
            name = node["description"].str()
            for child in reversed(children):
                arguments = child.get("description", "").str()
                observation = child.get("observation").value
                index = len(out)
                out.append(
                    _Step(
                        parent,
                        thought,
                        name,
                        arguments,
                        observation if observation is None else text_of(observation),
                        child.obj().get("observation_code"),
                        bool(child.obj().get("pruned")),
                    )
                )
                stack.extend(
                    (g, index, None) for g in reversed(list(child.get("children", []).items()))
                )
        else:  # the root "Action Input" (no action above it) or one without its Action
            stack.extend((c, parent, thought) for c in reversed(children))
    return out


def _path(steps: list[_Step], leaf: int) -> list[int]:
    path: list[int] = []
    current: int | None = leaf
    while current is not None:
        path.append(current)
        current = steps[current].parent
    return path[::-1]


def _gives_answer(step: _Step) -> bool:
    if step.name != "Finish":
        return False
    parsed = parse_arguments(step.arguments).arguments
    return isinstance(parsed, dict) and parsed.get("return_type") == "give_answer"


def _train_chain(train: list[Any]) -> list[tuple[Any, Any, Any]] | None:
    """(thought, function, arguments) of each assistant turn of the last recorded chain."""
    if not train or not isinstance(train[-1], list):
        return None
    chain = []
    for m in train[-1]:
        if isinstance(m, dict) and m.get("role") == "assistant":
            call = m.get("function_call")
            fc: dict[str, Any] = call if isinstance(call, dict) else {}
            chain.append((m.get("content"), fc.get("name"), fc.get("arguments")))
    return chain


class _Choice(NamedTuple):
    path: list[int]
    """Indices of the chosen path's steps, root first."""
    chosen_by: str


def _choose(steps: list[_Step], train: list[Any]) -> _Choice:
    parents = {s.parent for s in steps}
    leaves = [i for i in range(len(steps)) if i not in parents]
    answer = next((i for i in leaves if _gives_answer(steps[i])), None)
    if answer is not None:
        return _Choice(_path(steps, answer), "give_answer")
    chain = _train_chain(train)
    for leaf in leaves:
        path = _path(steps, leaf)
        if chain and [(steps[i].thought, steps[i].name, steps[i].arguments) for i in path] == chain:
            return _Choice(path, "train_messages")
    return _Choice(_path(steps, leaves[-1]) if leaves else [], "last_explored")


def _prompts(generation: Node) -> list[Message]:
    train = generation.get("train_messages", []).arr()
    first = train[-1] if train and isinstance(train[-1], list) else []
    prompts = [
        Message(role=m["role"], parts=[Text(text=text_of(m.get("content")))])
        for m in first[:2]
        if isinstance(m, dict) and m.get("role") in ("system", "user")
    ]
    if any(m.role == "user" for m in prompts):
        return prompts
    return [*prompts, Message(role="user", parts=[Text(text=generation["query"].str())])]


def _is_error(observation: str | None) -> bool:
    try:
        parsed = json.loads(observation or "")
    except (json.JSONDecodeError, RecursionError):
        return False  # not the {"error", "response"} envelope: nothing says it failed
    return (
        isinstance(parsed, dict) and isinstance(parsed.get("error"), str) and bool(parsed["error"])
    )


def _step_messages(step: _Step, index: int) -> list[Message]:
    parts: list[Part] = [Text(text=step.thought)] if step.thought else []
    if step.name is None:
        return [Message(role="assistant", parts=parts)] if parts else []
    parsed = parse_arguments(step.arguments)
    call_id = f"step-{index}"
    parts.append(
        ToolCall(
            id=call_id,
            name=step.name,
            arguments=parsed.arguments,
            raw_arguments=parsed.raw,
            parse_error=parsed.error,
        )
    )
    out = [Message(role="assistant", parts=parts)]
    if step.observation is not None:
        result = ToolResult(
            call_id=call_id,
            output=step.observation,
            is_error=_is_error(step.observation),
            name=step.name,
        )
        out.append(
            Message(
                role="tool",
                parts=[result],
                metadata={"observation_code": step.observation_code},
            )
        )
    return out


def _tree_metadata(steps: list[_Step], chosen: set[int]) -> list[dict[str, Any]]:
    return [{"step": i, **s._asdict(), "chosen": i in chosen} for i, s in enumerate(steps)]


@importer
class ToolBenchImporter(Importer):
    """ToolBench DFSDT answer files; one trace per file, the chosen path of the search tree."""

    name = "toolbench"
    description = "ToolBench DFSDT answer files (search tree, chosen path as the conversation)"
    priority = 30

    def sniff(self, doc: Document) -> bool:
        """An answer file (``tree`` + ``answer_generation``) or an instruction (query) file."""
        return doc.kind == "json" and (_is_answer(doc.data) or _is_instruction_file(doc.data))

    def records(self, doc: Document) -> Iterator[Record]:
        """The answer file is one record; an instruction file is reported as not a trace."""
        if _is_instruction_file(doc.data):
            raise not_a_trace(
                doc.path,
                "a ToolBench instruction file (queries with api_list), not a conversation",
            )
        yield Record(0, doc.data)

    def convert(self, record: Node, ctx: ImportContext) -> Trace:
        """The chosen path as messages, tools from ``function``, the whole tree in metadata."""
        generation = record["answer_generation"]
        steps = _steps(record["tree"]["tree"])
        path, chosen_by = _choose(steps, generation.get("train_messages", []).arr())
        messages = _prompts(generation)
        for i in path:
            messages.extend(_step_messages(steps[i], i))
        g = generation.obj()
        metadata: dict[str, Any] = {
            k: g[k]
            for k in ("query", "finish_type", "final_answer", "valid_data", "query_count")
            if k in g
        }
        metadata.update(
            win=record.obj().get("win"),
            forward_args=record.obj().get("forward_args"),
            chosen_by=chosen_by,
            search_tree=_tree_metadata(steps, set(path)),
        )
        path_of_file = Path(ctx.path)
        return Trace(
            id=ctx.trace_id(path_of_file.parent.name, path_of_file.stem),
            source=ctx.source(),
            metadata=metadata,
            tools=chat_tools(generation.get("function", [])),
            messages=messages,
            raw=record.value,
        )
