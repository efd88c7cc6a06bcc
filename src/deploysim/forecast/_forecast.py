"""From a run's grades to a :class:`Forecast`: one chain of named steps per category."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from deploysim.forecast._errors import ForecastInputError
from deploysim.forecast._load import duplicate_samples
from deploysim.forecast._model import Arm, ProvenanceCounts, SampleGrade
from deploysim.forecast._production import ProductionRate, compare_production
from deploysim.forecast._result import (
    ArmCounts,
    ArmModels,
    CategoryForecast,
    CategoryProvenance,
    Direction,
    Forecast,
    ForecastSettings,
    InfrastructureFailures,
    PairedComparison,
    RateEstimate,
)
from deploysim.forecast._stats import (
    Interval,
    PairedUnit,
    bootstrap_ratio_ci,
    fisher_exact,
    jeffreys_rate,
    mcnemar_exact,
)

__all__ = ["DIRECTION_RULE", "call_direction", "category_seed", "compute_forecast"]

DIRECTION_RULE = (
    "up: the ratio CI lies wholly above 1 and Fisher p < alpha; "
    "down: the CI lies wholly below 1 and p < alpha; otherwise no clear change"
)
_GRADES = "<grades>"


class Prefix(NamedTuple):
    """The simulated prefix both arms are replayed from."""

    trace_id: str
    cut: int


class _ArmVerdicts(NamedTuple):
    """One arm's verdicts on one category, by prefix, and the provenance behind them."""

    hits: dict[Prefix, bool]
    provenance: ProvenanceCounts


def call_direction(interval: Interval, p_value: float, alpha: float) -> Direction:
    """The direction rule (:data:`DIRECTION_RULE`): both the CI and the test must agree."""
    if p_value < alpha and interval.lo > 1:
        return "up"
    if p_value < alpha and interval.hi < 1:
        return "down"
    return "no clear change"


def _run_digest(grades: Iterable[SampleGrade]) -> str:
    # Sorted, so the order of lines in the grades file does not change the seed.
    ids = sorted(f"{g.arm}\t{g.model}\t{g.sample_id}" for g in grades)
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()


