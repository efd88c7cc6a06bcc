"""The ``deploysim`` model API: scripted policies as inspect-ai models.

``--model deploysim/original``, ``deploysim/demo-careless``, ``deploysim/demo-cautious``,
``deploysim/demo-user`` (see :mod:`deploysim.replay._script`: scripted stand-ins, not models).
Model args: ``-M skip_rate=0.5`` for ``demo-careless``.

Every output carries a token ``usage`` (about four characters per token), because inspect
otherwise counts tokens with a tokenizer it downloads.
"""

from __future__ import annotations

from typing import Any

from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessage,
    ChatMessageAssistant,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    modelapi,
)
from inspect_ai.tool import ToolCall, ToolChoice, ToolInfo
from inspect_ai.util import store

from deploysim._errors import DeploysimError
from deploysim.replay._script import (
    ASKED_KEY,
    CURSOR_KEY,
    SCRIPT_KEY,
    Emit,
    Script,
    Turn,
    get_policy,
)

__all__ = ["ScriptedModelAPI"]


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


class ScriptedModelAPI(ModelAPI):
    """A scripted policy behind inspect's ModelAPI interface."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),  # noqa: B008 - inspect's own signature
        **model_args: Any,
    ) -> None:
        super().__init__(model_name, base_url, api_key, [], config)
        self.policy = get_policy(model_name)
        self.options = model_args

    def max_connections(self) -> int:
        """Scripted outputs cost nothing: let the sandbox limit concurrency."""
        return 64

    def _turn(self, script: Script, input: list[ChatMessage]) -> Turn:
        users = [m for m in input if m.role == "user"]
        last = input[-1] if input else None
        return Turn(
            script=script,
            cursor=int(store().get(CURSOR_KEY.format(policy=self.model_name), 0)),
            last_role=last.role if last is not None else "",
            last_text=last.text if last is not None else "",
            last_user_text=users[-1].text if users else "",
            asked=list(store().get(ASKED_KEY.format(policy=self.model_name), [])),
            own_texts=[m.text for m in input if m.role == "assistant"],
            options=self.options,
        )

    def _script(self) -> Script:
        data = store().get(SCRIPT_KEY)
        if data is None:
            if self.model_name == "demo-user":
                return Script(trace_id="", messages=[])
            raise DeploysimError(
                f"deploysim/{self.model_name} replays a recorded trace: run it with the "
                "deploysim/replay task, which puts the trace's script in the sample's store"
            )
        return Script.model_validate(data)

    def _remember(self, turn: Turn, emit: Emit) -> None:
        store().set(CURSOR_KEY.format(policy=self.model_name), emit.cursor)
        asked_a_question = emit.cursor == turn.cursor and not emit.calls
        if asked_a_question and emit.origin is not None and emit.origin not in turn.asked:
            store().set(ASKED_KEY.format(policy=self.model_name), [*turn.asked, emit.origin])

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        """The policy's next message."""
        turn = self._turn(self._script(), input)
        emit = self.policy(turn)
        self._remember(turn, emit)
        calls = [
            ToolCall(id=f"ds_{emit.origin}_{k}", function=c.name, arguments=dict(c.arguments))
            for k, c in enumerate(emit.calls)
        ]
        message = ChatMessageAssistant(
            content=emit.text, tool_calls=calls or None, model=self.model_name, source="generate"
        )
        prompt = sum(_tokens(m.text) for m in input)
        completion = _tokens(emit.text) + 20 * len(calls)
        return ModelOutput(
            model=self.model_name,
            choices=[
                ChatCompletionChoice(message=message, stop_reason="tool_calls" if calls else "stop")
            ],
            usage=ModelUsage(
                input_tokens=prompt, output_tokens=completion, total_tokens=prompt + completion
            ),
        )


@modelapi(name="deploysim")
def deploysim_models() -> type[ModelAPI]:
    """``deploysim/<policy>``: scripted policies (see deploysim.replay._script)."""
    return ScriptedModelAPI
