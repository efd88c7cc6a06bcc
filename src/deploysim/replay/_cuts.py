"""Cut points: where a recorded conversation is handed over to the candidate.

An *agent turn* starts at an assistant message that follows a user message (or the system
prompt, or nothing) and runs until the next user message: the agent's reply to the user,
including every tool call it made on the way. Cuts are at turn starts, so the prefix never
ends with an unanswered tool call, and "the next assistant turn" is well defined.

- ``last``: the last turn of each trace;
- ``each``: every turn (one sample per turn);
- ``K``: the K-th turn (1-based); negative K counts from the end (``-1`` = ``last``).
"""

from __future__ import annotations

from typing import NamedTuple

from deploysim.replay._scenario import CutSpec
from deploysim.traces import Trace

__all__ = ["CutPoint", "agent_turns", "cut_points", "turn_end", "turn_of"]


class CutPoint(NamedTuple):
    """Where a sample's prefix ends."""

    at: int
    """Message index: the prefix is ``trace.messages[:at]``."""
    turn: int
    """The agent turn (1-based) that starts at ``at``."""


def agent_turns(trace: Trace) -> list[CutPoint]:
    """Every agent turn of a trace, in order."""
    out: list[CutPoint] = []
    for i, m in enumerate(trace.messages):
        if m.role != "assistant":
            continue
        prev = trace.messages[i - 1].role if i > 0 else None
        if prev in (None, "system", "user"):
            out.append(CutPoint(i, len(out) + 1))
    return out


def turn_end(trace: Trace, start: int) -> int:
    """Index of the first user message after ``start`` (or the trace's length)."""
    for i in range(start + 1, len(trace.messages)):
        if trace.messages[i].role == "user":
            return i
    return len(trace.messages)


def turn_of(trace: Trace, index: int) -> int:
    """The agent turn a message belongs to (0 before the first turn)."""
    turn = 0
    for cut in agent_turns(trace):
        if cut.at > index:
            break
        turn = cut.turn
    return turn


def cut_points(trace: Trace, cut: CutSpec) -> list[CutPoint]:
    """The cut points a policy selects in a trace (empty when the trace has no such turn)."""
    turns = agent_turns(trace)
    if not turns:
        return []
    if cut == "each":
        return turns
    if cut == "last":
        return [turns[-1]]
    k = cut
    if k > 0:
        return [turns[k - 1]] if k <= len(turns) else []
    return [turns[k]] if -k <= len(turns) else []
