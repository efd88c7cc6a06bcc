"""Real inspect logs shaped like deploysim/replay's, without a sandbox.

A tiny task plays each sample's recorded conversation: its solver stores the sample's
ReplayRecord under RECORD_KEY and appends the candidate's messages, exactly where the replay
solver puts them. One eval runs every sample (and the deploysim scorers); the log is then
split by arm into one log per model, as ``deploysim replay --baseline`` writes them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inspect_ai import Task, eval
from inspect_ai.dataset import Sample
from inspect_ai.log import EvalLog, read_eval_log, write_eval_log
from inspect_ai.model import (
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageTool,
    ChatMessageUser,
)
from inspect_ai.scorer import Scorer
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.tool import ToolCall

from deploysim._errors import InfrastructureError
from deploysim.replay import RECORD_KEY, ReplayRecord

Turn = tuple[str, str, list[tuple[str, dict[str, Any]]]]
"""(role, text, calls); tool messages answer the previous assistant's calls in order."""


def messages(turns: list[Turn], start: int = 0) -> list[ChatMessage]:
    """Chat messages from (role, text, calls) turns; call ids are c<turn index>.<k>."""
    out: list[ChatMessage] = []
    pending: list[ToolCall] = []
    for i, (role, text, calls) in enumerate(turns, start=start):
        if role == "system":
            out.append(ChatMessageSystem(content=text))
        elif role == "user":
            out.append(ChatMessageUser(content=text))
        elif role == "assistant":
            pending = [
                ToolCall(id=f"c{i}.{k}", function=n, arguments=a) for k, (n, a) in enumerate(calls)
            ]
            out.append(ChatMessageAssistant(content=text, tool_calls=pending or None))
        else:
            tc = pending.pop(0)
            out.append(ChatMessageTool(content=text, tool_call_id=tc.id, function=tc.function))
    return out


@solver
def play() -> Solver:
    """Store the sample's record and append what the candidate said and did."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        if state.metadata.get("fail"):
            raise InfrastructureError("services sidecar of pod 3398f20a9aa4 exited")
        state.store.set(RECORD_KEY, state.metadata["record"])
        state.messages.extend(messages(state.metadata["generated"], start=len(state.messages)))
        return state

    return solve


def replay_sample(
    sample_id: str, arm: str, prefix: list[Turn], generated: list[Turn], rec: ReplayRecord | None
) -> Sample:
    """One replay-shaped sample of an arm (``rec`` None: the sample fails for infrastructure)."""
    trace_id, _, cut = sample_id.rpartition("@")
    meta: dict[str, Any] = {
        "arm": arm,
        "generated": generated,
        "deploysim": {"trace_id": trace_id, "cut": int(cut)},
    }
    if rec is None:
        meta["fail"] = True
    else:
        meta["record"] = rec.model_dump(mode="json")
    return Sample(id=f"{arm}:{sample_id}", input=messages(prefix), metadata=meta)


def run_and_split(
    samples: list[Sample],
    models: dict[str, str],
    log_dir: Path,
    scorers: list[Scorer] | None = None,
) -> list[Path]:
    """Run the samples once, then write one log per arm with its model and its own sample ids."""
    [log] = eval(
        Task(dataset=samples, solver=play(), scorer=scorers or []),
        model="mockllm/model",
        log_dir=str(log_dir / "raw"),
        display="none",
        fail_on_error=False,
        retry_on_error=0,
    )
    full = read_eval_log(str(log.location))
    paths: list[Path] = []
    for arm, model in models.items():
        part: EvalLog = full.model_copy(deep=True)
        part.eval.model = model
        part.samples = []
        for s in full.samples or []:
            if s.metadata["arm"] == arm:
                s = s.model_copy(deep=True)
                s.id = str(s.id).split(":", 1)[1]
                part.samples.append(s)
        path = log_dir / f"{arm}.eval"
        write_eval_log(part, str(path))
        paths.append(path)
    return paths
