"""Pair tool calls with their results, in conversation order.

Ids are not always unique over a whole trace: real tau-bench traces reuse a call id once the
earlier call with that id has been answered. So pairing is positional: a result answers the
oldest still-open call with its id.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from deploysim.traces._model import ToolCall, ToolResult, Trace

__all__ = ["CallRef", "Pair", "Pairing", "ResultRef", "pair_calls"]


class CallRef(NamedTuple):
    """A call and the index of the message holding it."""

    message_index: int
    call: ToolCall


class ResultRef(NamedTuple):
    """A result and the index of the message holding it."""

    message_index: int
    result: ToolResult


class Pair(NamedTuple):
    """A call and the result that answers it."""

    call: CallRef
    result: ResultRef


class Pairing(NamedTuple):
    """The outcome of pairing one trace."""

    pairs: list[Pair]
    unpaired_calls: list[CallRef]
    """Client-side calls no result answers (server-run calls are not expected to have one)."""
    unpaired_results: list[ResultRef]
    """Results that answer no open call."""
    reopened_ids: list[CallRef]
    """Calls whose id is still open from an earlier unanswered call: ambiguous pairing."""
    reused_ids: list[CallRef]
    """Calls reusing the id of an earlier, already answered call: legal, but worth knowing."""


def pair_calls(trace: Trace) -> Pairing:
    """Pair every result with the oldest open call that has its id."""
    open_calls: dict[str, list[CallRef]] = defaultdict(list)
    answered: set[str] = set()
    out = Pairing([], [], [], [], [])
    for idx, message in enumerate(trace.messages):
        for part in message.parts:
            if isinstance(part, ToolCall):
                ref = CallRef(idx, part)
                if open_calls[part.id]:
                    out.reopened_ids.append(ref)
                elif part.id in answered:
                    out.reused_ids.append(ref)
                open_calls[part.id].append(ref)
            elif isinstance(part, ToolResult):
                queue = open_calls.get(part.call_id)
                if queue:
                    out.pairs.append(Pair(queue.pop(0), ResultRef(idx, part)))
                    answered.add(part.call_id)
                else:
                    out.unpaired_results.append(ResultRef(idx, part))
    for queue in open_calls.values():
        out.unpaired_calls.extend(r for r in queue if r.call.executed_by == "client")
    out.unpaired_calls.sort(key=lambda r: r.message_index)
    return out
