"""compute_forecast on hand-checked and synthetic runs."""

from __future__ import annotations

import json
import random

import pytest

from deploysim.forecast import (
    DIRECTION_RULE,
    ForecastInputError,
    ProvenanceCounts,
    SampleGrade,
    compute_forecast,
    fisher_exact,
    jeffreys_rate,
    load_grades,
    mcnemar_exact,
)

from .conftest import DATA, DESIGN, MODELS, grade

SPEC_TOP = {"categories", "production"}
SPEC_CATEGORY = {
    "name",
    "baseline",
    "candidate",
    "ratio",
    "ratio_ci",
    "p_value",
    "direction",
    "provenance",
}
# Documented additions (docs/forecast.md): the paired comparison, and run-level facts.
EXTRA_TOP = {"models", "samples", "infrastructure_failures", "settings"}
EXTRA_CATEGORY = {"paired"}


def _hand_run() -> list[SampleGrade]:
    """Four paired prefixes, one candidate-only prefix, one failed baseline sample."""
    cells = [(True, True), (False, True), (False, True), (True, False)]
    out = []
    for i, (b, c) in enumerate(cells):
        out.append(grade(f"t{i}", 3, "baseline", {"x": b}, provenance=ProvenanceCounts(live=2)))
        out.append(
            grade(f"t{i}", 3, "candidate", {"x": c}, provenance=ProvenanceCounts(emulated=1))
        )
    out.append(grade("t9", 3, "candidate", {"x": True}))
    out.append(grade("t9", 3, "baseline", {"x": False}, infrastructure_error="engine down"))
    return out


def test_hand_checked_rates_pairs_tests_and_provenance() -> None:
    """Counts, Jeffreys rates, Fisher and McNemar p and summed provenance match hand values."""
    forecast = compute_forecast(_hand_run(), resamples=200)
    (x,) = forecast.categories
    assert (x.baseline.k, x.baseline.n, x.candidate.k, x.candidate.n) == (2, 4, 4, 5)
    assert x.baseline.rate == jeffreys_rate(2, 4)
    assert x.ratio == pytest.approx(jeffreys_rate(4, 5) / jeffreys_rate(2, 4))
    assert x.p_value == pytest.approx(fisher_exact(4, 5, 2, 4))
    paired = x.paired
    assert (paired.pairs, paired.both, paired.baseline_only, paired.candidate_only) == (4, 1, 1, 2)
    assert paired.neither == 0
    assert paired.p_value == pytest.approx(mcnemar_exact(1, 2))
    assert x.provenance.baseline == ProvenanceCounts(live=8)
    assert x.provenance.candidate == ProvenanceCounts(emulated=4)
    failures = forecast.infrastructure_failures
    assert (failures.baseline, failures.candidate) == (1, 0)
    assert failures.samples == ["baseline:t9@3"]
    assert forecast.samples.baseline == 4 and forecast.samples.candidate == 5


def test_synthetic_run_directions_follow_the_design(run_grades: list[SampleGrade]) -> None:
    """A 4x rise is 'up', a 7x fall 'down', equal rates 'no clear change' (150 prefixes)."""
    forecast = compute_forecast(run_grades)
    expected = {
        "destructive_action": "up",
        "secret_access": "down",
        "out_of_scope": "no clear change",
    }
    assert {c.name: c.direction for c in forecast.categories} == expected
    assert [c.name for c in forecast.categories] == sorted(DESIGN)
    for item in forecast.categories:
        assert item.ratio_ci.lo <= item.ratio <= item.ratio_ci.hi
    assert forecast.models.baseline == MODELS["baseline"]
    assert forecast.settings.direction_rule == DIRECTION_RULE


def test_forecast_does_not_depend_on_line_order(run_grades: list[SampleGrade]) -> None:
    """The derived seed comes from sample identities, so shuffled grades give equal CIs."""
    shuffled = list(run_grades)
    random.Random(0).shuffle(shuffled)
    a = compute_forecast(run_grades, resamples=300)
    b = compute_forecast(shuffled, resamples=300)
    assert a == b
    c = compute_forecast(run_grades, resamples=300, seed=12345)
    assert [x.ratio_ci for x in c.categories] != [x.ratio_ci for x in a.categories]
    assert c.settings.seed == 12345


def test_json_has_the_specified_shape(run_grades: list[SampleGrade]) -> None:
    """Keys as specified (plus the documented additions), ratio_ci a pair, strict JSON."""
    doc = compute_forecast(run_grades, resamples=200).to_json()
    json.dumps(doc, allow_nan=False)  # NaN or Infinity would not be JSON
    assert set(doc) == SPEC_TOP | EXTRA_TOP
    assert doc["production"] is None
    for item in doc["categories"]:
        assert set(item) == SPEC_CATEGORY | EXTRA_CATEGORY
        for arm in ("baseline", "candidate"):
            assert set(item[arm]) == {"k", "n", "rate"}
            assert set(item["provenance"][arm]) == {"live", "recorded", "emulated", "unavailable"}
        assert set(item["provenance"]) == {"baseline", "candidate"}
        lo, hi = item["ratio_ci"]
        assert isinstance(lo, float) and isinstance(hi, float) and lo <= hi
        assert item["direction"] in {"up", "down", "no clear change"}
        assert 0 <= item["p_value"] <= 1


def test_samples_without_a_verdict_are_not_counted() -> None:
    """A sample that carries no verdict on a category is outside that category's n."""
    grades = [
        grade("a", 1, "baseline", {"x": True, "y": False}),
        grade("a", 1, "candidate", {"x": True}),
    ]
    forecast = compute_forecast(grades, resamples=100)
    assert forecast.category("y").candidate.n == 0
    assert forecast.category("y").paired.pairs == 0
    assert forecast.category("x").paired.both == 1


def test_mixed_models_and_missing_arm_are_refused() -> None:
    """One model per arm, both arms present; otherwise a ForecastInputError says which."""
    base = grade("a", 1, "baseline", {"x": True})
    with pytest.raises(ForecastInputError, match="no candidate samples"):
        compute_forecast([base])
    other = grade("b", 1, "candidate", {"x": True}, model="other")
    mixed = [base, grade("a", 1, "candidate", {"x": True}), other]
    with pytest.raises(ForecastInputError, match="mixes models"):
        compute_forecast(mixed)
    with pytest.raises(ForecastInputError, match="graded twice"):
        compute_forecast([base, base, grade("a", 1, "candidate", {})])


def test_the_example_run_excludes_its_infrastructure_failure() -> None:
    """The documented example: the failed candidate sample is counted apart, not as a miss."""
    forecast = compute_forecast(load_grades(DATA / "grades.jsonl").grades, resamples=200)
    assert forecast.infrastructure_failures.candidate == 1
    destructive = forecast.category("destructive_action")
    assert (destructive.candidate.k, destructive.candidate.n) == (1, 2)
    assert destructive.provenance.candidate.emulated == 1
    assert destructive.provenance.candidate.unavailable == 0
