"""Flagged samples: which candidate samples the report shows, and their HTML sections."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from deploysim.forecast._model import SampleGrade
from deploysim.forecast._svg import esc
from deploysim.forecast._terminal import format_provenance

__all__ = ["FlaggedSample", "flagged_samples", "log_href", "sample_section"]

_URL_SCHEMES = ("file://", "http://", "https://", "s3://")


class FlaggedSample(NamedTuple):
    """A candidate sample that hit at least one risk category."""

    grade: SampleGrade
    hits: list[str]
    baseline_hits: list[str] | None  # the baseline on the same prefix; None: not graded
    discordant: bool  # it hit a category the baseline did not hit on the same prefix


def _hits(grade: SampleGrade) -> list[str]:
    return sorted({h.category for h in grade.categories if h.hit})


def flagged_samples(grades: Sequence[SampleGrade]) -> list[FlaggedSample]:
    """Candidate samples with a hit, discordant ones first (they carry the change)."""
    baselines = {
        (g.trace_id, g.cut): _hits(g)
        for g in grades
        if g.arm == "baseline" and g.infrastructure_error is None
    }
    found = []
    for grade in grades:
        hits = _hits(grade)
        if grade.arm != "candidate" or grade.infrastructure_error is not None or not hits:
            continue
        base = baselines.get((grade.trace_id, grade.cut))
        discordant = base is None or bool(set(hits) - set(base))
        found.append(FlaggedSample(grade, hits, base, discordant))
    found.sort(key=lambda f: (not f.discordant, f.grade.trace_id, f.grade.cut))
    return found


def log_href(log: str, base: Path | None) -> str:
    """A link to an inspect log: URLs as they are, paths as ``file://`` URIs.

    Relative paths are taken relative to ``base`` (the grades file's folder). A value that
    is not a known URL is always treated as a path, so no ``javascript:`` link can result.
    """
    if log.startswith(_URL_SCHEMES):
        return log
    path = Path(log)
    if not path.is_absolute():
        path = (base or Path.cwd()) / path
    return path.resolve().as_uri()


def _actions(title: str, actions: Sequence[str], mark: int | None) -> str:
    items = "".join(
        f"<li{' class=diverged' if i == mark else ''}><code>{esc(a)}</code></li>"
        for i, a in enumerate(actions)
    )
    body = f'<ol start="0">{items}</ol>' if actions else '<p class="empty">no actions</p>'
    return f'<div class="actions"><h4>{esc(title)}</h4>{body}</div>'


def _diff(items: Sequence[str]) -> str:
    if not items:
        return '<p class="empty">no difference from the original end state</p>'
    rows = []
    for item in items:
        kind = {"+": "add", "-": "del", "~": "chg"}.get(item[:1], "")
        rows.append(f'<li class="{kind}"><code>{esc(item)}</code></li>')
    return f'<ul class="diff">{"".join(rows)}</ul>'


def _evidence(grade: SampleGrade) -> str:
    rows = []
    for hit in grade.categories:
        if hit.hit:
            proof = "; ".join(hit.evidence) or "no evidence recorded"
            rows.append(f"<li><b>{esc(hit.category)}</b> ({esc(hit.source)}): {esc(proof)}</li>")
    return f'<ul class="evidence">{"".join(rows)}</ul>'


def sample_section(index: int, flagged: FlaggedSample, base: Path | None) -> str:
    """One flagged sample: verdicts, original vs candidate actions, state diff, log link."""
    g = flagged.grade
    baseline = (
        "not graded"
        if flagged.baseline_hits is None
        else (", ".join(flagged.baseline_hits) or "no hit")
    )
    step_at = g.first_divergent_step
    step = "never" if g.first_divergent_step is None else str(g.first_divergent_step)
    log = (
        f'<a href="{esc(log_href(g.log, base))}">{esc(g.log)}</a>'
        if g.log
        else "no inspect log recorded"
    )
    return (
        f'<section class="sample{" discordant" if flagged.discordant else ""}" '
        f'id="sample-{index}" data-sample-id="{esc(g.sample_id)}">'
        f"<h3>{esc(g.sample_id)} <small>{esc(', '.join(flagged.hits))}</small></h3>"
        f'<p class="meta">trace {esc(g.trace_id)}, cut {g.cut}, model {esc(g.model)}; '
        f"first divergent step: {esc(step)}; tool results "
        f"{esc(format_provenance(g.provenance))}; baseline on this prefix: {esc(baseline)}</p>"
        f"{_evidence(g)}"
        f'<div class="side-by-side">{_actions("original actions", g.original_actions, step_at)}'
        f"{_actions('candidate actions', g.candidate_actions, step_at)}</div>"
        f"<h4>state diff</h4>{_diff(g.state_diff)}"
        f'<p class="log">inspect log: {log}</p></section>'
    )
