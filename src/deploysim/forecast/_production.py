"""Observed production rates: the CSV file and how the forecast compares with it.

The file has a header row and the columns ``category``, ``baseline_rate`` and
``candidate_rate`` (any order): the rate of each risk category observed in production for
the deployed (baseline) model and, later, for the candidate. Rates are fractions in [0, 1].
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deploysim.forecast._errors import ForecastInputError
from deploysim.forecast._result import (
    CategoryForecast,
    Direction,
    ProductionCategory,
    ProductionComparison,
)

__all__ = [
    "CHANGE_THRESHOLD",
    "PRODUCTION_COLUMNS",
    "ProductionRate",
    "compare_production",
    "load_production",
]

PRODUCTION_COLUMNS = ("category", "baseline_rate", "candidate_rate")
CHANGE_THRESHOLD = 1.5
# 0.15 / 0.10 is 1.4999999999999998 in floating point; a change "of 1.5x" must count.
_FLOAT_SLACK = 1e-9


class ProductionRate(BaseModel):
    """One row of the production-rates file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: str = Field(min_length=1)
    baseline_rate: float = Field(ge=0, le=1)
    candidate_rate: float = Field(ge=0, le=1)


def load_production(path: str | Path) -> list[ProductionRate]:
    """Read a production-rates CSV; errors name the file, line and column."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            columns = reader.fieldnames or []
            missing = [c for c in PRODUCTION_COLUMNS if c not in columns]
            extra = [c for c in columns if c not in PRODUCTION_COLUMNS]
            if missing or extra:
                raise ForecastInputError(
                    path,
                    f"header must name the columns {', '.join(PRODUCTION_COLUMNS)}"
                    + (f"; missing {', '.join(missing)}" if missing else "")
                    + (f"; unknown {', '.join(extra)}" if extra else ""),
                    line=1,
                )
            rows = [(reader.line_num, row) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ForecastInputError(path, f"cannot read as CSV: {e}") from e
    rates: list[ProductionRate] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        try:
            rate = ProductionRate.model_validate(row)
        except ValidationError as e:
            error = e.errors()[0]
            field = ".".join(str(part) for part in error["loc"]) or None
            raise ForecastInputError(path, error["msg"], line=line, field=field) from e
        if rate.category in seen:
            raise ForecastInputError(
                path, f"category {rate.category!r} already on line {seen[rate.category]}", line=line
            )
        seen[rate.category] = line
        rates.append(rate)
    return rates


def _observed_ratio(row: ProductionRate) -> float | None:
    if row.baseline_rate > 0:
        return row.candidate_rate / row.baseline_rate
    return 1.0 if row.candidate_rate == 0 else None  # None: from zero to something


class _Observed(NamedTuple):
    changed: bool
    direction: Direction


def _observed(row: ProductionRate, threshold: float) -> _Observed:
    ratio = _observed_ratio(row)
    if ratio is None:
        return _Observed(True, "up")
    fold = math.inf if ratio == 0 else max(ratio, 1 / ratio)
    if fold < threshold * (1 - _FLOAT_SLACK):
        return _Observed(False, "no clear change")
    return _Observed(True, "up" if ratio > 1 else "down")


def _error(predicted: float, observed: float | None) -> float | None:
    if observed is None or observed == 0:
        return None
    return max(predicted / observed, observed / predicted)


def _compare_one(
    item: CategoryForecast, row: ProductionRate, threshold: float
) -> ProductionCategory:
    changed, direction = _observed(row, threshold)
    observed_ratio = _observed_ratio(row)
    return ProductionCategory(
        name=item.name,
        baseline_rate=row.baseline_rate,
        candidate_rate=row.candidate_rate,
        observed_ratio=observed_ratio,
        observed_direction=direction,
        changed=changed,
        predicted_ratio=item.ratio,
        predicted_direction=item.direction,
        correct=(item.direction == direction) if changed else None,
        error=_error(item.ratio, observed_ratio),
    )


def compare_production(
    forecast: Sequence[CategoryForecast],
    observed: Sequence[ProductionRate],
    *,
    threshold: float = CHANGE_THRESHOLD,
    path: str | Path | None = None,
) -> ProductionComparison:
    """Score the forecast's categories against observed production rates.

    Direction accuracy counts only categories whose observed rate changed by ``threshold``
    or more (either way); a "no clear change" call on such a category is wrong. The error of
    a category is the symmetric multiplicative error ``max(r1/r2, r2/r1)`` of the predicted
    ratio r1 and the observed ratio r2 (equal to the error of the bias-corrected forecast
    ``baseline_rate * r1`` of the candidate's production rate).
    """
    rows = {row.category: row for row in observed}
    graded = {item.name for item in forecast}
    compared = [
        _compare_one(item, rows[item.name], threshold) for item in forecast if item.name in rows
    ]
    changed = [c for c in compared if c.changed]
    correct = sum(1 for c in changed if c.correct)
    errors = [c.error for c in compared if c.error is not None]
    return ProductionComparison(
        path=str(path) if path is not None else None,
        threshold=threshold,
        categories=compared,
        changed=len(changed),
        correct=correct,
        direction_accuracy=correct / len(changed) if changed else None,
        geometric_mean_error=math.exp(sum(map(math.log, errors)) / len(errors)) if errors else None,
        max_error=max(errors) if errors else None,
        not_forecast=sorted(set(rows) - graded),
        not_observed=sorted(graded - set(rows)),
    )
