"""Run a replay: ``deploysim/replay`` as an inspect eval set, resumable, with a summary.

An eval set (inspect's ``eval_set``) per log folder: run again with the same folder and
arguments, it reuses the samples a previous, interrupted run finished and runs only the rest.
Sample errors are retried (``retry_on_error``); the summary keeps them apart from model
behaviour, split into infrastructure failures (engine, container, sandbox) and others. A
sample that a limit stopped (``time_limit``) is model behaviour: completed, counted under its
stop reason. A sample without its replay record is never counted as finished: on resume it is
run again (:func:`deploysim.replay._resume.invalidate_unfinished`).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from deploysim._errors import InfrastructureError
from deploysim.replay._record import RECORD_KEY, ReplayRecord
from deploysim.replay._resume import UnfinishedSample, invalidate_unfinished
from deploysim.traces import SkippedLink

__all__ = [
    "ErrorKind",
    "LogSummary",
    "ReplayRun",
    "classify_error",
    "run_replay",
    "summarize_log",
]

TASK = "deploysim/replay"
_ERROR_TYPE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\(")
ErrorKind = Literal["infrastructure", "other"]


@cache
def _infrastructure_types() -> frozenset[str]:
    """Names of the exception classes that mean the machine failed us."""
    import docker.errors

    import deploysim.sandbox  # noqa: F401 - defines the InfrastructureError subclasses

    names = {"SandboxUnavailableError"}  # inspect's, raised by our sandbox for a dead pod
    todo: list[type[BaseException]] = [InfrastructureError, docker.errors.DockerException]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return frozenset(names)


def classify_error(message: str) -> ErrorKind:
    """``infrastructure`` when a sample error's exception is an infrastructure failure.

    ``message`` is inspect's ``EvalError.message``: the exception's ``repr``, which starts
    with its class name. Only that name counts, never words further on: the rest of a
    message can quote what the agent wrote or printed, and the agent must not be able to
    pass its behaviour off as an infrastructure failure by printing a class name.
    """
    m = _ERROR_TYPE.match(message)
    return "infrastructure" if m and m.group(1) in _infrastructure_types() else "other"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LogSummary(_Model):
    """One model's run: what the samples did, and what failed apart from them."""

    path: str
    model: str
    status: str
    samples: int = Field(description="Samples in the log.")
    completed: int = Field(description="Samples with a replay record.")
    missing_records: int = Field(
        default=0,
        description="Samples without error and without a replay record: not finished, to be "
        "run again (rerun the command), never counted as behaviour.",
    )
    errors: dict[str, int] = Field(
        default_factory=dict, description="Samples that ended in error: infrastructure / other."
    )
    retried: dict[str, int] = Field(
        default_factory=dict, description="Failed attempts that were retried, by kind."
    )
    diverged: int = 0
    divergence_rate: float | None = None
    stop_reasons: dict[str, int] = Field(
        default_factory=dict,
        description="Why the completed samples stopped (time_limit: the wall-clock limit).",
    )
    limits: dict[str, int] = Field(
        default_factory=dict,
        description="Completed samples an inspect limit ended, by limit type (time, message, "
        "...): model behaviour, never errors.",
    )
    capture_errors: int = Field(
        default=0, description="Completed samples whose end state capture stopped on agent content."
    )
    provenance: dict[str, int] = Field(default_factory=dict)
    fidelity_warnings: int = 0


class ReplayRun(_Model):
    """The result of :func:`run_replay`."""

    success: bool
    log_dir: str
    logs: list[LogSummary]
    rerun: list[UnfinishedSample] = Field(
        default_factory=list,
        description="Samples of earlier logs that had no replay record and were run again.",
    )
    skipped_links: list[SkippedLink] = Field(
        default_factory=list,
        description="Symlinks in the scenario's trace folders that lead outside: not followed.",
    )


def summarize_log(path: str | Path) -> LogSummary:
    """Read a replay log and count outcomes, errors and provenance."""
    from inspect_ai.log import read_eval_log

    log = read_eval_log(str(path))
    errors: Counter[str] = Counter()
    retried: Counter[str] = Counter()
    stops: Counter[str] = Counter()
    limits: Counter[str] = Counter()
    provenance: Counter[str] = Counter()
    completed = diverged = warnings = missing = capture_errors = 0
    for s in log.samples or []:
        for e in s.error_retries or []:
            retried[classify_error(e.message)] += 1
        if s.error is not None:
            errors[classify_error(s.error.message)] += 1
            continue
        data = (s.store or {}).get(RECORD_KEY)
        if data is None:
            missing += 1
            continue
        rec = ReplayRecord.model_validate(data)
        completed += 1
        diverged += rec.diverged_at_turn is not None
        warnings += len(rec.fidelity_warnings)
        capture_errors += rec.end_state.error is not None
        stops[rec.stop_reason] += 1
        if s.limit is not None:
            limits[s.limit.type] += 1
        provenance.update(rec.provenance_counts)
    return LogSummary(
        path=str(path),
        model=log.eval.model,
        status=log.status,
        samples=len(log.samples or []),
        completed=completed,
        missing_records=missing,
        errors=dict(errors),
        retried=dict(retried),
        diverged=diverged,
        divergence_rate=round(diverged / completed, 4) if completed else None,
        stop_reasons=dict(stops),
        limits=dict(limits),
        capture_errors=capture_errors,
        provenance=dict(provenance),
        fidelity_warnings=warnings,
    )


def run_replay(
    scenario: str | Path,
    models: list[str],
    *,
    log_dir: str | Path,
    mode: str | None = None,
    cut: str | int | None = None,
    user_simulator: str | None = None,
    simulator: str | None = None,
    max_samples: int | None = None,
    limit: int | None = None,
    retry_on_error: int = 3,
    time_limit: int | None = None,
    model_args: dict[str, Any] | None = None,
    display: str = "rich",
) -> ReplayRun:
    """Replay a scenario with each model; resume what an earlier run in ``log_dir`` left.

    ``time_limit`` (seconds per sample, 0 for none) overrides the scenario's. Samples of
    earlier logs that have no replay record are invalidated first, so the eval set runs them
    again instead of keeping them as finished.

    Raises:
        ScenarioError: the scenario is invalid (before anything runs).
    """
    from inspect_ai import eval_set

    from deploysim.replay._load import load_scenario

    loaded = load_scenario(scenario)  # harness errors surface here, once, before inspect starts
    task_args: dict[str, Any] = {"scenario": str(Path(scenario).resolve())}
    for key, value in (
        ("mode", mode),
        ("cut", cut),
        ("user_simulator", user_simulator),
        ("simulator", simulator),
        ("time_limit", time_limit),
    ):
        if value is not None:
            task_args[key] = value
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    rerun = invalidate_unfinished(log_dir)
    success, logs = eval_set(
        TASK,
        log_dir=str(log_dir),
        model=models,
        model_args=model_args or {},
        task_args=task_args,
        max_samples=max_samples,
        max_sandboxes=max_samples,  # one pod per running sample: the two limits go together
        limit=limit,
        retry_on_error=retry_on_error,
        retry_attempts=2,
        retry_wait=1,
        display=display,  # type: ignore[arg-type]
        log_dir_allow_dirty=True,
    )
    summaries = [summarize_log(log.location) for log in logs if log.location]
    success = success and not any(s.missing_records for s in summaries)
    return ReplayRun(
        success=success,
        log_dir=str(log_dir),
        logs=summaries,
        rerun=rerun,
        skipped_links=loaded.skipped_links,
    )
