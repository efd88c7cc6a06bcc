"""The original agent's steps after the cut, and the per-turn comparison with the candidate.

The comparison here is the solver's own, used to decide whether the candidate is still on the
recorded path (so that recorded user turns still make sense): a turn matches when it made the
same tool calls, same names and same arguments (compared as canonical JSON), in the same
order. Wording of messages is not compared. Graders do the finer alignment.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from deploysim.replay._cuts import agent_turns
from deploysim.replay._record import Step
from deploysim.traces import ToolEffect, Trace, pair_calls

__all__ = ["TurnComparison", "compare_turn", "original_steps", "steps_of_turn"]


EffectOf = Callable[[str, dict[str, Any] | None], ToolEffect]


def _from_map(table: Mapping[str, ToolEffect]) -> EffectOf:
    def effect(name: str, arguments: dict[str, Any] | None) -> ToolEffect:
        return table.get(name, "unknown")

    return effect


def original_steps(
    trace: Trace, cut: int, effects: Mapping[str, ToolEffect] | EffectOf
) -> list[Step]:
    """What the recorded agent did from ``cut`` to the end, with the users' messages.

    ``effects`` gives each call's effect: a map tool name -> effect, or a function of
    (tool name, arguments) such as :meth:`TracePlan.effect`, which also classifies single
    calls of http/sql/editor tools.
    """
    effect: EffectOf = effects if callable(effects) else _from_map(effects)
    results = {id(p.call.call): p.result.result for p in pair_calls(trace).pairs}
    turn_starts = {c.at: c.turn for c in agent_turns(trace)}
    turn = max((t for i, t in turn_starts.items() if i <= cut), default=0)
    steps: list[Step] = []
    for i in range(cut, len(trace.messages)):
        m = trace.messages[i]
        turn = turn_starts.get(i, turn)
        if m.role == "user":
            steps.append(
                Step(kind="user", turn=turn, message_index=i, text=m.text, source="recorded")
            )
        elif m.role == "assistant":
            if m.text:
                steps.append(Step(kind="message", turn=turn, message_index=i, text=m.text))
            for c in m.tool_calls:
                if c.requestor == "user" or c.executed_by == "server":
                    continue
                r = results.get(id(c))
                steps.append(
                    Step(
                        kind="tool_call",
                        turn=turn,
                        message_index=i,
                        tool=c.name,
                        call_id=c.id,
                        arguments=c.arguments,
                        raw_arguments=c.raw_arguments if c.arguments is None else None,
                        effect=effect(c.name, c.arguments),
                        output=r.output if r is not None else None,
                        is_error=r.is_error if r is not None else False,
                    )
                )
    return steps


def steps_of_turn(steps: list[Step], turn: int) -> list[Step]:
    """The agent's own steps (messages and tool calls) of one turn."""
    return [s for s in steps if s.turn == turn and s.kind != "user"]


def _call_key(s: Step) -> str:
    args = json.dumps(s.arguments, sort_keys=True) if s.arguments is not None else s.raw_arguments
    return f"{s.tool}({args})"


class TurnComparison(NamedTuple):
    """Whether a candidate turn stayed on the recorded path."""

    same: bool
    detail: str | None


def compare_turn(original: list[Step], candidate: list[Step]) -> TurnComparison:
    """Compare the tool calls of one turn; messages' wording is ignored."""
    a = [_call_key(s) for s in original if s.kind == "tool_call"]
    b = [_call_key(s) for s in candidate if s.kind == "tool_call"]
    if a == b:
        return TurnComparison(True, None)
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return TurnComparison(False, f"call {i + 1}: original {x}, candidate {y}")
    if len(a) > len(b):
        return TurnComparison(False, f"candidate stopped before original call {a[len(b)]}")
    return TurnComparison(False, f"candidate made an extra call {b[len(a)]}")
