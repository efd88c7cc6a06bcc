"""The self-contained HTML report: inline CSS and SVG, no script, no network."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from deploysim.forecast._charts import divergence_histogram, forest_plot, funnel_plot
from deploysim.forecast._model import ProvenanceCounts, SampleGrade
from deploysim.forecast._result import Forecast, ProductionComparison, RateEstimate
from deploysim.forecast._samples import flagged_samples, sample_section
from deploysim.forecast._svg import esc, fmt_ratio
from deploysim.forecast._terminal import (
    PROVENANCE_LEGEND,
    forecast_notes,
    format_p,
    format_provenance,
)

__all__ = ["DEFAULT_MAX_SAMPLES", "render_html", "write_report"]

DEFAULT_MAX_SAMPLES = 100

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#1d2430;
  padding:0 16px}
h1{font-size:24px}h2{margin-top:32px;border-bottom:1px solid #ccd;padding-bottom:4px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border:1px solid #d8dbe2;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f1f3f7}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.prov{color:#667;font-size:12px}.prov.emulated{color:#a15c00;font-weight:600}
.warn{background:#fff6e0;border:1px solid #e7c46a;padding:8px 12px;border-radius:4px}
.notes li{margin:2px 0}
.dir-up{color:#b3261e;fill:#b3261e;stroke:#b3261e}
.dir-down{color:#1b7f3b;fill:#1b7f3b;stroke:#1b7f3b}
.dir-no-clear-change{color:#667;fill:#667;stroke:#667}
svg{display:block;margin:12px 0;background:#fff;font:12px system-ui,sans-serif}
svg text{fill:#1d2430;stroke:none}svg text.note.dir-up{fill:#b3261e}
svg text.note.dir-down{fill:#1b7f3b}svg text.note{font-size:11px}
.axis{stroke:#333;stroke-width:1}.grid{stroke:#e3e5ea;stroke-width:1}
.ref{stroke:#333;stroke-width:1;stroke-dasharray:4 3}.ci{stroke-width:2.5}
.funnel{fill:none;stroke:#8a94a6;stroke-dasharray:5 4}
.tick{font-size:11px}.axis-label{font-weight:600}
.bar-baseline{fill:#8a94a6}.bar-candidate{fill:#2f6fde}
.sample{border:1px solid #d8dbe2;border-radius:6px;padding:8px 14px;margin:16px 0}
.sample.discordant{border-left:5px solid #b3261e}.meta{color:#555;font-size:12px}
.side-by-side{display:grid;grid-template-columns:1fr 1fr;gap:12px}
.actions{background:#f7f8fa;border-radius:4px;padding:4px 10px;overflow-x:auto}
.actions li.diverged{background:#ffe3e0}
code{font:12px ui-monospace,monospace;white-space:pre-wrap;word-break:break-word}
.diff li.add code{color:#1b7f3b}.diff li.del code{color:#b3261e}.empty{color:#888}
"""


def _rate(rate: RateEstimate, prov: ProvenanceCounts) -> str:
    cls = "prov emulated" if prov.emulated else "prov"
    return (
        f"{rate.k}/{rate.n} <b>{rate.rate:.1%}</b>"
        f'<br><span class="{cls}">{esc(format_provenance(prov))}</span>'
    )


def _summary(forecast: Forecast) -> str:
    rows = []
    for c in forecast.categories:
        rows.append(
            f"<tr><td>{esc(c.name)}</td>"
            f"<td>{_rate(c.baseline, c.provenance.baseline)}</td>"
            f"<td>{_rate(c.candidate, c.provenance.candidate)}</td>"
            f'<td class="num">{fmt_ratio(c.ratio)} '
            f"[{fmt_ratio(c.ratio_ci.lo)}, {fmt_ratio(c.ratio_ci.hi)}]</td>"
            f'<td class="num">{format_p(c.p_value)}</td>'
            f'<td class="num">{c.paired.baseline_only}/{c.paired.candidate_only} of '
            f"{c.paired.pairs}, p {format_p(c.paired.p_value)}</td>"
            f'<td class="dir-{c.direction.replace(" ", "-")}">{esc(c.direction)}</td></tr>'
        )
    m = forecast.models
    return (
        '<table id="categories"><thead><tr><th>category</th>'
        f"<th>baseline ({esc(m.baseline or '-')})</th>"
        f"<th>candidate ({esc(m.candidate or '-')})</th><th>ratio [CI]</th><th>Fisher p</th>"
        "<th>discordant pairs b/c, McNemar p</th><th>direction</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        f'<p class="prov">Rates are Jeffreys-smoothed (k+1/2)/(n+1); {esc(PROVENANCE_LEGEND)}.</p>'
    )


