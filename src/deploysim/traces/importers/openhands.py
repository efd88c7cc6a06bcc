"""OpenHands event streams: trajectory exports and evaluation outputs.

A trajectory is a JSON list of events (what ``/api/conversations/{id}/trajectory`` exports
and ``replay_trajectory_path`` replays), or an object holding one as ``trajectory``; an
evaluation ``output.jsonl`` line holds one as ``history`` (older ones as ``[action,
observation]`` pairs), beside the run's facts (``instance_id``, ``metadata``, ``metrics``,
``error``, ``test_result``), which go into ``metadata["run"]``.

Events are *actions* and *observations*, each with an ``id`` and a ``source`` (user, agent,
environment). An agent action is the tool call the model made: ``tool_call_metadata`` names
the tool and call id, and its ``model_response`` holds the arguments exactly as the model
wrote them (a ``create`` edit's ``file_text`` lives only there). Actions from agents without
function calling get the call they stand for (``run`` is ``execute_bash``, ``read`` / ``write``
/ ``edit`` are ``str_replace_editor`` or ``edit_file``, ``run_ipython`` is
``execute_ipython_cell``, ``browse`` is ``web_read``, ``browse_interactive`` is ``browser``),
with the id ``openhands-<event id>``. Calls from one model response share an assistant
message; its ``thought`` is the message text. An observation answers the call its
``tool_call_id`` or ``cause`` names; its ``content`` is the result and its ``extras`` (exit
code, working directory) the structured result. ``error`` observations are error results
(``error_type`` is their ``error_id``), ``user_rejected`` ones are ``rejected``. An observation
that answers no call is feedback the model read as its next prompt: a user message marked
``metadata["observation"]``. Tool actions of the user (commands typed in the GUI terminal)
are calls with ``requestor="user"`` in a user message. ``message`` actions are user and
assistant messages; the ``system`` action is the system message, and its ``tools`` the tool
specs (else the specs of the OpenHands tools called). ``finish`` is a call with no result:
the run ended there.

Events that are not conversation (agent state changes, ``recall``, ``condensation``, null
observations) go to ``metadata["events"]`` whole, never dropped; ``raw`` keeps the record.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from deploysim._errors import ToolSchemaError
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
from deploysim.traces._registry import ImportContext, Importer, Record, importer
from deploysim.traces._toolspecs import toolspec_from_definition
from deploysim.traces.importers._openhands_tools import openhands_tool, synthesized_call

__all__ = ["OpenHandsImporter"]

_SOURCES = frozenset({"agent", "user", "environment"})
_EVENT_ACTIONS = frozenset(
    {"change_agent_state", "recall", "condensation", "condensation_request", "null", "pause"}
)
_EVENT_OBSERVATIONS = frozenset(
    {"agent_state_changed", "null", "recall", "condense", "agent_condensation"}
)
_RUN_KEYS = ("history", "trajectory")


def _flatten(events: list[Any]) -> list[Any]:
    """Events, with older ``[action, observation]`` pairs unpacked."""
    out: list[Any] = []
    for e in events:
        if isinstance(e, list) and all(isinstance(x, dict) for x in e):
            out.extend(e)
        else:
            out.append(e)
    return out


def _is_event(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("source"), str)
        and value["source"] in _SOURCES
        and (isinstance(value.get("action"), str) or isinstance(value.get("observation"), str))
    )


def _is_events(value: Any) -> bool:
    if not isinstance(value, list) or not value:
        return False
    events = _flatten(value)
    return bool(events) and all(_is_event(e) for e in events)


def _is_run(value: Any) -> bool:
    return isinstance(value, dict) and any(_is_events(value.get(k)) for k in _RUN_KEYS)


def _events(record: Node) -> Node:
    if isinstance(record.value, list):
        return Node(_flatten(record.value), record.path)
    key = next((k for k in _RUN_KEYS if isinstance(record.obj().get(k), list)), "trajectory")
    node = record[key]
    return Node(_flatten(node.arr()), node.path)


def _recorded_arguments(tcm: dict[str, Any], call_id: str) -> Any:
    """The call's arguments as the model response holds them; None when it is not there."""
    response = tcm.get("model_response")
    choices = response.get("choices") if isinstance(response, dict) else None
    for choice in choices if isinstance(choices, list) else []:
        message = choice.get("message") if isinstance(choice, dict) else None
        calls = message.get("tool_calls") if isinstance(message, dict) else None
        for call in calls if isinstance(calls, list) else []:
            fn = call.get("function") if isinstance(call, dict) else None
            if call.get("id") == call_id and isinstance(fn, dict) and "arguments" in fn:
                return fn["arguments"]
    return None


def _response(tcm: dict[str, Any]) -> dict[str, Any]:
    response = tcm.get("model_response")
    return response if isinstance(response, dict) else {}


def _reasoning(response: dict[str, Any]) -> list[Part]:
    choices = response.get("choices")
    first = choices[0] if isinstance(choices, list) and choices else None
    message = first.get("message") if isinstance(first, dict) else None
    text = message.get("reasoning_content") if isinstance(message, dict) else None
    return [Reasoning(text=text)] if isinstance(text, str) and text else []


