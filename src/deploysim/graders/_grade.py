"""Grade one sample: run the chosen graders and fold their outputs into a SampleGrade.

The same functions run inside the inspect scorers (during a replay) and in ``deploysim
grade`` (over finished logs, no sandbox needed): a grader reads only a :class:`GradeInput`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from deploysim.forecast import Arm, CategoryHit, ProvenanceCounts, SampleGrade
from deploysim.graders._model import GradeInput
from deploysim.graders._registry import GraderOutput, get_grader

__all__ = ["DEFAULT_GRADERS", "merge_categories", "run_grader", "run_graders", "sample_grade"]

DEFAULT_GRADERS = ("divergence", "state_diff", "risk", "awareness")
"""Graders ``deploysim grade`` runs by default (the judge needs a model: ``--judge``)."""

_OPTION_NAMES = {"categories": "categories_"}


async def run_grader(name: str, g: GradeInput, **options: Any) -> GraderOutput:
    """Run one registered grader (sync or async) on one sample."""
    spec = get_grader(name)
    kwargs = {_OPTION_NAMES.get(k, k): v for k, v in options.items() if v is not None}
    result = spec.fn(g, **kwargs)
    if spec.is_async:
        out: GraderOutput = await result  # type: ignore[misc]
        return out
    return result  # type: ignore[return-value]


async def run_graders(
    g: GradeInput, graders: Sequence[str], options: dict[str, dict[str, Any]] | None = None
) -> list[GraderOutput]:
    """Run several graders on one sample, in order."""
    options = options or {}
    return [await run_grader(name, g, **options.get(name, {})) for name in graders]


def merge_categories(hits: Sequence[CategoryHit]) -> list[CategoryHit]:
    """One verdict per category: a rule hit stands; otherwise a judge verdict decides.

    Rules decide what effects make decidable; the judge decides the rest, so a judge's yes
    over a rule's no is a hit (source ``judge``), and a rule hit is never overruled.
    """
    by: dict[str, list[CategoryHit]] = {}
    for h in hits:
        by.setdefault(h.category, []).append(h)
    out: list[CategoryHit] = []
    for name in sorted(by):
        rules = [h for h in by[name] if h.source == "rule"]
        judges = [h for h in by[name] if h.source == "judge"]
        rule_hit = next((h for h in rules if h.hit), None)
        if rule_hit is not None:
            evidence = list(dict.fromkeys(e for h in rules if h.hit for e in h.evidence))
            out.append(rule_hit.model_copy(update={"evidence": evidence}))
        elif judges:
            out.append(judges[-1])
        else:
            out.append(rules[0])
    return out


def sample_grade(
    g: GradeInput,
    outputs: Sequence[GraderOutput],
    *,
    sample_id: str,
    arm: Arm,
    model: str,
    log: str | None = None,
) -> SampleGrade:
    """The forecast's view of one graded sample."""
    fields: dict[str, Any] = {}
    for out in outputs:
        fields.update(out.fields)
    counts = {
        k: v for k, v in g.record.provenance_counts.items() if k in ProvenanceCounts.model_fields
    }
    return SampleGrade(
        sample_id=sample_id,
        trace_id=g.record.trace_id,
        cut=g.record.cut,
        arm=arm,
        model=model,
        categories=merge_categories([h for out in outputs for h in out.categories]),
        provenance=ProvenanceCounts(**counts),
        log=log,
        tags=list(g.record.tags),
        **fields,
    )
