"""The agent loop of a replayed sample: one turn (resample) or the rest (rollout).

An agent turn: generate; run the tool calls; repeat until the model answers without tool
calls (the turn ends) or ``max_steps`` generations were made. After each turn the candidate's
tool calls are compared with the original's (:func:`compare_turn`); the first turn that
differs is the divergence point.

Rollout goes on after a turn ends: while the candidate has not diverged, the next recorded
user message is fed (the recorded user's words still answer what the candidate said); after
divergence the user simulator takes over when one is configured, otherwise the sample stops.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from deploysim.replay._execute import ToolExecutor
from deploysim.replay._original import compare_turn, steps_of_turn
from deploysim.replay._record import ReplayRecord, Step, StopReason
from deploysim.replay._scenario import ScenarioLimits
from deploysim.replay._user import STOP, UserSimulator

if TYPE_CHECKING:
    from inspect_ai.model import Model
    from inspect_ai.solver import TaskState
    from inspect_ai.tool import ToolInfo

__all__ = ["AgentLoop"]

TurnEnd = Literal["turn_end", "max_steps"]


@dataclass
class AgentLoop:
    """Drives the candidate for one sample and fills the record as it goes."""

    state: TaskState
    model: Model
    tools: list[ToolInfo]
    executor: ToolExecutor
    record: ReplayRecord
    limits: ScenarioLimits
    user: UserSimulator | None = None

    async def turn(self, turn: int) -> TurnEnd:
        """One agent turn."""
        rec = self.record
        for _ in range(self.limits.max_steps):
            t0 = time.perf_counter()
            output = await self.model.generate(self.state.messages, tools=self.tools)
            rec.timings.model += time.perf_counter() - t0
            self.state.output = output
            message = output.message
            self.state.messages.append(message)
            if message.text:
                rec.candidate.append(Step(kind="message", turn=turn, text=message.text))
            if not message.tool_calls:
                return "turn_end"
            done = await self.executor.run(message.tool_calls, turn, rec.candidate)
            self.state.messages.extend(done.messages)
            rec.timings.tools += done.seconds
        return "max_steps"

    def _check(self, turn: int) -> None:
        rec = self.record
        if rec.diverged_at_turn is not None:
            return
        cmp = compare_turn(steps_of_turn(rec.original, turn), steps_of_turn(rec.candidate, turn))
        if not cmp.same:
            rec.diverged_at_turn, rec.divergence = turn, cmp.detail

    async def resample(self, turn: int) -> None:
        """Regenerate the turn at the cut."""
        end = await self.turn(turn)
        self._check(turn)
        self.record.stop_reason = end

    def _recorded_user(self, turn: int) -> Step | None:
        """The recorded user message answering ``turn``, if an agent turn follows it."""
        users = [s for s in self.record.original if s.kind == "user" and s.turn == turn]
        if not users or not any(s.turn == turn + 1 for s in self.record.original):
            return None
        return users[0]

    def _feed(self, turn: int, text: str, source: Literal["recorded", "simulated"]) -> None:
        from inspect_ai.model import ChatMessageUser

        self.state.messages.append(ChatMessageUser(content=text))
        self.record.candidate.append(Step(kind="user", turn=turn, text=text, source=source))

    async def _next_user(self, turn: int, user_turns: int) -> StopReason | None:
        """Feed the next user message; a stop reason when there is none."""
        if self.record.diverged_at_turn is None:
            recorded = self._recorded_user(turn)
            if recorded is None or recorded.text is None:
                return "trace_end"
            self._feed(turn, recorded.text, "recorded")
            return None
        if self.user is None:
            return "diverged"
        if user_turns >= self.limits.max_user_turns:
            return "user_turns"
        t0 = time.perf_counter()
        text = await self.user.reply(self.state.messages)
        self.record.timings.user_simulator += time.perf_counter() - t0
        self._feed(turn, text, "simulated")
        return "user_stop" if STOP in text or not text else None

    async def rollout(self, turn: int) -> None:
        """Continue from the cut until the model stops, the user stops, or a limit hits."""
        user_turns = 0
        for n in range(self.limits.max_turns):
            end = await self.turn(turn)
            self._check(turn)
            if end == "max_steps":
                self.record.stop_reason = "max_steps"
                return
            if n + 1 >= self.limits.max_turns:
                break
            simulated = self.record.diverged_at_turn is not None
            stop = await self._next_user(turn, user_turns)
            if stop is not None:
                self.record.stop_reason = stop
                return
            user_turns += simulated
            turn += 1
        self.record.stop_reason = "max_turns"
