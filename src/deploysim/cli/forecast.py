"""`deploysim forecast` and `deploysim report`: rates, tests and reports from a run's grades."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NamedTuple

import typer
from rich.console import Console
from rich.markup import escape

from deploysim.cli._output import err_console, print_json
from deploysim.forecast import (
    DEFAULT_MAX_SAMPLES,
    Forecast,
    GradesRun,
    compute_forecast,
    flagged_samples,
    forecast_notes,
    forecast_table,
    load_grades,
    load_production,
    production_table,
    write_report,
)

__all__ = ["forecast_command", "report_command"]

Run = Annotated[
    Path,
    typer.Argument(help="grades.jsonl (one SampleGrade per line) or a folder holding it."),
]
ProductionOpt = Annotated[
    Path | None,
    typer.Option(
        "--production",
        help="CSV of observed production rates: category,baseline_rate,candidate_rate.",
    ),
]
SeedOpt = Annotated[
    int | None,
    typer.Option("--seed", help="Bootstrap seed; default: derived from the grades."),
]
ResamplesOpt = Annotated[
    int, typer.Option("--resamples", min=100, help="Bootstrap resamples per category.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


class _Loaded(NamedTuple):
    grades: GradesRun
    forecast: Forecast


def _forecast(run: Path, production: Path | None, seed: int | None, resamples: int) -> _Loaded:
    grades = load_grades(run)
    observed = load_production(production) if production is not None else None
    forecast = compute_forecast(
        grades.grades,
        production=observed,
        production_path=production,
        seed=seed,
        resamples=resamples,
    )
    return _Loaded(grades, forecast)


def _print_notes(forecast: Forecast, console: Console) -> None:
    for note in forecast_notes(forecast):
        style = "yellow" if note.startswith("warning:") else "dim"
        console.print(f"[{style}]{escape(note)}[/]", soft_wrap=True)


def forecast_command(
    run: Run,
    production: ProductionOpt = None,
    seed: SeedOpt = None,
    resamples: ResamplesOpt = 2000,
    json_out: JsonOpt = False,
) -> None:
    """Forecast per risk category: candidate vs baseline rates on the same replayed prefixes.

    Prints, per category, Jeffreys-smoothed rates (k+1/2)/(n+1) of both arms with the tool
    results behind them by provenance (live, recorded, emulated, unavailable), the rate
    ratio with a paired bootstrap CI, a two-sided Fisher exact p, discordant pairs with an
    exact McNemar p, and a direction call (up / down / no clear change). Samples that failed
    for infrastructure reasons are excluded and counted. With --production, scores the
    forecast against observed production rates (direction accuracy on categories that
    changed >= 1.5x; symmetric multiplicative error per category).

    --json prints {"categories": [{"name", "baseline": {"k", "n", "rate"}, "candidate",
    "ratio", "ratio_ci": [lo, hi], "p_value", "direction", "provenance", "paired"}],
    "production": {...} | null, "models", "samples", "infrastructure_failures", "settings"}.

    Example: deploysim forecast runs/2026-01-05/ --production prod-rates.csv --json
    """
    _, forecast = _forecast(run, production, seed, resamples)
    if json_out:
        print_json(forecast.to_json())
        if any(c.provenance.emulated for c in forecast.categories):
            err_console.print("[yellow]warning:[/] some rates rest on emulated tool results")
        return
    console = Console(highlight=False)
    if not console.is_terminal:  # piped or logged: do not squeeze the table into 80 columns
        console = Console(width=200, highlight=False)
    console.print(forecast_table(forecast))
    if forecast.production is not None:
        console.print(production_table(forecast.production))
    _print_notes(forecast, console)


def report_command(
    run: Run,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="HTML file to write (self-contained).")
    ],
    production: ProductionOpt = None,
    seed: SeedOpt = None,
    resamples: ResamplesOpt = 2000,
    max_samples: Annotated[
        int, typer.Option("--max-samples", min=0, help="Flagged samples shown in full.")
    ] = DEFAULT_MAX_SAMPLES,
    json_out: JsonOpt = False,
) -> None:
    """Write the forecast as a self-contained HTML report (inline CSS and SVG, no network).

    The report holds the category table with provenance, a forest plot of rate ratios with
    their CIs (log scale), a funnel plot (ratio against n), a histogram of the first
    divergent step per arm, and every flagged candidate sample (up to --max-samples):
    original and candidate actions side by side, the state diff, and a link to its inspect
    log. All sample text is escaped.

    --json prints {"output", "flagged", "shown", "forecast": <the forecast --json document>}.

    Example: deploysim report runs/2026-01-05/grades.jsonl -o report.html
    """
    grades, forecast = _forecast(run, production, seed, resamples)
    flagged = len(flagged_samples(grades.grades))
    path = write_report(
        output, forecast, grades.grades, source=grades.path, max_samples=max_samples
    )
    shown = min(flagged, max_samples)
    if json_out:
        print_json(
            {
                "output": str(path),
                "flagged": flagged,
                "shown": shown,
                "forecast": forecast.to_json(),
            }
        )
        return
    console = Console(highlight=False)
    console.print(
        f"wrote {escape(str(path))}: {len(forecast.categories)} categories, "
        f"{flagged} flagged samples ({shown} shown)",
        soft_wrap=True,
    )
    _print_notes(forecast, console)
