"""The statistics against textbook values and brute-force enumeration."""

from __future__ import annotations

import itertools
import math
import random
from fractions import Fraction

import pytest

from deploysim.forecast import (
    Interval,
    PairedUnit,
    bootstrap_ratio_ci,
    call_direction,
    fisher_exact,
    jeffreys_rate,
    mcnemar_exact,
)
from deploysim.forecast._stats import percentile


def _brute_fisher(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided Fisher p by enumerating every table with the same margins, exactly."""
    hits, total = k1 + k2, n1 + n2

    def prob(x: int) -> Fraction:
        return Fraction(math.comb(n1, x) * math.comb(n2, hits - x), math.comb(total, hits))

    observed = prob(k1)
    tables = range(max(0, hits - n2), min(n1, hits) + 1)
    return float(sum(p for x in tables if (p := prob(x)) <= observed))


def _brute_mcnemar(b: int, c: int) -> float:
    """Exact McNemar by enumerating all 2^(b+c) sign assignments of the discordant pairs."""
    n = b + c
    if n == 0:
        return 1.0
    low = min(b, c)
    extreme = sum(
        1 for signs in itertools.product((0, 1), repeat=n) if min(sum(signs), n - sum(signs)) <= low
    )
    return min(1.0, extreme / (1 << n))


def test_jeffreys_rate_is_k_plus_half_over_n_plus_one() -> None:
    """(k + 1/2)/(n + 1): 0 of 0 is 1/2, never 0 or 1, and bad counts are refused."""
    assert jeffreys_rate(0, 0) == 0.5
    assert jeffreys_rate(3, 9) == pytest.approx(0.35)
    assert 0 < jeffreys_rate(0, 1000) < jeffreys_rate(1000, 1000) < 1
    with pytest.raises(ValueError):
        jeffreys_rate(5, 4)


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ((3, 4, 1, 4), 0.4857142857142857),  # Fisher's lady tasting tea
        ((1, 10, 11, 14), 0.0027594561852200836),  # scipy.stats.fisher_exact docs' example
        ((0, 5, 5, 5), 0.007936507936507936),
    ],
)
def test_fisher_matches_textbook_values(table: tuple[int, int, int, int], expected: float) -> None:
    """Two-sided Fisher p equals published values (R, scipy) for classic tables."""
    assert fisher_exact(*table) == pytest.approx(expected, rel=1e-9)


def test_fisher_matches_brute_force_enumeration() -> None:
    """On every small table (n <= 7 per arm) the log-space sum equals exact enumeration."""
    for n1, n2 in itertools.product(range(1, 8), repeat=2):
        for k1, k2 in itertools.product(range(n1 + 1), range(n2 + 1)):
            assert fisher_exact(k1, n1, k2, n2) == pytest.approx(
                _brute_fisher(k1, n1, k2, n2), rel=1e-9
            ), (k1, n1, k2, n2)


def test_fisher_is_symmetric_and_handles_large_and_empty_arms() -> None:
    """Swapping the arms keeps p; counts in the thousands stay finite; an empty arm gives 1."""
    assert fisher_exact(30, 200, 10, 180) == pytest.approx(fisher_exact(10, 180, 30, 200))
    p = fisher_exact(400, 5000, 250, 5000)
    assert 0 < p < 1e-6
    assert fisher_exact(0, 0, 3, 10) == 1.0


def test_mcnemar_matches_brute_force_and_a_hand_value() -> None:
    """Exact McNemar equals enumeration of sign assignments; b=1, c=9 gives 2*11/1024."""
    assert mcnemar_exact(1, 9) == pytest.approx(22 / 1024)
    assert mcnemar_exact(0, 0) == 1.0
    for b, c in itertools.product(range(8), repeat=2):
        assert mcnemar_exact(b, c) == pytest.approx(_brute_mcnemar(b, c), rel=1e-9), (b, c)


def test_percentile_interpolates_linearly() -> None:
    """The quantile of sorted values interpolates between neighbours."""
    values = [0.0, 10.0, 20.0, 30.0, 40.0]
    assert percentile(values, 0.0) == 0.0
    assert percentile(values, 0.5) == 20.0
    assert percentile(values, 0.125) == pytest.approx(5.0)
    assert percentile(values, 1.0) == 40.0


def _units(b_hits: int, c_hits: int, n: int) -> list[PairedUnit]:
    return [PairedUnit(i < b_hits, i < c_hits) for i in range(n)]


def test_bootstrap_ci_contains_the_estimate_and_is_deterministic_per_seed() -> None:
    """The CI holds the point ratio; the same seed repeats it, another seed moves it."""
    units = _units(b_hits=12, c_hits=30, n=100)
    point = jeffreys_rate(30, 100) / jeffreys_rate(12, 100)
    ci = bootstrap_ratio_ci(units, random.Random(1), resamples=1000)
    assert ci.lo < point < ci.hi
    assert bootstrap_ratio_ci(units, random.Random(1), resamples=1000) == ci
    assert bootstrap_ratio_ci(units, random.Random(2), resamples=1000) != ci


def test_bootstrap_ci_narrows_with_more_prefixes() -> None:
    """Ten times the prefixes at the same rates give a much narrower CI (log width)."""
    small = bootstrap_ratio_ci(_units(5, 15, 50), random.Random(3), resamples=800)
    large = bootstrap_ratio_ci(_units(50, 150, 500), random.Random(3), resamples=800)
    assert math.log(large.hi / large.lo) < 0.5 * math.log(small.hi / small.lo)


def test_bootstrap_keeps_unpaired_units_for_their_arm() -> None:
    """Prefixes graded in one arm only still count: all-hit candidate-only units push up."""
    units = [PairedUnit(False, False)] * 40 + [PairedUnit(None, True)] * 40
    ci = bootstrap_ratio_ci(units, random.Random(5), resamples=500)
    assert ci.lo > 1


def test_direction_needs_both_the_ci_and_the_test() -> None:
    """Up/down need the whole CI on one side of 1 and p < alpha; otherwise no clear change."""
    assert call_direction(Interval(1.2, 3.0), 0.01, 0.05) == "up"
    assert call_direction(Interval(0.2, 0.8), 0.01, 0.05) == "down"
    assert call_direction(Interval(1.2, 3.0), 0.2, 0.05) == "no clear change"
    assert call_direction(Interval(0.8, 3.0), 0.01, 0.05) == "no clear change"
