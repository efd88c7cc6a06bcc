"""Production rates: the CSV format, direction accuracy and symmetric multiplicative error."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from deploysim.forecast import (
    CategoryForecast,
    CategoryProvenance,
    Direction,
    ForecastInputError,
    Interval,
    PairedComparison,
    ProductionRate,
    ProvenanceCounts,
    RateEstimate,
    compare_production,
    load_production,
)

from .conftest import DATA

EXAMPLE = DATA / "production.csv"


def _forecast(name: str, ratio: float, direction: Direction) -> CategoryForecast:
    """A category forecast with a chosen ratio and direction (the rest is filler)."""
    rate = RateEstimate(k=1, n=10, rate=1.5 / 11)
    return CategoryForecast(
        name=name,
        baseline=rate,
        candidate=rate,
        ratio=ratio,
        ratio_ci=Interval(ratio / 2, ratio * 2),
        p_value=0.5,
        direction=direction,
        provenance=CategoryProvenance(baseline=ProvenanceCounts(), candidate=ProvenanceCounts()),
        paired=PairedComparison(
            pairs=10, both=0, baseline_only=1, candidate_only=1, neither=8, p_value=1.0
        ),
    )


def test_the_example_file_loads() -> None:
    """The documented example CSV (tests/forecast/data/production.csv) reads as four rows."""
    rows = load_production(EXAMPLE)
    assert [r.category for r in rows] == [
        "destructive_action",
        "secret_access",
        "out_of_scope",
        "exfiltration",
    ]
    assert rows[0] == ProductionRate(
        category="destructive_action", baseline_rate=0.02, candidate_rate=0.045
    )


def test_direction_accuracy_and_errors_on_the_example_file() -> None:
    """Only changed (>= 1.5x) categories count for accuracy; error is max(r1/r2, r2/r1)."""
    forecast = [
        _forecast("destructive_action", 3.0, "up"),  # observed 2.25x up: right
        _forecast("secret_access", 0.5, "no clear change"),  # observed 0.2x down: wrong
        _forecast("out_of_scope", 1.0, "no clear change"),  # observed 1.2x: not changed
        _forecast("privilege_escalation", 1.1, "no clear change"),  # not in production
    ]
    result = compare_production(forecast, load_production(EXAMPLE), path=EXAMPLE)
    by_name = {c.name: c for c in result.categories}
    assert by_name["destructive_action"].observed_ratio == pytest.approx(2.25)
    assert by_name["destructive_action"].correct is True
    assert by_name["secret_access"].observed_direction == "down"
    assert by_name["secret_access"].correct is False
    assert by_name["out_of_scope"].changed is False
    assert by_name["out_of_scope"].correct is None
    assert (result.changed, result.correct, result.direction_accuracy) == (2, 1, 0.5)
    assert by_name["destructive_action"].error == pytest.approx(3.0 / 2.25)
    assert by_name["secret_access"].error == pytest.approx(2.5)
    assert by_name["out_of_scope"].error == pytest.approx(1.2)
    assert result.max_error == pytest.approx(2.5)
    expected_gm = math.exp((math.log(3.0 / 2.25) + math.log(2.5) + math.log(1.2)) / 3)
    assert result.geometric_mean_error == pytest.approx(expected_gm)
    assert result.not_forecast == ["exfiltration"]
    assert result.not_observed == ["privilege_escalation"]
    assert result.path == str(EXAMPLE)


def test_exactly_one_and_a_half_times_counts_as_changed() -> None:
    """0.10 -> 0.15 is a 1.5x change despite 0.15/0.10 == 1.4999999999999998 in floats."""
    row = ProductionRate(category="c", baseline_rate=0.10, candidate_rate=0.15)
    result = compare_production([_forecast("c", 1.6, "up")], [row])
    assert result.categories[0].changed is True
    assert result.direction_accuracy == 1.0


def test_zero_rates_have_a_direction_but_no_error() -> None:
    """From 0 to something is up, to 0 is down, both with undefined error; 0 to 0 is no change."""
    rows = [
        ProductionRate(category="a", baseline_rate=0.0, candidate_rate=0.01),
        ProductionRate(category="b", baseline_rate=0.01, candidate_rate=0.0),
        ProductionRate(category="c", baseline_rate=0.0, candidate_rate=0.0),
    ]
    forecast = [_forecast("a", 4.0, "up"), _forecast("b", 0.3, "down"), _forecast("c", 1.0, "up")]
    result = {c.name: c for c in compare_production(forecast, rows).categories}
    assert (result["a"].observed_direction, result["a"].error) == ("up", None)
    assert (result["b"].observed_direction, result["b"].error) == ("down", None)
    assert (result["c"].changed, result["c"].error) == (False, 1.0)


def test_nothing_changed_gives_no_accuracy() -> None:
    """Without a changed category, direction accuracy is None rather than a made-up number."""
    row = ProductionRate(category="c", baseline_rate=0.1, candidate_rate=0.11)
    assert (
        compare_production([_forecast("c", 1.0, "no clear change")], [row]).direction_accuracy
        is None
    )


@pytest.mark.parametrize(
    ("content", "line", "needle"),
    [
        ("category,baseline_rate\nx,0.1\n", 1, "missing candidate_rate"),
        ("category,baseline_rate,candidate_rate,n\nx,0.1,0.2,5\n", 1, "unknown n"),
        ("category,baseline_rate,candidate_rate\nx,0.1,1.5\n", 2, "less than or equal to 1"),
        ("category,baseline_rate,candidate_rate\nx,0.1,lots\n", 2, "valid number"),
        ("category,baseline_rate,candidate_rate\nx,0.1,0.2\nx,0.1,0.3\n", 3, "already on line 2"),
    ],
)
def test_bad_csv_names_file_line_and_problem(
    tmp_path: Path, content: str, line: int, needle: str
) -> None:
    """Each malformed production file raises ForecastInputError with its line and reason."""
    path = tmp_path / "rates.csv"
    path.write_text(content)
    with pytest.raises(ForecastInputError) as caught:
        load_production(path)
    assert caught.value.line == line
    assert needle in str(caught.value)
    assert str(path) in str(caught.value)
