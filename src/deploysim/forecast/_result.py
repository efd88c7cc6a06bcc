"""What a forecast computes: per-category rates, tests, direction calls, production check.

``Forecast.to_json()`` is the document ``deploysim forecast --json`` prints; docs/forecast.md
lists every key.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from deploysim.forecast._model import ProvenanceCounts
from deploysim.forecast._stats import Interval

__all__ = [
    "ArmCounts",
    "ArmModels",
    "CategoryForecast",
    "CategoryProvenance",
    "Direction",
    "Forecast",
    "ForecastSettings",
    "InfrastructureFailures",
    "PairedComparison",
    "ProductionCategory",
    "ProductionComparison",
    "RateEstimate",
]

Direction = Literal["up", "down", "no clear change"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateEstimate(_Model):
    """One arm's rate in one category."""

    k: int = Field(description="Samples that hit the category.")
    n: int = Field(description="Samples graded for the category (infrastructure failures out).")
    rate: float = Field(description="Jeffreys-smoothed rate (k + 1/2) / (n + 1).")


class PairedComparison(_Model):
    """The two arms on the same prefixes (trace id, cut)."""

    pairs: int = Field(description="Prefixes graded in both arms.")
    both: int
    baseline_only: int = Field(description="Discordant: only the baseline hit.")
    candidate_only: int = Field(description="Discordant: only the candidate hit.")
    neither: int
    p_value: float = Field(description="Exact two-sided McNemar p-value.")


class CategoryProvenance(_Model):
    """Tool results behind each arm's rate, by where they came from."""

    baseline: ProvenanceCounts
    candidate: ProvenanceCounts

    @property
    def emulated(self) -> int:
        """Emulated tool results in either arm."""
        return self.baseline.emulated + self.candidate.emulated

    @property
    def unavailable(self) -> int:
        """Tool results that could not be produced at all, in either arm."""
        return self.baseline.unavailable + self.candidate.unavailable


class CategoryForecast(_Model):
    """Everything the forecast says about one risk category."""

    name: str
    baseline: RateEstimate
    candidate: RateEstimate
    ratio: float = Field(description="candidate.rate / baseline.rate.")
    ratio_ci: Interval = Field(description="Paired percentile-bootstrap CI of the ratio.")
    p_value: float = Field(description="Two-sided Fisher exact p-value (unpaired counts).")
    direction: Direction
    provenance: CategoryProvenance
    paired: PairedComparison


class ArmModels(_Model):
    """The model of each arm (None when an arm has no samples)."""

    baseline: str | None
    candidate: str | None


class ArmCounts(_Model):
    """A count per arm."""

    baseline: int = 0
    candidate: int = 0


class InfrastructureFailures(_Model):
    """Samples left out of every rate because the infrastructure failed them."""

    baseline: int = 0
    candidate: int = 0
    samples: list[str] = Field(default_factory=list, description="'<arm>:<sample id>'.")


class ForecastSettings(_Model):
    """The knobs, so a forecast can be recomputed exactly."""

    seed: int | None = Field(description="Bootstrap seed; None: derived from the grades.")
    resamples: int
    confidence: float
    alpha: float
    direction_rule: str


class ProductionCategory(_Model):
    """One category's forecast against the rates observed in production."""

    name: str
    baseline_rate: float
    candidate_rate: float
    observed_ratio: float | None = Field(description="None when the baseline rate is 0.")
    observed_direction: Direction = Field(description="'up'/'down' when changed, else none.")
    changed: bool = Field(description="The observed rate changed by the threshold or more.")
    predicted_ratio: float
    predicted_direction: Direction
    correct: bool | None = Field(description="Direction right; None when not changed.")
    error: float | None = Field(
        description="max(r1/r2, r2/r1) of predicted and observed ratio; None when undefined."
    )


class ProductionComparison(_Model):
    """How the forecast fares against observed production rates."""

    path: str | None = Field(default=None, description="The production-rates file.")
    threshold: float
    categories: list[ProductionCategory]
    changed: int = Field(description="Categories whose observed rate changed >= threshold.")
    correct: int = Field(description="Changed categories whose direction was called right.")
    direction_accuracy: float | None = Field(description="correct / changed; None if none.")
    geometric_mean_error: float | None
    max_error: float | None
    not_forecast: list[str] = Field(description="Categories in production but not graded.")
    not_observed: list[str] = Field(description="Graded categories missing from production.")


class Forecast(_Model):
    """The forecast of a run: one entry per risk category, sorted by name."""

    categories: list[CategoryForecast]
    production: ProductionComparison | None = None
    models: ArmModels
    samples: ArmCounts = Field(description="Samples used (infrastructure failures out).")
    infrastructure_failures: InfrastructureFailures
    settings: ForecastSettings

    def to_json(self) -> dict[str, Any]:
        """The JSON document of ``deploysim forecast --json``."""
        return self.model_dump(mode="json")

    def category(self, name: str) -> CategoryForecast:
        """The forecast of one category; KeyError when it was not graded."""
        for item in self.categories:
            if item.name == name:
                return item
        raise KeyError(name)
