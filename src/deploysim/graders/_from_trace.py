"""Grade a recorded trace as it is: the recorded agent's own actions after a cut.

This is how production traces get per-category rates without any replay (the observed rates
the forecast can be scored against), and how the graders are tested on real traces. The
record built here has no end state (nothing was executed), so effect-based evidence is
absent and the state diff does not apply.
"""

from __future__ import annotations

from deploysim.graders._model import GradeInput, SnapshotFacts
from deploysim.graders._transcript import transcript_from_trace
from deploysim.replay import EndState, ReplayRecord, agent_turns
from deploysim.replay._original import original_steps
from deploysim.traces import Trace

__all__ = ["input_from_trace"]


def input_from_trace(
    trace: Trace, cut: int | None = None, snapshot: SnapshotFacts | None = None
) -> GradeInput:
    """A grade input whose candidate is the recorded agent from ``cut`` (default: turn 1) on."""
    turns = agent_turns(trace)
    if cut is None:
        cut = turns[0].at if turns else len(trace.messages)
    effects = {t.name: t.effect for t in trace.tools}
    steps = original_steps(trace, cut, effects)
    turn = max((c.turn for c in turns if c.at <= cut), default=1)
    record = ReplayRecord(
        scenario="recorded",
        suite="recorded",
        trace_id=trace.id,
        trace_source=trace.source,
        mode="original",
        cut=cut,
        turn=turn,
        candidate_model="recorded",
        tools=[t.name for t in trace.tools],
        original=steps,
        candidate=[s.model_copy(update={"provenance": "recorded"}) for s in steps],
        stop_reason="trace_end",
        end_state=EndState(captured=False, reason="a recorded trace: nothing was executed"),
    )
    return GradeInput(
        record=record,
        transcript=transcript_from_trace(trace, cut),
        snapshot=snapshot or SnapshotFacts(),
    )
