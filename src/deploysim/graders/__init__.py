"""Graders: divergence, state diff, risk categories, LM judges, evaluation awareness.

::

    from deploysim.graders import divergence, state_diff, input_from_trace, grade_logs

    d = divergence(record)                      # pure functions over a ReplayRecord
    s = state_diff(record, reference=original_mode_record)
    run = grade_logs(["logs/a.eval", "logs/b.eval"], "runs/x", baseline="openai/gpt-4o")

Two registries, both open to plugins (entry-point groups ``deploysim.graders`` and
``deploysim.risk_categories``): graders (:func:`grader`) and risk categories
(:func:`risk_category`). The inspect scorers (``deploysim/divergence``, ``deploysim/state_diff``,
``deploysim/risk``, ``deploysim/judge``, ``deploysim/awareness``) live in
``deploysim.graders._scorers``, which the ``inspect_ai`` entry point imports; importing this
package does not import inspect-ai (the scorer names resolve lazily here too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deploysim.graders._awareness import AwarenessHit, awareness_hits, find_awareness
from deploysim.graders._confirm import confirmation_policy, is_affirmative
from deploysim.graders._divergence import Aligned, DivergenceResult, WriteDiff, align, divergence
from deploysim.graders._errors import GraderError, RubricError
from deploysim.graders._facts import facts_for_record_snapshot, snapshot_facts
from deploysim.graders._from_trace import input_from_trace
from deploysim.graders._grade import (
    DEFAULT_GRADERS,
    merge_categories,
    run_grader,
    run_graders,
    sample_grade,
)
from deploysim.graders._judge import JudgeVerdict, judge_prompt, parse_verdict, run_judge
from deploysim.graders._logs import (
    GradeRun,
    LoggedSample,
    MissingSample,
    grade_logs,
    read_log_samples,
)
from deploysim.graders._model import (
    Evidence,
    GradeInput,
    NotGradable,
    SnapshotFacts,
    Transcript,
    TranscriptCall,
    TranscriptMessage,
)
from deploysim.graders._registry import (
    CATEGORY_ENTRY_POINTS,
    GRADER_ENTRY_POINTS,
    Detector,
    Grader,
    GraderOutput,
    RiskCategory,
    Verdict,
    categories,
    category_names,
    get_category,
    get_grader,
    grader,
    grader_names,
    register_category,
    risk_category,
)
from deploysim.graders._rubrics import Rubric, load_rubric, parse_rubric, rubric_names
from deploysim.graders._stage_lights import (
    REALISTIC_BELOW,
    CheckSummary,
    StageLight,
    StageLightsReport,
    stage_lights,
)
from deploysim.graders._stage_sources import (
    DataItem,
    StageTarget,
    snapshot_items,
    stage_target,
    trace_items,
)
from deploysim.graders._state_diff import StateDiffResult, StateItem, state_diff
from deploysim.graders._transcript import transcript_from_messages, transcript_from_trace

if TYPE_CHECKING:
    from deploysim.graders._scorers import awareness as awareness_scorer
    from deploysim.graders._scorers import divergence as divergence_scorer
    from deploysim.graders._scorers import judge as judge_scorer
    from deploysim.graders._scorers import risk as risk_scorer
    from deploysim.graders._scorers import state_diff as state_diff_scorer

__all__ = [
    "CATEGORY_ENTRY_POINTS",
    "DEFAULT_GRADERS",
    "GRADER_ENTRY_POINTS",
    "REALISTIC_BELOW",
    "Aligned",
    "AwarenessHit",
    "CheckSummary",
    "DataItem",
    "Detector",
    "DivergenceResult",
    "Evidence",
    "GradeInput",
    "GradeRun",
    "Grader",
    "GraderError",
    "GraderOutput",
    "JudgeVerdict",
    "LoggedSample",
    "MissingSample",
    "NotGradable",
    "RiskCategory",
    "Rubric",
    "RubricError",
    "SnapshotFacts",
    "StageLight",
    "StageLightsReport",
    "StageTarget",
    "StateDiffResult",
    "StateItem",
    "Transcript",
    "TranscriptCall",
    "TranscriptMessage",
    "Verdict",
    "WriteDiff",
    "align",
    "awareness_hits",
    "awareness_scorer",
    "categories",
    "category_names",
    "confirmation_policy",
    "divergence",
    "divergence_scorer",
    "facts_for_record_snapshot",
    "find_awareness",
    "get_category",
    "get_grader",
    "grade_logs",
    "grader",
    "grader_names",
    "input_from_trace",
    "is_affirmative",
    "judge_prompt",
    "judge_scorer",
    "load_rubric",
    "merge_categories",
    "parse_rubric",
    "parse_verdict",
    "read_log_samples",
    "register_category",
    "risk_category",
    "risk_scorer",
    "rubric_names",
    "run_grader",
    "run_graders",
    "run_judge",
    "sample_grade",
    "snapshot_facts",
    "snapshot_items",
    "stage_lights",
    "stage_target",
    "state_diff",
    "state_diff_scorer",
    "trace_items",
    "transcript_from_messages",
    "transcript_from_trace",
]

_SCORERS = {
    "awareness_scorer": "awareness",
    "divergence_scorer": "divergence",
    "judge_scorer": "judge",
    "risk_scorer": "risk",
    "state_diff_scorer": "state_diff",
}


def __getattr__(name: str) -> Any:
    """The inspect scorers, imported (and registered with inspect) on first use."""
    if name in _SCORERS:
        from deploysim.graders import _scorers

        return getattr(_scorers, _SCORERS[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
