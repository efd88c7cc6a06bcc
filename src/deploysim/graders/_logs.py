"""``deploysim grade``: grade the replay logs of a run and write its ``grades.jsonl``.

Logs are inspect ``.eval`` (or ``.json``) files of ``deploysim/replay``. Each log holds one
model's samples. Three roles:

- the **reference**: logs of model ``deploysim/original``: the original's own calls
  re-executed in twin pods; their end states are what ``state_diff`` compares with, paired on
  (trace, cut) and on the window replayed: a ``resample`` sample (one turn) is compared with
  the original replayed in ``resample`` mode, a ``rollout`` sample (the rest of the
  conversation) with the original in ``original`` or ``rollout`` mode. A reference over
  another window would count the later turns' effects as differences, so it is not used;
- the **baseline** arm: the logs of the model given as ``baseline`` (which may be
  ``deploysim/original`` itself); without one, the reference logs, when there is exactly one
  other model;
- the **candidate** arm: the logs of the other model.

A sample that ended in error is graded as a failure (``SampleGrade.infrastructure_error``),
never as behaviour. A sample that ended without error but carries no replay record did not
finish: it is not graded at all, but listed in ``GradeRun.missing`` (log and sample id) to be
run again (``deploysim replay`` with the same log folder resumes it). When a sample appears in
several logs of an arm (a failed attempt and its retry), the graded one wins, then an errored
one, then the latest log.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from deploysim.forecast import Arm, SampleGrade, write_grades
from deploysim.graders._errors import GraderError
from deploysim.graders._facts import facts_for_record_snapshot
from deploysim.graders._grade import DEFAULT_GRADERS, run_graders, sample_grade
from deploysim.graders._model import GradeInput, checked_record
from deploysim.graders._transcript import transcript_from_messages
from deploysim.replay import RECORD_KEY, ReplayRecord
from deploysim.replay._run import classify_error

__all__ = ["GradeRun", "LoggedSample", "MissingSample", "grade_logs", "read_log_samples"]

ORIGINAL_MODEL = "deploysim/original"


class LoggedSample(NamedTuple):
    """One sample of a replay log, as the graders need it."""

    log: str
    model: str
    mode: str | None
    sample_id: str
    trace_id: str
    cut: int
    record: ReplayRecord | None
    input: GradeInput | None
    error: str | None
    missing: bool = False
    """No error and no replay record: the sample did not finish (never graded)."""


class MissingSample(BaseModel):
    """A sample that has no replay record: not graded, to be run again."""

    model_config = ConfigDict(extra="forbid")

    log: str
    sample_id: str
    model: str


class GradeRun(BaseModel):
    """What ``grade_logs`` did."""

    model_config = ConfigDict(extra="forbid")

    output: str = Field(description="The grades file written.")
    models: dict[str, str] = Field(description="Arm -> model.")
    samples: dict[str, int] = Field(description="Grades per arm.")
    infrastructure_errors: dict[str, int] = Field(default_factory=dict)
    missing: list[MissingSample] = Field(
        default_factory=list,
        description="Samples without a replay record: not graded; rerun the replay to finish them.",
    )
    reference_samples: int = Field(description="Original-mode samples used as state references.")
    without_reference: int = Field(description="Graded samples whose state had no reference.")
    graders: list[str]
    hits: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="Category -> arm -> samples hit."
    )


def _prefix_len(sample: Any) -> int:
    data = sample.input
    return len(data) if isinstance(data, list) else 1


def _where(sample: Any) -> tuple[str, int]:
    meta = (sample.metadata or {}).get("deploysim") or {}
    if "trace_id" in meta and "cut" in meta:
        return str(meta["trace_id"]), int(meta["cut"])
    sid = str(sample.id)
    trace, _, cut = sid.rpartition("@")
    return (trace or sid), int(cut) if cut.isdigit() else 0


def _sample(path: str, model: str, mode: str | None, sample: Any) -> LoggedSample:
    trace_id, cut = _where(sample)
    if sample.error is not None:
        kind = classify_error(sample.error.message)
        error = f"{kind}: {sample.error.message.strip()[:500]}"
        return LoggedSample(path, model, mode, str(sample.id), trace_id, cut, None, None, error)
    data = (sample.store or {}).get(RECORD_KEY)
    if data is None:
        return LoggedSample(
            path, model, mode, str(sample.id), trace_id, cut, None, None, None, missing=True
        )
    record = checked_record(data, f"{path}, sample {sample.id}")
    g = GradeInput(
        record=record,
        transcript=transcript_from_messages(sample.messages, _prefix_len(sample)),
        snapshot=facts_for_record_snapshot(record.snapshot),
    )
    return LoggedSample(path, model, record.mode, str(sample.id), trace_id, cut, record, g, None)


def read_log_samples(path: str | Path) -> list[LoggedSample]:
    """The samples of one replay log.

    Raises:
        GraderError: the file is not a readable inspect log.
    """
    from inspect_ai.log import read_eval_log

    try:
        log = read_eval_log(str(path), resolve_attachments=True)
    except (OSError, ValueError) as e:
        raise GraderError(f"{path}: not a readable inspect log: {e}") from e
    meta = (log.eval.metadata or {}).get("deploysim") or {}
    mode = meta.get("mode") if isinstance(meta, dict) else None
    return [_sample(str(path), log.eval.model, mode, s) for s in log.samples or []]


class _Arms(NamedTuple):
    baseline: str
    candidate: str


def _arms(
    models: set[str], has_original: bool, baseline: str | None, candidate: str | None
) -> _Arms:
    others = sorted(models - {ORIGINAL_MODEL})
    pool = others + ([ORIGINAL_MODEL] if has_original else [])
    for given, what in ((baseline, "baseline"), (candidate, "candidate")):
        if given is not None and given not in pool:
            raise GraderError(f"--{what} {given!r} is not a model of these logs: {', '.join(pool)}")
    if baseline is not None and candidate is not None:
        return _Arms(baseline, candidate)
    if baseline is not None:
        rest = [m for m in others if m != baseline]
        if len(rest) == 1:
            return _Arms(baseline, rest[0])
    elif candidate is not None:
        rest = [m for m in others if m != candidate] or ([ORIGINAL_MODEL] if has_original else [])
        if len(rest) == 1:
            return _Arms(rest[0], candidate)
    elif len(others) == 1 and has_original:
        return _Arms(ORIGINAL_MODEL, others[0])
    raise GraderError(
        f"cannot tell the arms apart (models: {', '.join(pool) or 'none'}); give --baseline "
        "MODEL, and --candidate MODEL when the logs hold more than two models"
    )


def _rank(s: LoggedSample) -> int:
    """Which attempt of a sample to keep: graded, then errored, then one without a record."""
    return 2 if s.input is not None else 1 if s.error is not None else 0


def _dedupe(samples: list[LoggedSample]) -> list[LoggedSample]:
    best: dict[tuple[str, str], LoggedSample] = {}
    for s in sorted(samples, key=lambda s: s.log):
        key = (s.model, s.sample_id)
        old = best.get(key)
        if old is None or _rank(s) >= _rank(old):
            best[key] = s
    return list(best.values())


def _window(mode: str | None) -> str:
    """What a sample replays: one turn (resample), or the rest of the conversation."""
    return "turn" if mode == "resample" else "rest"


def _log_ref(log: str, out_dir: Path) -> str:
    try:
        return os.path.relpath(log, out_dir)
    except ValueError:  # another drive (Windows): keep it absolute
        return str(Path(log).resolve())


async def _grade_all(
    samples: list[tuple[LoggedSample, Arm]],
    references: dict[tuple[str, int, str], ReplayRecord],
    graders: Sequence[str],
    options: dict[str, dict[str, Any]],
    out_dir: Path,
    concurrency: int,
) -> list[SampleGrade]:
    gate = asyncio.Semaphore(concurrency)

    async def one(s: LoggedSample, arm: Arm) -> SampleGrade:
        log = _log_ref(s.log, out_dir)
        if s.input is None:
            return SampleGrade(
                sample_id=s.sample_id, trace_id=s.trace_id, cut=s.cut, arm=arm, model=s.model,
                infrastructure_error=s.error or "not graded", log=log,
            )  # fmt: skip
        ref = references.get((s.trace_id, s.cut, _window(s.mode)))
        g = s.input.model_copy(update={"reference": ref})
        async with gate:
            outputs = await run_graders(g, graders, options)
        return sample_grade(g, outputs, sample_id=s.sample_id, arm=arm, model=s.model, log=log)

    return list(await asyncio.gather(*(one(s, arm) for s, arm in samples)))


def grade_logs(
    logs: Sequence[str | Path],
    output: str | Path,
    *,
    baseline: str | None = None,
    candidate: str | None = None,
    graders: Sequence[str] = DEFAULT_GRADERS,
    options: dict[str, dict[str, Any]] | None = None,
    concurrency: int = 8,
) -> GradeRun:
    """Grade replay logs and write the run's grades file.

    Samples without a replay record are not graded; they are listed in ``missing``.

    Raises:
        GraderError: unreadable logs, or arms that cannot be told apart.
    """
    found = _dedupe([s for p in logs for s in read_log_samples(p)])
    if not found:
        raise GraderError(f"no samples in {', '.join(str(p) for p in logs)}")
    has_original = any(s.model == ORIGINAL_MODEL for s in found)
    arms = _arms({s.model for s in found}, has_original, baseline, candidate)
    # a sample without its record did not finish: never graded (not even as a failure), only
    # listed, so that a forecast is not read off samples in which nothing seemed to happen
    missing = [
        MissingSample(log=s.log, sample_id=s.sample_id, model=s.model)
        for s in found
        if s.missing and (s.model in arms or s.model == ORIGINAL_MODEL)
    ]
    samples = [s for s in found if not s.missing]
    originals = [s for s in samples if s.model == ORIGINAL_MODEL]
    references = {
        (s.trace_id, s.cut, _window(s.mode)): s.record for s in originals if s.record is not None
    }
    chosen: list[tuple[LoggedSample, Arm]] = [
        (s, "baseline" if s.model == arms.baseline else "candidate")
        for s in samples
        if s.model in arms
    ]
    target = Path(output)
    out_dir = target if target.suffix != ".jsonl" else target.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    grades = asyncio.run(
        _grade_all(chosen, references, graders, options or {}, out_dir, concurrency)
    )
    written = write_grades(target if target.suffix == ".jsonl" else out_dir, grades)
    run = _summary(written, arms, grades, references, chosen, graders)
    return run.model_copy(update={"missing": missing})


def _summary(
    written: Path,
    arms: _Arms,
    grades: list[SampleGrade],
    references: dict[tuple[str, int, str], ReplayRecord],
    chosen: list[tuple[LoggedSample, Arm]],
    graders: Sequence[str],
) -> GradeRun:
    hits: dict[str, dict[str, int]] = {}
    for g in grades:
        for c in g.categories:
            arm_hits = hits.setdefault(c.category, {"baseline": 0, "candidate": 0})
            arm_hits[g.arm] += int(c.hit)
    without = sum(
        1
        for s, _ in chosen
        if s.input is not None and (s.trace_id, s.cut, _window(s.mode)) not in references
    )
    return GradeRun(
        output=str(written),
        models={"baseline": arms.baseline, "candidate": arms.candidate},
        samples={arm: sum(1 for g in grades if g.arm == arm) for arm in ("baseline", "candidate")},
        infrastructure_errors={
            arm: n
            for arm in ("baseline", "candidate")
            if (n := sum(1 for g in grades if g.arm == arm and g.infrastructure_error))
        },
        reference_samples=len(references),
        without_reference=without,
        graders=list(graders),
        hits=dict(sorted(hits.items())),
    )
