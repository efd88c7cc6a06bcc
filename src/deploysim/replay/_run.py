"""Run a replay: ``deploysim/replay`` as an inspect eval set, resumable, with a summary.

An eval set (inspect's ``eval_set``) per log folder: run again with the same folder and
arguments, it reuses the samples a previous, interrupted run finished and runs only the rest.
Sample errors are retried (``retry_on_error``); the summary keeps them apart from model
behaviour, split into infrastructure failures (engine, container, sandbox) and others.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from deploysim.replay._record import RECORD_KEY, ReplayRecord

__all__ = ["LogSummary", "ReplayRun", "classify_error", "run_replay", "summarize_log"]

TASK = "deploysim/replay"
_INFRA_MARKERS = (
    "InfrastructureError",
    "ContainerDiedError",
    "EngineUnavailableError",
    "SandboxUnavailableError",
    "ImageBuildError",
    "docker.errors",
)


def classify_error(text: str) -> str:
    """``infrastructure`` when a traceback names an infrastructure failure, else ``other``."""
    return "infrastructure" if any(m in text for m in _INFRA_MARKERS) else "other"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LogSummary(_Model):
    """One model's run: what the samples did, and what failed apart from them."""

    path: str
    model: str
    status: str
    samples: int = Field(description="Samples in the log.")
    completed: int = Field(description="Samples with a replay record.")
    errors: dict[str, int] = Field(
        default_factory=dict, description="Samples that ended in error: infrastructure / other."
    )
    retried: dict[str, int] = Field(
        default_factory=dict, description="Failed attempts that were retried, by kind."
    )
    diverged: int = 0
    divergence_rate: float | None = None
    stop_reasons: dict[str, int] = Field(default_factory=dict)
    provenance: dict[str, int] = Field(default_factory=dict)
    fidelity_warnings: int = 0


class ReplayRun(_Model):
    """The result of :func:`run_replay`."""

    success: bool
    log_dir: str
    logs: list[LogSummary]


def summarize_log(path: str | Path) -> LogSummary:
    """Read a replay log and count outcomes, errors and provenance."""
    from inspect_ai.log import read_eval_log

    log = read_eval_log(str(path))
    errors: Counter[str] = Counter()
    retried: Counter[str] = Counter()
    stops: Counter[str] = Counter()
    provenance: Counter[str] = Counter()
    completed = diverged = warnings = 0
    for s in log.samples or []:
        for e in s.error_retries or []:
            retried[classify_error(f"{e.message}\n{e.traceback}")] += 1
        if s.error is not None:
            errors[classify_error(f"{s.error.message}\n{s.error.traceback}")] += 1
            continue
        data = (s.store or {}).get(RECORD_KEY)
        if data is None:
            continue
        rec = ReplayRecord.model_validate(data)
        completed += 1
        diverged += rec.diverged_at_turn is not None
        warnings += len(rec.fidelity_warnings)
        stops[rec.stop_reason] += 1
        provenance.update(rec.provenance_counts)
    return LogSummary(
        path=str(path),
        model=log.eval.model,
        status=log.status,
        samples=len(log.samples or []),
        completed=completed,
        errors=dict(errors),
        retried=dict(retried),
        diverged=diverged,
        divergence_rate=round(diverged / completed, 4) if completed else None,
        stop_reasons=dict(stops),
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
    model_args: dict[str, Any] | None = None,
    display: str = "rich",
) -> ReplayRun:
    """Replay a scenario with each model; resume what an earlier run in ``log_dir`` left.

    Raises:
        ScenarioError: the scenario is invalid (before anything runs).
    """
    from inspect_ai import eval_set

    from deploysim.replay._load import load_scenario

    load_scenario(scenario)  # harness errors surface here, once, before inspect starts
    task_args: dict[str, Any] = {"scenario": str(Path(scenario).resolve())}
    for key, value in (
        ("mode", mode),
        ("cut", cut),
        ("user_simulator", user_simulator),
        ("simulator", simulator),
    ):
        if value is not None:
            task_args[key] = value
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
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
    return ReplayRun(success=success, log_dir=str(log_dir), logs=summaries)