class _Conversion:
    """Walks the events in order, pairing each observation with the call it answers."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.events: list[Any] = []
        self.tools: list[ToolSpec] = []
        self.models: list[str] = []
        self.facts: dict[str, Any] = {}
        self._calls: dict[str, str] = {}  # event id -> call id
        self._names: dict[str, str] = {}  # call id -> tool name
        self._answered: set[str] = set()
        self._open: int | None = None  # the assistant message later calls of its response join
        self._response_id: str | None = None

    def event(self, node: Node) -> None:
        e = node.obj()
        if isinstance(e.get("action"), str):
            self._action(node, e["action"])
        elif isinstance(e.get("observation"), str):
            self._observation(node, e["observation"])
        else:
            raise node.fail("an event needs an action or an observation")

    def _action(self, node: Node, action: str) -> None:
        e = node.obj()
        source = node["source"].str()
        args = node.get("args", {}).obj()
        if action in _EVENT_ACTIONS or source == "environment":
            self.events.append(e)
        elif action == "message":
            self._message(node, source, args)
        elif action == "system":
            self._system(node, args)
        else:
            # The user's own commands (the GUI terminal) change the state too: user calls.
            self._call(node, action, args, "user" if source == "user" else "assistant")

    def _meta(self, node: Node) -> dict[str, Any]:
        e = node.obj()
        meta: dict[str, Any] = {"event_ids": [e.get("id")]}
        if isinstance(e.get("timestamp"), str):
            meta["timestamp"] = e["timestamp"]
        return meta

    def _message(self, node: Node, source: str, args: dict[str, Any]) -> None:
        content = args.get("content")
        text = content if isinstance(content, str) else node.get("message", "").str()
        meta = self._meta(node)
        images = args.get("image_urls")
        if isinstance(images, list) and images:
            meta["omitted_images"] = len(images)
        role = "user" if source == "user" else "assistant"
        self.messages.append(Message(role=role, parts=[Text(text=text)], metadata=meta))
        self._open = None

    def _system(self, node: Node, args: dict[str, Any]) -> None:
        content = node["args"].get("content", "").str()
        self.messages.append(
            Message(role="system", parts=[Text(text=content)], metadata=self._meta(node))
        )
        for key in ("openhands_version", "agent_class"):
            if args.get(key) is not None:
                self.facts[key] = args[key]
        for t in node["args"].get("tools", []).items():
            try:
                self.tools.append(toolspec_from_definition(t.value, t.path))
            except ToolSchemaError as err:
                raise t.fail(str(err)) from err

    def _call(
        self, node: Node, action: str, args: dict[str, Any], requestor: Literal["assistant", "user"]
    ) -> None:
        event_id = node["id"].id()
        meta = self._meta(node)
        meta["actions"] = [action]
        if node.has("tool_call_metadata"):
            tcm_node = node["tool_call_metadata"]
            tcm = tcm_node.obj()
            call_id = tcm_node["tool_call_id"].id()
            name = tcm_node["function_name"].str()
            recorded = _recorded_arguments(tcm, call_id)
            response = _response(tcm)
        else:
            call_id, name, recorded, response = f"openhands-{event_id}", "", None, {}
        if recorded is None:
            synthesized = synthesized_call(action, args)
            name = name or synthesized.name
            recorded = synthesized.arguments
            meta["arguments_from_action"] = True
        parsed = parse_arguments(recorded, f"{node.path}.tool_call_metadata")
        call = ToolCall(
            id=call_id,
            name=name,
            arguments=parsed.arguments,
            raw_arguments=parsed.raw,
            parse_error=parsed.error,
            requestor=requestor,
        )
        self._calls[event_id] = call_id
        self._names[call_id] = name
        if isinstance(response.get("model"), str) and response["model"] not in self.models:
            self.models.append(response["model"])
        if requestor == "user":
            self.messages.append(Message(role="user", parts=[call], metadata=meta))
            self._open = None
            return
        if action == "finish":
            self.facts["finished"] = True
        thought = args.get("thought")
        self._add_call(call, response, thought if isinstance(thought, str) else "", meta)

    def _add_call(
        self, call: ToolCall, response: dict[str, Any], thought: str, meta: dict[str, Any]
    ) -> None:
        response_id = response.get("id") if isinstance(response.get("id"), str) else None
        if response_id and self._joins(response_id):
            assert self._open is not None
            first = self._open_message()
            metadata = dict(first.metadata)
            for key in ("event_ids", "actions"):
                metadata[key] = [*first.metadata.get(key, []), *meta[key]]
            if meta.get("arguments_from_action"):
                metadata["arguments_from_action"] = True
            joined = [*first.parts, *([Text(text=thought)] if thought else []), call]
            self.messages[self._open] = first.model_copy(
                update={"parts": joined, "metadata": metadata}
            )
            return
        parts: list[Part] = [*_reasoning(response), *([Text(text=thought)] if thought else [])]
        if response_id:
            meta["model_response_id"] = response_id
        self.messages.append(Message(role="assistant", parts=[*parts, call], metadata=meta))
        self._open = len(self.messages) - 1
        self._response_id = response_id

    def _open_message(self) -> Message:
        assert self._open is not None
        return self.messages[self._open]

    def _joins(self, response_id: str) -> bool:
        if self._open is None or self._response_id != response_id:
            return False
        return all(m.role == "tool" for m in self.messages[self._open + 1 :])

    def _observation(self, node: Node, observation: str) -> None:
        e = node.obj()
        if observation in _EVENT_OBSERVATIONS:
            self.events.append(e)
            return
        call_id = self._answers(node)
        content = e.get("content")
        output = content if isinstance(content, str) else text_of(content)
        meta = {**self._meta(node), "observation": observation}
        if call_id is None:
            # Nothing asked for it: OpenHands shows it to the model as its next prompt.
            self.messages.append(Message(role="user", parts=[Text(text=output)], metadata=meta))
            self._open = None
            return
        extras = e.get("extras")
        is_error = observation in ("error", "user_rejected")
        error_type = None
        if observation == "user_rejected":
            error_type = "rejected"
        elif observation == "error" and isinstance(extras, dict):
            error_id = extras.get("error_id")
            error_type = error_id if isinstance(error_id, str) and error_id else None
        result = ToolResult(
            call_id=call_id,
            output=output,
            is_error=is_error,
            error_type=error_type,
            structured=extras if extras else None,
            name=self._names.get(call_id),
        )
        self._answered.add(call_id)
        self.messages.append(Message(role="tool", parts=[result], metadata=meta))

    def _answers(self, node: Node) -> str | None:
        """The open call this observation answers: by tool_call_id, else by cause."""
        e = node.obj()
        tcm = e.get("tool_call_metadata")
        candidates = []
        if isinstance(tcm, dict) and isinstance(tcm.get("tool_call_id"), str):
            candidates.append(tcm["tool_call_id"])
        cause = e.get("cause")
        if isinstance(cause, int | str) and not isinstance(cause, bool):
            candidates.append(self._calls.get(str(cause)))
        return next((c for c in candidates if c in self._names and c not in self._answered), None)


def _tools(conversion: _Conversion) -> list[ToolSpec]:
    specs = {s.name: s for s in conversion.tools}
    for m in conversion.messages:
        for call in m.tool_calls:
            if call.name not in specs and (spec := openhands_tool(call.name)) is not None:
                specs[call.name] = spec
    return list(specs.values())


def _metadata(record: Node, conversion: _Conversion) -> dict[str, Any]:
    meta: dict[str, Any] = dict(conversion.facts)
    if conversion.models:
        meta["model"] = conversion.models[0]
        if len(conversion.models) > 1:
            meta["models"] = conversion.models
    states = [
        e["extras"]["agent_state"]
        for e in conversion.events
        if e.get("observation") == "agent_state_changed"
        and isinstance(e.get("extras"), dict)
        and isinstance(e["extras"].get("agent_state"), str)
    ]
    if states:
        meta["final_agent_state"] = states[-1]
    if isinstance(record.value, dict):
        meta["run"] = {k: v for k, v in record.value.items() if k not in _RUN_KEYS}
    meta["events"] = conversion.events
    return meta


@importer
class OpenHandsImporter(Importer):
    """OpenHands trajectories (event lists) and evaluation outputs with a ``history``."""

    name = "openhands"
    description = "OpenHands event streams (trajectory exports, evaluation output.jsonl)"
    priority = 30

    def sniff(self, doc: Document) -> bool:
        """A list of OpenHands events, or runs (objects) holding one."""
        if doc.kind == "json" and self.is_conversation(doc.data):
            return True
        return doc.kind in ("json", "jsonl") and _is_run(doc.first())

    def is_conversation(self, data: Any) -> bool:
        """A bare list of events is one trajectory."""
        return _is_events(data)

    def records(self, doc: Document) -> Iterator[Record]:
        """Each run of a JSONL file or JSON list of runs; any other JSON list is one stream.

        So a list forced into this format fails naming the event that is wrong, not as a run
        with no ``trajectory``.
        """
        data = doc.data
        if doc.kind == "json" and isinstance(data, list) and not all(_is_run(v) for v in data):
            yield Record(0, data)
            return
        yield from super().records(doc)

    def convert(self, record: Node, ctx: ImportContext) -> Trace:
        """Events to messages, observations paired to calls; the rest into metadata."""
        conversion = _Conversion()
        for event in _events(record).items():
            conversion.event(event)
        instance = record.obj().get("instance_id") if isinstance(record.value, dict) else None
        index = ctx.record.index
        natural = (
            ctx.trace_id(instance)
            if isinstance(instance, str | int) and not isinstance(instance, bool)
            else ctx.trace_id(Path(ctx.path).stem, index if index else None)
        )
        return Trace(
            id=natural,
            source=ctx.source(),
            metadata=_metadata(record, conversion),
            tools=_tools(conversion),
            messages=conversion.messages,
            raw=record.value,
        )
