"""Building one conversation from many content spans: the merge rule of otel.py."""

from __future__ import annotations

from typing import Any, NamedTuple

from deploysim.traces._model import (
    Message,
)
from deploysim.traces._reader import RecordError
from deploysim.traces.importers._otel_messages import (
    AGENT_OPS,
    INFERENCE_OPS,
    has_content,
    has_inputs,
    messages_of,
    span_messages,
    span_nodes,
)
from deploysim.traces.importers._otel_spans import Span


def message_key(m: Message) -> tuple[Any, ...]:
    return (
        m.role,
        m.text,
        tuple(c.id for c in m.tool_calls),
        tuple(r.call_id for r in m.tool_results),
    )


class Conversation(NamedTuple):
    messages: list[Message]
    produced: list[int | None]
    """Start time of the span whose output each message is (sequential merge), else None."""
    last: Span | None
    divergent: list[str]
    unread_inputs: list[dict[str, str]]
    """Spans whose input messages were not read (sequential merge), with why."""
    merge: str


def nested_inference(spans: list[Span]) -> set[str]:
    """Inference spans inside another inference span: one call seen by two instrumentations."""
    inference = {s.span_id for s in spans if s.op in INFERENCE_OPS and s.span_id}
    return {
        s.span_id
        for s in spans
        if s.span_id in inference and s.parent_id is not None and s.parent_id in inference
    }


def conversation(spans: list[Span]) -> Conversation:
    nested = nested_inference(spans)
    content = [s for s in spans if has_content(s) and s.span_id not in nested]
    chosen = [s for s in content if s.op not in AGENT_OPS] or content
    if not chosen:
        return Conversation([], [], None, [], [], "none")
    last = chosen[-1]
    if len(chosen) == 1:
        return _cumulative(chosen)
    if not has_inputs(last):
        return _sequential(chosen, [])
    try:
        final = [message_key(m) for m in span_messages(last)[0]]
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
            inputs, outputs = span_messages(s)
        except RecordError:
            continue  # this span cannot vouch either way; another may
        said = [message_key(m) for m in inputs + outputs]
        if said and final[: len(said)] == said:
            return True
    return False


def _cumulative(chosen: list[Span]) -> Conversation:
    """The last span's input and output; earlier spans are checked, not merged."""
    inputs, outputs = span_messages(chosen[-1])
    messages = inputs + outputs
    final = [message_key(m) for m in messages]
    produced: list[int | None] = [None] * len(inputs)
    produced += [chosen[-1].start] * len(outputs)
    divergent = []
    for s in chosen[:-1]:
        earlier_in, earlier_out = span_messages(s)
        earlier = [message_key(m) for m in earlier_in]
        if final[: len(earlier)] != earlier:
            divergent.append(s.span_id or s.name)
            continue
        # Where this span's output recurs in the final input, it was said at this span's time.
        said = earlier + [message_key(m) for m in earlier_out]
        if final[: len(said)] == said:
            for i in range(len(earlier), len(said)):
                produced[i] = s.start
    return Conversation(messages, produced, chosen[-1], divergent, [], "cumulative")


def _sequential(chosen: list[Span], unread: list[dict[str, str]]) -> Conversation:
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
            inputs, outputs = [], messages_of(span_nodes(s)[1], offset=len(messages))
        else:
            try:
                inputs, outputs = span_messages(s, len(messages))
            except RecordError as e:
                if i == 0:
                    raise
                unread.append({"span_id": sid, "reason": f"{e.field}: {e.reason}"})
                inputs, outputs = [], messages_of(span_nodes(s)[1], offset=len(messages))
        keys = [message_key(m) for m in inputs]
        if i == 0:
            first = keys
            messages.extend(inputs)
            produced.extend([None] * len(inputs))
        elif keys and [message_key(m) for m in messages] == keys[: len(messages)]:
            extra = inputs[len(messages) :]
            messages.extend(extra)
            produced.extend([None] * len(extra))
        elif keys and keys[: len(first)] != first:
            divergent.append(sid)
            continue
        messages.extend(outputs)
        produced.extend([s.start] * len(outputs))
    return Conversation(messages, produced, chosen[-1], divergent, unread, "sequential")
