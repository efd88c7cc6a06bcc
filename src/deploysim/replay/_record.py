"""The per-sample replay record: the one place graders read what happened in a sample.

The solver builds a :class:`ReplayRecord` and stores it, serialized as JSON, in the sample's
store under :data:`RECORD_KEY`; it is in every ``.eval`` log. Read it back with
:func:`read_record`::

    from inspect_ai.log import read_eval_log
    from deploysim.replay import read_record

    for sample in read_eval_log("logs/x.eval").samples:
        rec = read_record(sample)
        rec.original, rec.candidate, rec.end_state.rows, rec.diverged_at_turn

Conventions:

- ``original`` is what the recorded agent did after the cut, to the end of the trace (steps
  carry the agent turn they belong to; ``original_turn_steps`` says how many of them form the
  turn at the cut, which is what ``resample`` regenerates);
- ``candidate`` is what the replayed model did, in the same :class:`Step` shape, with the
  provenance and backend of each tool result;
- tool names, arguments and outputs are the model-facing ones: ids are the sanitized ones
  shown to the model, outputs the exact text it saw;
- ``end_state`` is the pod's state at the end of the solver (files, workspace database rows,
  services request log, services database rows), captured while the pod was up.

The record's ``version`` changes when a field changes meaning; graders should check it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from deploysim.tools import Provenance
from deploysim.traces import ToolEffect, TraceSource

__all__ = [
    "RECORD_KEY",
    "RECORD_VERSION",
    "EndState",
    "PrefixCall",
    "ReplayRecord",
    "Step",
    "StopReason",
    "Timings",
    "read_record",
]

RECORD_KEY = "deploysim:replay"
"""Store key of the serialized :class:`ReplayRecord`."""
RECORD_VERSION = 1

StopReason = Literal[
    "turn_end",
    "trace_end",
    "diverged",
    "user_stop",
    "user_turns",
    "max_steps",
    "max_turns",
    "model_error",
    "time_limit",
    "limit",
]
"""Why the candidate stopped. ``time_limit``: the sample's wall-clock limit ran out (inspect's
``time_limit``; the sample is model behaviour, graded on what it did); ``limit``: another
inspect sample limit (``ReplayRecord.limit`` says which)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Step(_Model):
    """One thing done after the cut: an assistant message, a tool call, or a user message."""

    kind: Literal["message", "tool_call", "user"]
    turn: int = Field(description="Agent turn (1-based, numbered over the whole trace).")
    message_index: int | None = Field(
        default=None, description="Index of the message in the original trace (original only)."
    )
    text: str | None = Field(default=None, description="Message text (message and user steps).")
    tool: str | None = None
    call_id: str | None = None
    arguments: dict[str, Any] | None = None
    raw_arguments: str | None = Field(
        default=None, description="Arguments as recorded when they did not parse."
    )
    effect: ToolEffect | None = Field(default=None, description="read, write or unknown.")
    output: str | None = Field(default=None, description="Tool result text the model saw.")
    is_error: bool = False
    provenance: Provenance | None = Field(
        default=None, description="Candidate tool results: where the answer came from."
    )
    backend: str | None = None
    note: str | None = Field(default=None, description="Why a fallback was taken.")
    source: Literal["recorded", "simulated"] | None = Field(
        default=None, description="User steps: from the trace, or from the user simulator."
    )
    seconds: float | None = Field(default=None, description="Wall time of the tool call.")


class PrefixCall(_Model):
    """A state-changing call of the prefix, re-executed before the candidate takes over."""

    message_index: int
    tool: str
    arguments: dict[str, Any] | None
    effect: ToolEffect
    recorded_output: str
    recorded_is_error: bool
    output: str | None = Field(default=None, description="What re-executing it gave.")
    is_error: bool = False
    provenance: Provenance | None = None
    backend: str | None = None
    executed: bool = Field(description="False when no live backend serves the tool.")
    reproduced: bool | None = Field(
        default=None, description="Output equal to the recorded one (None: not executed)."
    )
    note: str | None = None


