"""Run the candidate's tool calls through the router, in order, and label every result.

Calls in one assistant message run one after the other (the order the model wrote them),
because they may act on the same state. Each result becomes the ``ChatMessageTool`` the model
sees and a :class:`Step` for the record, with its provenance and backend. A call that no
backend answers, or whose arguments did not parse, is answered with an error the model sees
(provenance ``unavailable``); it is never raised.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, NamedTuple

from deploysim.replay._plan import TracePlan
from deploysim.replay._record import Step
from deploysim.tools import NotServed, Router, ToolOutcome, ToolRequest

if TYPE_CHECKING:
    from inspect_ai.model import ChatMessageTool
    from inspect_ai.tool import ToolCall

__all__ = ["INTERRUPTED", "Executed", "ToolExecutor"]

INTERRUPTED = "interrupted: the sample ended (a limit, or cancelled) while this call ran"


class Executed(NamedTuple):
    """The results of one assistant message's calls."""

    messages: list[ChatMessageTool]
    steps: list[Step]
    seconds: float


def _harness_error(text: str, note: str) -> ToolOutcome:
    return ToolOutcome(
        output=text, is_error=True, provenance="unavailable", backend="harness", note=note
    )


class ToolExecutor:
    """Executes tool calls for one sample."""

    def __init__(self, router: Router, plan: TracePlan) -> None:
        self.router = router
        self.plan = plan
        self.offered = {t.name for t in plan.offered.infos}

    async def _outcome(self, call: ToolCall) -> ToolOutcome:
        if call.parse_error:
            return _harness_error(
                f"Error: could not parse the arguments of {call.function}: {call.parse_error}",
                "arguments did not parse",
            )
        request = ToolRequest(name=call.function, arguments=dict(call.arguments))
        try:
            outcome = await self.router.call(request)
        except NotServed as e:
            return _harness_error(f"Error: {call.function} is temporarily unavailable.", str(e))
        if call.function not in self.offered:
            note = f"tool {call.function!r} was not offered" + (
                f"; {outcome.note}" if outcome.note else ""
            )
            outcome = outcome.model_copy(update={"note": note})
        return outcome

    def message(self, call: ToolCall, outcome: ToolOutcome) -> ChatMessageTool:
        """The tool message the model sees, errors shown the way the trace showed them."""
        from inspect_ai.model import ChatMessageTool
        from inspect_ai.tool import ToolCallError

        if outcome.is_error and self.plan.flag_errors:
            return ChatMessageTool(
                content="",
                tool_call_id=call.id,
                function=call.function,
                error=ToolCallError("unknown", outcome.output),
            )
        return ChatMessageTool(content=outcome.output, tool_call_id=call.id, function=call.function)

    def _step(self, call: ToolCall, turn: int, outcome: ToolOutcome | None, seconds: float) -> Step:
        arguments = dict(call.arguments)
        return Step(
            kind="tool_call",
            turn=turn,
            tool=call.function,
            call_id=call.id,
            arguments=arguments,
            effect=self.plan.effect(call.function, arguments),
            output=outcome.output if outcome else None,
            is_error=outcome.is_error if outcome else False,
            provenance=outcome.provenance if outcome else None,
            backend=outcome.backend if outcome else None,
            note=outcome.note if outcome else INTERRUPTED,
            seconds=round(seconds, 4),
        )

    async def run(self, calls: list[ToolCall], turn: int, steps: list[Step]) -> Executed:
        """Execute the calls of one assistant message, appending each step to ``steps``.

        Steps go into ``steps`` as the calls finish, so a sample stopped by a limit (or
        cancelled) keeps what it did; the call in flight gets a step without output, noted
        :data:`INTERRUPTED`.
        """
        messages: list[ChatMessageTool] = []
        done: list[Step] = []
        total = 0.0
        for call in calls:
            t0 = time.perf_counter()
            try:
                outcome = await self._outcome(call)
            except BaseException:
                steps.append(self._step(call, turn, None, time.perf_counter() - t0))
                raise
            seconds = time.perf_counter() - t0
            total += seconds
            messages.append(self.message(call, outcome))
            step = self._step(call, turn, outcome, seconds)
            steps.append(step)
            done.append(step)
        return Executed(messages, done, total)
