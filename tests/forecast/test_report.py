"""The HTML report: self-contained, escaped, complete, deterministic."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from deploysim.forecast import (
    CategoryHit,
    SampleGrade,
    compute_forecast,
    flagged_samples,
    forecast_notes,
    render_html,
    write_report,
)
from deploysim.forecast._samples import log_href

from .conftest import SCRIPT, grade

HOSTILE = '<img src=x onerror="alert(1)">'


class _Collect(HTMLParser):
    """Tags with their attributes, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _parse(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Collect()
    parser.feed(html)
    return parser.tags


def _hostile_run() -> list[SampleGrade]:
    """Untrusted text in every field the report shows."""
    bad = grade(
        f"trace-{HOSTILE}",
        1,
        "candidate",
        {f"cat{HOSTILE}": True},
        original_actions=[f"orig {SCRIPT}"],
        candidate_actions=[f"cand {SCRIPT}"],
        state_diff=[f"+ {SCRIPT}"],
        log="javascript:alert(1)",
    )
    bad = bad.model_copy(
        update={"categories": [CategoryHit(category=f"cat{HOSTILE}", hit=True, evidence=[SCRIPT])]}
    )
    return [bad, grade(f"trace-{HOSTILE}", 1, "baseline", {f"cat{HOSTILE}": False})]


def test_untrusted_text_is_escaped_everywhere() -> None:
    """No script or injected element survives: the page has no <script>, no <img>, no handler."""
    grades = _hostile_run()
    html = render_html(compute_forecast(grades, resamples=100), grades)
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html
    tags = _parse(html)
    assert not [t for t, _ in tags if t in {"script", "img", "iframe", "object"}]
    assert not [a for _, attrs in tags for a in attrs if a.startswith("on")]
    hrefs = [attrs["href"] or "" for tag, attrs in tags if tag == "a"]
    assert hrefs and all(h.startswith("file://") for h in hrefs)


def test_report_is_self_contained(run_grades: list[SampleGrade]) -> None:
    """No external fetch: no src/link/import/url(); the only URL is the SVG namespace."""
    html = render_html(compute_forecast(run_grades, resamples=100), run_grades)
    assert not re.search(r"<link|<script|\bsrc=|@import|url\(", html)
    urls = set(re.findall(r"https?://[^\s\"'<>]+", html))
    assert urls == {"http://www.w3.org/2000/svg"}


def test_report_holds_the_charts_and_one_section_per_shown_sample(
    run_grades: list[SampleGrade],
) -> None:
    """Forest plot (a marker per category), funnel, histogram; sections capped, rest counted."""
    forecast = compute_forecast(run_grades, resamples=100)
    flagged = flagged_samples(run_grades)
    html = render_html(forecast, run_grades, max_samples=7)
    tags = _parse(html)
    svgs = [attrs["id"] for tag, attrs in tags if tag == "svg"]
    assert svgs == ["forest-plot", "funnel-plot", "divergence-histogram"]
    forest = html[html.index('id="forest-plot"') : html.index("</svg>", html.index("forest-plot"))]
    assert forest.count('class="pt ') == len(forecast.categories)
    sections = [a for t, a in tags if t == "section" and "sample" in (a.get("class") or "")]
    assert len(sections) == 7
    assert f"{len(flagged) - 7} more flagged samples not shown" in html


def test_flagged_samples_put_discordant_ones_first(run_grades: list[SampleGrade]) -> None:
    """Candidate samples with a hit; those the baseline did not match come before the rest."""
    flagged = flagged_samples(run_grades)
    assert all(f.grade.arm == "candidate" and f.hits for f in flagged)
    kinds = [f.discordant for f in flagged]
    assert kinds == sorted(kinds, reverse=True)
    assert any(kinds) and not all(kinds)  # both discordant and concordant samples shown


def test_log_links_resolve_relative_paths_and_never_become_scripts(tmp_path: Path) -> None:
    """Relative logs resolve against the grades folder; a javascript: value stays a path."""
    assert log_href("logs/a.eval", tmp_path) == (tmp_path / "logs" / "a.eval").resolve().as_uri()
    assert log_href("https://logs.example/a.eval", tmp_path) == "https://logs.example/a.eval"
    assert log_href("javascript:alert(1)", tmp_path).startswith("file://")


def test_report_is_deterministic(tmp_path: Path, run_grades: list[SampleGrade]) -> None:
    """The same grades give byte-identical reports (no clock, seeded bootstrap)."""
    first = write_report(
        tmp_path / "a.html", compute_forecast(run_grades, resamples=100), run_grades
    )
    second = write_report(
        tmp_path / "b.html", compute_forecast(run_grades, resamples=100), run_grades
    )
    assert first.read_bytes() == second.read_bytes()


def test_a_run_without_verdicts_still_reports() -> None:
    """No category graded: empty forecast, a warning note, and a report with empty charts."""
    grades = [grade("a", 1, "baseline", {}), grade("a", 1, "candidate", {})]
    forecast = compute_forecast(grades, resamples=100)
    assert forecast.categories == []
    assert any("nothing to forecast" in note for note in forecast_notes(forecast))
    assert 'id="forest-plot"' in render_html(forecast, grades)
