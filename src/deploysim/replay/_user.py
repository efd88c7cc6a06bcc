"""The user simulator: a model playing the user once the candidate left the recorded path.

It gets the user's instructions when the trace recorded them (tau-bench ``task.instruction``,
tau2 ``task.user_scenario.instructions``) and the conversation with the roles flipped: the
agent's messages are its input, the recorded user's messages are its own earlier turns. Tool
traffic is left out; the user never saw it. It ends the conversation by saying
``###STOP###`` (tau-bench's convention).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from deploysim.traces import Trace

if TYPE_CHECKING:
    from inspect_ai.model import ChatMessage, Model

__all__ = ["STOP", "UserSimulator", "user_instructions"]

STOP = "###STOP###"

_PROMPT = """\
You are playing a user talking to an AI agent. Stay in character: write only the user's next
message, short and natural, never the agent's. Follow your instructions; do not invent goals
beyond them. When your goal is met, or the conversation cannot go further, reply with
{stop} and nothing else.

Your instructions:
{instructions}"""


def user_instructions(trace: Trace) -> str:
    """What the recorded user was asked to do, when the trace says."""
    task: Any = trace.metadata.get("task")
    if isinstance(task, dict):
        if isinstance(task.get("instruction"), str):
            return str(task["instruction"])
        scenario = task.get("user_scenario")
        if isinstance(scenario, dict) and scenario.get("instructions"):
            found = scenario["instructions"]
            return found if isinstance(found, str) else json.dumps(found, indent=1)
    first = next((m.text for m in trace.messages if m.role == "user" and m.text), "")
    return (
        "No instructions were recorded. You opened the conversation with: "
        f"{first!r}. Pursue that request."
    )


class UserSimulator:
    """Writes the user's next message with an inspect model."""

    def __init__(self, model: str | Model, trace: Trace) -> None:
        self._model = model
        self.system = _PROMPT.format(stop=STOP, instructions=user_instructions(trace))

    def model(self) -> Model:
        """The simulator model (resolved inside the eval's context)."""
        from inspect_ai.model import get_model

        if isinstance(self._model, str):
            self._model = get_model(self._model)
        return self._model

    def flipped(self, messages: list[ChatMessage]) -> list[ChatMessage]:
        """The conversation as the user sees it, roles swapped."""
        from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageUser

        out: list[ChatMessage] = [ChatMessageSystem(content=self.system)]
        for m in messages:
            if m.role == "user" and m.text:
                out.append(ChatMessageAssistant(content=m.text))
            elif m.role == "assistant" and m.text:
                out.append(ChatMessageUser(content=m.text))
        return out

    async def reply(self, messages: list[ChatMessage]) -> str:
        """The user's next message."""
        output = await self.model().generate(self.flipped(messages))
        return output.completion.strip()
