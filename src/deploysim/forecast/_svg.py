"""Tiny SVG building blocks for the report's inline charts (no JS, no external files).

Every piece of text goes through :func:`esc`: category names and sample content come from
graders and models and are untrusted.
"""

from __future__ import annotations

import html
import math
from typing import NamedTuple

__all__ = [
    "LinearScale",
    "LogScale",
    "esc",
    "fmt_ratio",
    "line",
    "linear_ticks",
    "log_ticks",
    "svg",
    "text",
]

_LOG_STEPS = (1.0, 2.0, 5.0)


def esc(value: object) -> str:
    """HTML/SVG-escape any value (quotes included, so it is safe in attributes too)."""
    return html.escape(str(value), quote=True)


def _n(value: float) -> str:
    return f"{value:.1f}"


class LogScale(NamedTuple):
    """Maps values in [lo, hi] (both > 0) to pixels [start, end] on a log axis."""

    lo: float
    hi: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        """Pixel of ``value``, clamped to the domain."""
        value = min(max(value, self.lo), self.hi)
        span = math.log(self.hi) - math.log(self.lo)
        return self.start + (math.log(value) - math.log(self.lo)) / span * (self.end - self.start)


class LinearScale(NamedTuple):
    """Maps values in [lo, hi] to pixels [start, end] (end < start for a y axis)."""

    lo: float
    hi: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        """Pixel of ``value`` (not clamped)."""
        span = (self.hi - self.lo) or 1.0
        return self.start + (value - self.lo) / span * (self.end - self.start)


def log_ticks(lo: float, hi: float) -> list[float]:
    """1-2-5 ticks inside [lo, hi]; always includes 1 when 1 is inside."""
    ticks = []
    for exponent in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        for step in _LOG_STEPS:
            value = step * 10.0**exponent
            if lo <= value <= hi:
                ticks.append(value)
    if len(ticks) > 9:  # keep labels apart on wide domains: powers of ten and 1 only
        ticks = [t for t in ticks if math.isclose(math.log10(t), round(math.log10(t)))]
    return ticks


def linear_ticks(hi: float, count: int = 5) -> list[float]:
    """About ``count`` round ticks from 0 to at least ``hi``."""
    if hi <= 0:
        return [0.0, 1.0]
    raw = hi / count
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(math.ceil(hi / step) + 1)]


def fmt_ratio(value: float) -> str:
    """A ratio for an axis or a label: ``0.5``, ``1``, ``2.35``."""
    if value >= 10:
        return f"{value:.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def svg(width: int, height: int, body: list[str], *, ident: str, label: str) -> str:
    """An ``<svg>`` element with an accessible label and a ``<title>``."""
    return (
        f'<svg id="{esc(ident)}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="{esc(label)}"><title>{esc(label)}</title>' + "".join(body) + "</svg>"
    )


def text(
    x: float, y: float, value: object, *, anchor: str = "start", cls: str = "", tip: str = ""
) -> str:
    """A text element; ``tip`` becomes a hover tooltip."""
    title = f"<title>{esc(tip)}</title>" if tip else ""
    klass = f' class="{esc(cls)}"' if cls else ""
    return f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}"{klass}>{title}{esc(value)}</text>'


def line(x1: float, y1: float, x2: float, y2: float, cls: str) -> str:
    """A line element styled by class."""
    return f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" class="{esc(cls)}"/>'
