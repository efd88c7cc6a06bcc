"""The report's three charts as inline SVG: forest plot, funnel plot, divergence histogram."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from deploysim.forecast._model import Arm, SampleGrade
from deploysim.forecast._result import CategoryForecast
from deploysim.forecast._stats import Interval
from deploysim.forecast._svg import (
    LinearScale,
    LogScale,
    esc,
    fmt_ratio,
    line,
    linear_ticks,
    log_ticks,
    svg,
    text,
)

__all__ = ["FUNNEL_Z", "HISTOGRAM_CAP", "divergence_histogram", "forest_plot", "funnel_plot"]

FUNNEL_Z = 1.96  # the funnel's limits: 95% under "no change" at the pooled baseline rate
HISTOGRAM_CAP = 30  # later first-divergence steps share the last bin
_WIDTH = 820
_DOMAIN_LIMIT = 1000.0


def _ratio_domain(values: Sequence[float]) -> Interval:
    lo = min([*values, 0.5]) / 1.15
    hi = max([*values, 2.0]) * 1.15
    return Interval(max(lo, 1 / _DOMAIN_LIMIT), min(hi, _DOMAIN_LIMIT))


def _log_axis(scale: LogScale, y_top: float, y_axis: float) -> list[str]:
    parts = [line(scale.start, y_axis, scale.end, y_axis, "axis")]
    for tick in log_ticks(scale.lo, scale.hi):
        x = scale(tick)
        parts.append(line(x, y_top, x, y_axis, "ref" if tick == 1 else "grid"))
        parts.append(text(x, y_axis + 16, fmt_ratio(tick), anchor="middle", cls="tick"))
    return parts


def forest_plot(categories: Sequence[CategoryForecast]) -> str:
    """Rate ratio (candidate / baseline) with its CI per category, log scale, line at 1."""
    row_h, top, left, right = 28, 30, 210, _WIDTH - 250
    height = top + row_h * max(len(categories), 1) + 50
    axis_y = top + row_h * max(len(categories), 1) + 8
    domain = _ratio_domain([v for c in categories for v in (*c.ratio_ci, c.ratio)])
    scale = LogScale(domain.lo, domain.hi, left, right)
    body = [text(left, 18, "rate ratio, candidate / baseline (log scale)", cls="axis-label")]
    body += _log_axis(scale, top - 6, axis_y)
    for i, item in enumerate(categories):
        y = top + row_h * i + row_h / 2
        cls = "dir-" + item.direction.replace(" ", "-")
        ci_lo, ci_hi = item.ratio_ci
        ci = f"{fmt_ratio(item.ratio)} [{fmt_ratio(ci_lo)}, {fmt_ratio(ci_hi)}]"
        label = item.name if len(item.name) <= 30 else item.name[:29] + "…"
        body.append(text(left - 10, y + 4, label, anchor="end", tip=item.name))
        body.append(line(scale(ci_lo), y, scale(ci_hi), y, f"ci {cls}"))
        x = scale(item.ratio)
        body.append(
            f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" class="pt {cls}">'
            f"<title>{esc(item.name)}: {esc(ci)}, {esc(item.direction)}</title></rect>"
        )
        body.append(text(right + 10, y + 4, f"{ci} {item.direction}", cls=f"note {cls}"))
    return svg(_WIDTH, height, body, ident="forest-plot", label="Forest plot of rate ratios")


def _pooled_rate(categories: Sequence[CategoryForecast]) -> float:
    k = sum(c.baseline.k for c in categories)
    n = sum(c.baseline.n for c in categories)
    return (k + 0.5) / (n + 1)


def funnel_plot(categories: Sequence[CategoryForecast]) -> str:
    """Ratio against samples per arm; the funnel is where "no change" would put 95% of them.

    The funnel uses the pooled baseline rate p over all categories and the normal
    approximation of log(ratio) for two independent arms of n samples each,
    ``±z·sqrt(2(1-p)/(n·p))``: a visual guide, not a test.
    """
    width, height, left, right, top, bottom = _WIDTH, 380, 70, _WIDTH - 40, 50, 330
    sizes = [(c.baseline.n + c.candidate.n) / 2 for c in categories]
    lo, hi = _ratio_domain([c.ratio for c in categories])
    xs = LogScale(lo, hi, left, right)
    y_ticks = linear_ticks(max([*sizes, 1.0]))
    ys = LinearScale(0, y_ticks[-1], bottom, top)
    body = _log_axis(xs, top, bottom)
    body.append(line(left, top, left, bottom, "axis"))
    for tick in y_ticks:
        body.append(text(left - 8, ys(tick) + 4, f"{tick:g}", anchor="end", cls="tick"))
    body.append(text(left, 20, "samples per arm (n) vs rate ratio (log scale)", cls="axis-label"))
    p = _pooled_rate(categories)
    for sign in (1, -1):
        points = []
        for step in range(1, 61):
            n = y_ticks[-1] * step / 60
            bound = math.exp(sign * FUNNEL_Z * math.sqrt(2 * (1 - p) / (n * p)))
            if lo <= bound <= hi:
                points.append(f"{xs(bound):.1f},{ys(n):.1f}")
        if len(points) > 1:
            body.append(f'<polyline points="{" ".join(points)}" class="funnel"/>')
    for item, n in zip(categories, sizes, strict=True):
        cls = "dir-" + item.direction.replace(" ", "-")
        x, y = xs(item.ratio), ys(n)
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" class="pt {cls}">'
            f"<title>{esc(item.name)}: ratio {fmt_ratio(item.ratio)}, n {n:g}</title></circle>"
        )
        near_right = x > left + 0.75 * (right - left)
        body.append(
            text(
                x - 8 if near_right else x + 8,
                y - 8,
                item.name[:24],
                cls="note",
                anchor="end" if near_right else "start",
                tip=item.name,
            )
        )
    return svg(width, height, body, ident="funnel-plot", label="Funnel plot: ratio against n")


def _steps(grades: Sequence[SampleGrade], arm: Arm) -> Counter[str]:
    counts: Counter[str] = Counter()
    for g in grades:
        if g.arm == arm and g.infrastructure_error is None:
            step = g.first_divergent_step
            key = "none" if step is None else str(min(step, HISTOGRAM_CAP))
            counts[key] += 1
    return counts


def divergence_histogram(grades: Sequence[SampleGrade]) -> str:
    """First divergent step after the cut, per arm; "none" counts samples that never diverged."""
    arms: tuple[Arm, Arm] = ("baseline", "candidate")
    counts = {arm: _steps(grades, arm) for arm in arms}
    steps = [int(k) for c in counts.values() for k in c if k != "none"]
    bins = [str(i) for i in range(max(steps, default=0) + 1)] + ["none"]
    width, top, bottom, left = _WIDTH, 40, 250, 60
    slot = (width - left - 20) / len(bins)
    y_ticks = linear_ticks(max([*(v for c in counts.values() for v in c.values()), 1]))
    ys = LinearScale(0, y_ticks[-1], bottom, top)
    body = [
        text(left, 18, "first divergent step after the cut (samples per bin)", cls="axis-label"),
        line(left, bottom, width - 20, bottom, "axis"),
        line(left, top, left, bottom, "axis"),
    ]
    body += [text(left - 8, ys(t) + 4, f"{t:g}", anchor="end", cls="tick") for t in y_ticks]
    for i, name in enumerate(bins):
        x0 = left + i * slot
        shown = f"{name}+" if name == str(HISTOGRAM_CAP) else name
        body.append(text(x0 + slot / 2, bottom + 16, shown, anchor="middle", cls="tick"))
        for j, arm in enumerate(arms):
            value = counts[arm][name]
            bar_w = max(slot / 2 - 2, 1)
            body.append(
                f'<rect x="{x0 + 1 + j * slot / 2:.1f}" y="{ys(value):.1f}" width="{bar_w:.1f}" '
                f'height="{bottom - ys(value):.1f}" class="bar-{arm}">'
                f"<title>{arm}, step {esc(shown)}: {value}</title></rect>"
            )
    legend_x = width - 220
    for j, arm in enumerate(arms):
        body.append(
            f'<rect x="{legend_x + j * 100}" y="8" width="12" height="12" class="bar-{arm}"/>'
        )
        body.append(text(legend_x + j * 100 + 16, 18, arm, cls="tick"))
    return svg(width, 280, body, ident="divergence-histogram", label="Divergence-step histogram")