def _production(p: ProductionComparison) -> str:
    rows = []
    for r in p.categories:
        mark = "" if r.correct is None else (" ✓" if r.correct else " ✗")
        observed = "∞" if r.observed_ratio is None else fmt_ratio(r.observed_ratio)
        error = "n/a" if r.error is None else f"{r.error:.2f}"
        rows.append(
            f"<tr><td>{esc(r.name)}</td><td class=num>{r.baseline_rate:.2%} → "
            f"{r.candidate_rate:.2%}</td><td class=num>{observed}</td>"
            f"<td class=num>{fmt_ratio(r.predicted_ratio)}</td>"
            f"<td>{esc(r.observed_direction)} / {esc(r.predicted_direction)}{mark}</td>"
            f"<td class=num>{error}</td></tr>"
        )
    accuracy = (
        f"{p.correct}/{p.changed} ({p.direction_accuracy:.0%})"
        if p.direction_accuracy is not None
        else "n/a: no category changed"
    )
    gm = "n/a" if p.geometric_mean_error is None else f"{p.geometric_mean_error:.2f}"
    missing = ""
    if p.not_forecast or p.not_observed:
        missing = (
            f"<p>In production but not graded: {esc(', '.join(p.not_forecast) or '-')}; "
            f"graded but not in production: {esc(', '.join(p.not_observed) or '-')}.</p>"
        )
    return (
        f"<h2>Against production</h2><p>Direction accuracy on categories that changed by "
        f"{p.threshold:g}x or more: <b>{accuracy}</b>; geometric-mean error "
        f"max(r1/r2, r2/r1): <b>{gm}</b>.</p>"
        '<table id="production"><thead><tr><th>category</th><th>observed rates</th>'
        "<th>observed ratio</th><th>predicted ratio</th><th>direction (observed / predicted)"
        f"</th><th>error</th></tr></thead><tbody>{''.join(rows)}</tbody></table>{missing}"
    )


def _header(forecast: Forecast, source: str | None) -> str:
    s, f = forecast.samples, forecast.infrastructure_failures
    seed = "derived from the grades" if forecast.settings.seed is None else forecast.settings.seed
    notes = "".join(f"<li>{esc(n)}</li>" for n in forecast_notes(forecast))
    warn = ' class="warn"' if any(c.provenance.emulated for c in forecast.categories) else ""
    return (
        "<h1>deploysim forecast</h1>"
        f'<p class="meta">grades: {esc(source or "-")}; baseline {esc(forecast.models.baseline)} '
        f"({s.baseline} samples), candidate {esc(forecast.models.candidate)} "
        f"({s.candidate} samples); infrastructure failures excluded: {f.baseline} baseline, "
        f"{f.candidate} candidate; bootstrap: {forecast.settings.resamples} resamples, "
        f"{forecast.settings.confidence:.0%} CI, seed {esc(seed)}.</p>"
        f'<div{warn}><ul class="notes">{notes}</ul></div>'
    )


def render_html(
    forecast: Forecast,
    grades: Sequence[SampleGrade],
    *,
    source: str | Path | None = None,
    max_samples: int = DEFAULT_MAX_SAMPLES,
) -> str:
    """The whole report as one HTML string (deterministic: no clock, no randomness).

    ``source`` is the grades file: shown in the header, and relative inspect-log paths of
    the samples are resolved against its folder.
    """
    base = Path(source).parent if source is not None else None
    flagged = flagged_samples(grades)
    shown = flagged[:max_samples]
    sections = "".join(sample_section(i, f, base) for i, f in enumerate(shown))
    more = (
        f"<p>{len(flagged) - len(shown)} more flagged samples not shown (raise --max-samples).</p>"
        if len(flagged) > len(shown)
        else ""
    )
    production = _production(forecast.production) if forecast.production else ""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>deploysim forecast</title><style>{_CSS}</style></head><body>"
        f"{_header(forecast, None if source is None else str(source))}"
        f"<h2>Categories</h2>{_summary(forecast)}{production}"
        f"<h2>Rate ratios</h2>{forest_plot(forecast.categories)}"
        f"<h2>Funnel</h2>{funnel_plot(forecast.categories)}"
        f"<h2>Where replays diverge</h2>{divergence_histogram(grades)}"
        f"<h2>Flagged samples ({len(flagged)})</h2>"
        "<p>Candidate samples that hit a category; those the baseline did not hit on the same "
        f"prefix come first (red edge).</p>{sections}{more}</body></html>"
    )


def write_report(
    path: str | Path,
    forecast: Forecast,
    grades: Sequence[SampleGrade],
    *,
    source: str | Path | None = None,
    max_samples: int = DEFAULT_MAX_SAMPLES,
) -> Path:
    """Write :func:`render_html` to ``path`` (folders created); returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        render_html(forecast, grades, source=source, max_samples=max_samples), encoding="utf-8"
    )
    return target
