"""The graders as inspect scorers (``deploysim/divergence``, ``deploysim/risk``...).

The five scorers: ``deploysim/divergence``, ``deploysim/state_diff``, ``deploysim/risk``,
``deploysim/judge``, ``deploysim/awareness``.

Each is a thin wrapper: it reads the sample's replay record from the store and its
conversation from the task state, runs the grader (the same function ``deploysim grade``
runs over logs) and returns a Score with the grader's values, explanation and metadata
(category verdicts with evidence, SampleGrade fields), or no score for a sample without a
replay record (one that failed before the solver stored it). Importing this module
registers them.

``state_diff`` compares with the original's end state only when given the ``original``-mode
log of the same scenario (``reference=``); a scorer runs inside one eval, where the other
run's pods are not available, so otherwise it itemizes the end state against the pod's start
and says so in the explanation. ``deploysim grade`` pairs the runs itself.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from inspect_ai.scorer import Score, Scorer, Target, mean, scorer, stderr
from inspect_ai.solver import TaskState

from deploysim.graders._facts import facts_for_record_snapshot
from deploysim.graders._grade import run_grader
from deploysim.graders._model import GradeInput, checked_record
from deploysim.graders._transcript import transcript_from_messages
from deploysim.replay import RECORD_KEY, ReplayRecord

__all__ = ["awareness", "divergence", "judge", "risk", "state_diff"]


@lru_cache(maxsize=4)
def _references(path: str) -> dict[str, ReplayRecord]:
    from inspect_ai.log import read_eval_log

    log = read_eval_log(path)
    return {
        str(s.id): ReplayRecord.model_validate(s.store[RECORD_KEY])
        for s in log.samples or []
        if s.error is None and RECORD_KEY in (s.store or {})
    }


def _input(state: TaskState, reference: str | None = None) -> GradeInput | None:
    data = state.store.get(RECORD_KEY)
    if data is None:
        return None
    record = checked_record(data, f"sample {state.sample_id}")
    prefix = len(state.input) if isinstance(state.input, list) else 1
    return GradeInput(
        record=record,
        transcript=transcript_from_messages(state.messages, prefix),
        reference=_references(reference).get(str(state.sample_id)) if reference else None,
        snapshot=facts_for_record_snapshot(record.snapshot),
    )


def _score(name: str, reference: str | None = None, **options: Any) -> Scorer:
    async def score(state: TaskState, target: Target) -> Score | None:
        g = _input(state, reference)
        if g is None:
            # No record: the sample failed before the solver stored one (re-scoring a log
            # scores errored samples too). Not graded, and never counted as behaviour.
            return None
        out = await run_grader(name, g, **options)
        return Score(
            value=dict(out.value),
            explanation=out.explanation,
            metadata={
                "categories": [c.model_dump() for c in out.categories],
                "fields": out.fields,
                "details": out.metadata,
            },
        )

    return score


@scorer(
    metrics={
        "diverged": [mean(), stderr()],
        "distance": [mean()],
        "extra_writes": [mean()],
        "missing_writes": [mean()],
        "reordered_writes": [mean()],
    },
    name="divergence",
)
def divergence() -> Scorer:
    """Divergence from the original: alignment of calls, extra/missing/reordered writes."""
    return _score("divergence")


@scorer(metrics={"differences": [mean()], "against_original": [mean()]}, name="state_diff")
def state_diff(reference: str | None = None) -> Scorer:
    """End-state diff; against the original's when ``reference`` (an original-mode log) is given.

    Args:
        reference: path of the ``original``-mode replay log of the same scenario.
    """
    return _score("state_diff", reference=reference)


@scorer(metrics={"hits": [mean(), stderr()], "graded": [mean()]}, name="risk")
def risk(categories: list[str] | None = None) -> Scorer:
    """Rule-based risk categories (every registered one, or ``categories``).

    Args:
        categories: category names to grade (default: all registered).
    """
    return _score("risk", categories=categories)


@scorer(metrics={"hits": [mean(), stderr()], "judged": [mean()]}, name="judge")
def judge(
    model: str | None = None, categories: list[str] | None = None, rubric_dir: str | None = None
) -> Scorer:
    """LM-judge verdicts per category rubric (the ``grader`` model role when ``model`` is None).

    Args:
        model: grader model (any inspect model name).
        categories: categories to judge (default: those that need a judge and have a rubric).
        rubric_dir: folder of rubric files searched before the built-in ones.
    """
    return _score("judge", model=model, categories=categories, rubric_dir=rubric_dir)


@scorer(metrics={"verbalized": [mean(), stderr()], "stage_lights": [mean()]}, name="awareness")
def awareness() -> Scorer:
    """Verbalized evaluation awareness, and the stage lights of the sample's data."""
    return _score("awareness")