def category_seed(base: int | str, category: str) -> int:
    """The bootstrap seed of one category: adding a category leaves the others' CIs alone."""
    digest = hashlib.sha256(f"{base}:{category}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _check(grades: Sequence[SampleGrade]) -> ArmModels:
    if not grades:
        raise ForecastInputError(_GRADES, "no grades")
    models: dict[Arm, set[str]] = {"baseline": set(), "candidate": set()}
    for grade in grades:
        models[grade.arm].add(grade.model)
    for arm, names in models.items():
        if not names:
            raise ForecastInputError(
                _GRADES, f"no {arm} samples: the forecast compares candidate and baseline replays"
            )
        if len(names) > 1:
            raise ForecastInputError(
                _GRADES, f"the {arm} arm mixes models {', '.join(sorted(names))}; use one per arm"
            )
    for dup in duplicate_samples(grades):
        first, second = grades[dup.first], grades[dup.second]
        raise ForecastInputError(
            _GRADES,
            f"{second.arm} sample {second.sample_id!r} graded twice (as {first.sample_id!r})",
        )
    return ArmModels(baseline=min(models["baseline"]), candidate=min(models["candidate"]))


def _add(a: ProvenanceCounts, b: ProvenanceCounts) -> ProvenanceCounts:
    return ProvenanceCounts(
        live=a.live + b.live,
        recorded=a.recorded + b.recorded,
        emulated=a.emulated + b.emulated,
        unavailable=a.unavailable + b.unavailable,
    )


def _verdicts(grades: Iterable[SampleGrade], arm: Arm, category: str) -> _ArmVerdicts:
    hits: dict[Prefix, bool] = {}
    provenance = ProvenanceCounts()
    for grade in grades:
        if grade.arm != arm:
            continue
        verdicts = [h.hit for h in grade.categories if h.category == category]
        if not verdicts:
            continue  # a sample without a verdict on this category was not graded for it
        hits[Prefix(grade.trace_id, grade.cut)] = any(verdicts)
        provenance = _add(provenance, grade.provenance)
    return _ArmVerdicts(hits, provenance)


def _rate(hits: dict[Prefix, bool]) -> RateEstimate:
    k, n = sum(hits.values()), len(hits)
    return RateEstimate(k=k, n=n, rate=jeffreys_rate(k, n))


def _paired(units: Sequence[PairedUnit]) -> PairedComparison:
    pairs = [u for u in units if u.baseline is not None and u.candidate is not None]
    baseline_only = sum(1 for u in pairs if u.baseline and not u.candidate)
    candidate_only = sum(1 for u in pairs if u.candidate and not u.baseline)
    return PairedComparison(
        pairs=len(pairs),
        both=sum(1 for u in pairs if u.baseline and u.candidate),
        baseline_only=baseline_only,
        candidate_only=candidate_only,
        neither=sum(1 for u in pairs if not u.baseline and not u.candidate),
        p_value=mcnemar_exact(baseline_only, candidate_only),
    )


def _category(
    name: str, grades: Sequence[SampleGrade], seed: int, settings: ForecastSettings
) -> CategoryForecast:
    base = _verdicts(grades, "baseline", name)
    cand = _verdicts(grades, "candidate", name)
    prefixes = sorted(base.hits.keys() | cand.hits.keys())
    units = [PairedUnit(base.hits.get(p), cand.hits.get(p)) for p in prefixes]
    baseline, candidate = _rate(base.hits), _rate(cand.hits)
    p_value = fisher_exact(candidate.k, candidate.n, baseline.k, baseline.n)
    interval = bootstrap_ratio_ci(
        units, random.Random(seed), resamples=settings.resamples, confidence=settings.confidence
    )
    return CategoryForecast(
        name=name,
        baseline=baseline,
        candidate=candidate,
        ratio=candidate.rate / baseline.rate,
        ratio_ci=interval,
        p_value=p_value,
        direction=call_direction(interval, p_value, settings.alpha),
        provenance=CategoryProvenance(baseline=base.provenance, candidate=cand.provenance),
        paired=_paired(units),
    )


def compute_forecast(
    grades: Sequence[SampleGrade],
    *,
    production: Sequence[ProductionRate] | None = None,
    production_path: str | Path | None = None,
    seed: int | None = None,
    resamples: int = 2000,
    confidence: float = 0.95,
    alpha: float = 0.05,
) -> Forecast:
    """Forecast every graded risk category from a run's grades.

    Samples with ``infrastructure_error`` set are left out of every rate and counted in
    ``infrastructure_failures``. The bootstrap is seeded per category from ``seed`` or, when
    None, from the identities of the samples, so the same grades give the same forecast.

    Raises:
        ForecastInputError: no grades, an arm without samples or with several models, or a
            prefix graded twice in one arm.
    """
    models = _check(grades)
    used = [g for g in grades if g.infrastructure_error is None]
    failed = [g for g in grades if g.infrastructure_error is not None]
    settings = ForecastSettings(
        seed=seed,
        resamples=resamples,
        confidence=confidence,
        alpha=alpha,
        direction_rule=DIRECTION_RULE,
    )
    base_seed: int | str = seed if seed is not None else _run_digest(grades)
    names = sorted({hit.category for g in used for hit in g.categories})
    categories = [_category(n, used, category_seed(base_seed, n), settings) for n in names]
    return Forecast(
        categories=categories,
        production=(
            compare_production(categories, production, path=production_path)
            if production is not None
            else None
        ),
        models=models,
        samples=ArmCounts(
            baseline=sum(1 for g in used if g.arm == "baseline"),
            candidate=sum(1 for g in used if g.arm == "candidate"),
        ),
        infrastructure_failures=InfrastructureFailures(
            baseline=sum(1 for g in failed if g.arm == "baseline"),
            candidate=sum(1 for g in failed if g.arm == "candidate"),
            samples=sorted(f"{g.arm}:{g.sample_id}" for g in failed),
        ),
        settings=settings,
    )
