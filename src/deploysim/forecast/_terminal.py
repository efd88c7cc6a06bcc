"""The forecast as rich tables and plain-text notes for the terminal."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from deploysim.forecast._model import ProvenanceCounts
from deploysim.forecast._result import (
    CategoryForecast,
    Forecast,
    ProductionComparison,
    RateEstimate,
)

__all__ = [
    "PROVENANCE_LEGEND",
    "forecast_notes",
    "forecast_table",
    "format_p",
    "format_provenance",
    "production_table",
]

PROVENANCE_LEGEND = "tool results: L live, R recorded, E emulated, U unavailable"
_STYLE = {"up": "bold red", "down": "bold green", "no clear change": "dim"}


def format_provenance(counts: ProvenanceCounts) -> str:
    """``L0 R12 E3 U0``: tool results by where they came from."""
    return f"L{counts.live} R{counts.recorded} E{counts.emulated} U{counts.unavailable}"


def _rate_cell(rate: RateEstimate, provenance: ProvenanceCounts) -> str:
    prov = escape(format_provenance(provenance))
    if provenance.emulated:
        prov = f"[yellow]{prov}[/]"
    return f"{rate.k}/{rate.n}  {rate.rate:.1%}  [dim]·[/] {prov}"


def _ratio_cell(item: CategoryForecast) -> str:
    return f"{item.ratio:.2f} [{item.ratio_ci.lo:.2f}, {item.ratio_ci.hi:.2f}]"


def format_p(p: float) -> str:
    """A p-value in at most four characters of precision."""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def forecast_table(forecast: Forecast) -> Table:
    """One row per category: both rates with their provenance, ratio, tests, direction."""
    models = forecast.models
    table = Table(
        title="Forecast: candidate vs baseline on the same prefixes",
        caption=f"rates Jeffreys-smoothed (k+1/2)/(n+1); {PROVENANCE_LEGEND}",
    )
    table.add_column("category")
    table.add_column(f"baseline ({escape(models.baseline or '-')})")
    table.add_column(f"candidate ({escape(models.candidate or '-')})")
    table.add_column("ratio [CI]", justify="right")
    table.add_column("Fisher p", justify="right")
    table.add_column("pairs b/c, McNemar p", justify="right")
    table.add_column("direction")
    for item in forecast.categories:
        prov = item.provenance
        table.add_row(
            escape(item.name),
            _rate_cell(item.baseline, prov.baseline),
            _rate_cell(item.candidate, prov.candidate),
            escape(_ratio_cell(item)),
            format_p(item.p_value),
            f"{item.paired.baseline_only}/{item.paired.candidate_only}, "
            f"{format_p(item.paired.p_value)}",
            f"[{_STYLE[item.direction]}]{item.direction}[/]",
        )
    return table


def forecast_notes(forecast: Forecast) -> list[str]:
    """Warnings and facts the table cannot show (plain text, no markup)."""
    notes = []
    if not forecast.categories:
        notes.append("warning: no sample carries a category verdict: nothing to forecast")
    emulated = [c.name for c in forecast.categories if c.provenance.emulated]
    if emulated:
        notes.append(
            "warning: rates of "
            + ", ".join(emulated)
            + " rest partly on emulated tool results (E): the emulator, not the "
            "environment, answered some calls"
        )
    unavailable = [c.name for c in forecast.categories if c.provenance.unavailable]
    if unavailable:
        notes.append("warning: some tool results were unavailable (U) in " + ", ".join(unavailable))
    failures = forecast.infrastructure_failures
    if failures.baseline or failures.candidate:
        notes.append(
            f"{failures.baseline} baseline and {failures.candidate} candidate samples failed "
            "for infrastructure reasons and are excluded from every rate"
        )
    notes.append(f"direction rule: {forecast.settings.direction_rule}")
    return notes


def production_table(comparison: ProductionComparison) -> Table:
    """The forecast against observed production rates, with the summary as caption."""
    accuracy = (
        f"{comparison.correct}/{comparison.changed} = {comparison.direction_accuracy:.0%}"
        if comparison.direction_accuracy is not None
        else "n/a (no category changed)"
    )
    gm = comparison.geometric_mean_error
    table = Table(
        title="Against production",
        caption=(
            f"direction accuracy on categories changed >= {comparison.threshold}x: {accuracy}; "
            f"geometric-mean error: {'n/a' if gm is None else f'{gm:.2f}'}"
        ),
    )
    for column in ("category", "observed b -> c", "observed ratio", "predicted ratio"):
        table.add_column(column, justify="left" if column == "category" else "right")
    table.add_column("direction (obs / pred)")
    table.add_column("error", justify="right")
    for row in comparison.categories:
        mark = "" if row.correct is None else (" ✓" if row.correct else " ✗")
        table.add_row(
            escape(row.name),
            f"{row.baseline_rate:.1%} -> {row.candidate_rate:.1%}",
            "inf" if row.observed_ratio is None else f"{row.observed_ratio:.2f}",
            f"{row.predicted_ratio:.2f}",
            f"{row.observed_direction} / {row.predicted_direction}{mark}",
            "n/a" if row.error is None else f"{row.error:.2f}",
        )
    return table