class EndState(_Model):
    """The pod's state at the end of the sample, relative to its start.

    ``files``, ``rows`` and ``new_tables`` are :class:`deploysim.sandbox.PodState` fields
    (``FileChange`` / ``RowChange`` dumps) for the workspace; ``services_rows`` are the row
    changes of the services' databases against the snapshot (function tools and mocked APIs
    write there), ``services_log`` the services' request log, in order; its first
    ``services_log_prefix_entries`` entries were caused by re-executing the prefix, the rest
    after the hand-over.

    ``scope`` says what was looked at: ``full`` is :meth:`Pod.capture_state` (files,
    workspace rows, services); ``services`` is used when no tool of the trace can reach the
    workspace (every tool is served by the services, the recording or a simulator), so the
    workspace cannot have changed and only the services are read; ``none`` when nothing was
    captured (see ``reason``).
    """

    captured: bool
    scope: Literal["full", "services", "none"] = "none"
    reason: str | None = Field(default=None, description="Why nothing was captured.")
    error: str | None = Field(
        default=None,
        description="What stopped the capture, when something the agent made did (a full "
        "disk, a file past the caps, a flooded sidecar): evidence, not an infrastructure error.",
    )
    files: list[dict[str, Any]] = Field(default_factory=list)
    rows: list[dict[str, Any]] = Field(default_factory=list)
    new_tables: list[str] = Field(default_factory=list)
    services_rows: list[dict[str, Any]] = Field(default_factory=list)
    services_log: list[dict[str, Any]] = Field(default_factory=list)
    services_log_prefix_entries: int = 0
    capture_notes: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Caps the pod went over and paths capture refused (PodState.capture_notes "
        "dumps): evidence of what the agent did, such as filling the disk.",
    )


class Timings(_Model):
    """Wall seconds spent in each part of the solver (pod start is inspect's sandbox init)."""

    prefix: float = 0.0
    model: float = 0.0
    tools: float = 0.0
    user_simulator: float = 0.0
    capture: float = 0.0
    total: float = 0.0


class ReplayRecord(_Model):
    """Everything a grader needs about one replayed sample."""

    version: int = RECORD_VERSION
    scenario: str
    suite: str
    trace_id: str
    trace_source: TraceSource
    mode: Literal["resample", "rollout", "original"]
    cut: int = Field(description="Message index where the prefix ends.")
    turn: int = Field(description="Agent turn starting at the cut (1-based).")
    tags: list[str] = Field(default_factory=list)
    graders: list[str] = Field(default_factory=list)
    snapshot: str | None = None
    candidate_model: str
    user_simulator: str | None = None
    simulator: str | None = None
    tools: list[str] = Field(default_factory=list, description="Tools offered to the model.")
    schema_changes: dict[str, list[str]] = Field(default_factory=dict)
    chains: dict[str, list[str]] = Field(
        default_factory=dict, description="Backends tried per tool, in order."
    )
    prefix_calls: list[PrefixCall] = Field(default_factory=list)
    prefix_notes: list[str] = Field(
        default_factory=list, description="What the prefix conversion dropped or changed."
    )
    fidelity_warnings: list[str] = Field(default_factory=list)
    original: list[Step] = Field(default_factory=list)
    original_turn_steps: int = 0
    candidate: list[Step] = Field(default_factory=list)
    diverged_at_turn: int | None = Field(
        default=None, description="First agent turn whose tool calls differ from the original."
    )
    divergence: str | None = Field(default=None, description="How that turn differed.")
    stop_reason: StopReason = "turn_end"
    limit: str | None = Field(
        default=None, description="The inspect sample limit that ended the sample (time, ...)."
    )
    provenance_counts: dict[str, int] = Field(default_factory=dict)
    end_state: EndState = Field(default_factory=lambda: EndState(captured=False))
    timings: Timings = Field(default_factory=Timings)


def read_record(sample: Any) -> ReplayRecord:
    """The record of an inspect ``EvalSample`` (or of a ``TaskState``, or a store dict).

    Raises:
        KeyError: the sample carries no replay record (not a deploysim replay sample, or it
            failed before the record was stored).
    """
    store = getattr(sample, "store", sample)
    data = store.get(RECORD_KEY) if hasattr(store, "get") else None
    if data is None:
        raise KeyError(f"no {RECORD_KEY!r} in this sample's store")
    return ReplayRecord.model_validate(data)
