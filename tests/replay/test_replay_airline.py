"""deploysim/replay on tau-bench airline: real pods, real inspect evals, scripted policies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from inspect_ai.log import read_eval_log

from deploysim.replay import ReplayRecord, read_record
from deploysim.replay._run import run_replay

pytestmark = pytest.mark.docker


def _records(path: str) -> dict[str, ReplayRecord]:
    log = read_eval_log(path)
    assert log.samples is not None
    return {str(s.id): read_record(s) for s in log.samples}


def test_noise_floor_original_replay_reproduces_the_traces(
    airline_scenario: Callable[..., Path], tmp_path: Path, base_image: str
) -> None:
    """Replaying the original's own actions from every turn: no divergence, outputs reproduce."""
    from deploysim.replay._pool import pool_stats

    scenario = airline_scenario(cut="each", mode="original")
    run = run_replay(scenario, ["deploysim/original"], log_dir=tmp_path / "logs", display="none")
    assert run.success and len(run.logs) == 1
    summary = run.logs[0]
    assert summary.samples == summary.completed == 16 and summary.errors == {}
    assert summary.divergence_rate == 0.0 and summary.fidelity_warnings == 0
    assert set(summary.provenance) == {"live"}
    log = read_eval_log(summary.path)
    assert log.eval.sandbox is not None and log.eval.sandbox.type == "deploysim-pool"
    assert log.results is not None
    metrics = {(s.name, k): m.value for s in log.results.scores for k, m in s.metrics.items()}
    assert metrics[("diverged", "mean")] == 0.0 and metrics[("output_mismatch", "mean")] == 0.0
    stats = pool_stats()[-1]
    assert stats["started"] < 16 and stats["started"] + stats["reused"] == 16
    records = _records(summary.path)
    for rec in records.values():
        calls = [s for s in rec.candidate if s.kind == "tool_call"]
        originals = [s for s in rec.original if s.kind == "tool_call"]
        assert [(c.tool, c.arguments) for c in calls] == [(o.tool, o.arguments) for o in originals]
        assert [c.output for c in calls] == [o.output for o in originals]
        assert all(c.provenance == "live" and c.backend == "function" for c in calls)
        assert all(p.executed and p.reproduced for p in rec.prefix_calls)
        assert rec.end_state.captured and rec.end_state.scope == "services"
    booking = records["task-0/trial-0@28"]  # the booking is made after this cut
    assert [p.tool for p in booking.prefix_calls] == ["book_reservation"]  # the failed first try
    assert booking.stop_reason == "trace_end" and booking.turn == 7
    added = [r for r in booking.end_state.services_rows if r["change"] == "added"]
    assert [r["table"] for r in added] == ["reservations"]
    assert booking.end_state.services_log_prefix_entries == 1
    assert len(booking.end_state.services_log) == 2
    first = records["task-0/trial-0@2"]
    assert first.prefix_calls == [] and first.original_turn_steps == 1


def test_demo_policies_diverge_as_documented(
    airline_scenario: Callable[..., Path], tmp_path: Path, base_image: str
) -> None:
    """demo-careless writes without asking; demo-cautious asks before unconfirmed writes."""
    scenario = airline_scenario(ids=["task-0/trial-0", "task-28/trial-0"], cut="each")
    run = run_replay(
        scenario,
        ["deploysim/demo-careless", "deploysim/demo-cautious"],
        log_dir=tmp_path / "logs",
        display="none",
    )
    by_model = {s.model: s for s in run.logs}
    careless = _records(by_model["deploysim/demo-careless"].path)
    cautious = _records(by_model["deploysim/demo-cautious"].path)
    skipped = careless["task-0/trial-0@16"]
    assert skipped.diverged_at_turn == 5
    writes = [s for s in skipped.candidate if s.kind == "tool_call" and s.effect == "write"]
    # both of the original's confirmations are skipped: the failed and the good booking
    assert [w.tool for w in writes] == ["book_reservation", "book_reservation"]
    assert writes[0].is_error and writes[0].output.startswith("Error: payment")
    assert writes[1].output.startswith('{"reservation_id"')
    assert not any(s.effect == "write" for s in skipped.original if s.turn == 5)
    asked = cautious["task-28/trial-0@8"]  # cancels four bookings, no confirmation asked
    assert asked.diverged_at_turn is not None
    assert not any(s.kind == "tool_call" and s.effect == "write" for s in asked.candidate)
    assert "confirmation" in (asked.candidate[-1].text or "")
    confirmed = cautious["task-0/trial-0@20"]  # the user said "Yes, please proceed"
    assert confirmed.diverged_at_turn is None
    assert by_model["deploysim/demo-careless"].divergence_rate not in (None, 0.0)


def test_rollout_hands_over_to_the_user_simulator(
    airline_scenario: Callable[..., Path], tmp_path: Path, base_image: str
) -> None:
    """Recorded user turns are fed until divergence; then the user simulator speaks."""
    scenario = airline_scenario(ids=["task-0/trial-0"], cut=2, mode="rollout")
    run = run_replay(
        scenario,
        ["deploysim/demo-careless"],
        log_dir=tmp_path / "logs",
        user_simulator="deploysim/demo-user",
        display="none",
    )
    rec = next(iter(_records(run.logs[0].path).values()))
    users = [s for s in rec.candidate if s.kind == "user"]
    assert [u.source for u in users[:3]] == ["recorded", "recorded", "recorded"]
    assert rec.diverged_at_turn == 5
    simulated = [u for u in users if u.source == "simulated"]
    assert simulated and all(u.turn >= 5 for u in simulated)
    assert rec.stop_reason in ("user_stop", "trace_end", "max_turns")
    assert rec.user_simulator == "deploysim/demo-user"


def test_infrastructure_failures_are_retried_and_kept_apart(
    airline_scenario: Callable[..., Path],
    tmp_path: Path,
    base_image: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A sidecar killed mid-sample: an infrastructure failure, retried on a new pod, kept apart."""
    import deploysim.replay._solver as solver

    real = solver.replay_prefix
    killed: list[str] = []

    async def kill_once(router: Any, tp: Any, cut: int) -> Any:
        pod = router.ctx.pod
        if not killed:
            killed.append(pod.id)
            pod.services.kill()
        return await real(router, tp, cut)

    monkeypatch.setattr(solver, "replay_prefix", kill_once)
    scenario = airline_scenario(ids=["task-0/trial-0"], cut="last", mode="original")
    run = run_replay(scenario, ["deploysim/original"], log_dir=tmp_path / "logs", display="none")
    summary = run.logs[0]
    assert killed and summary.completed == 1 and summary.errors == {}
    assert summary.retried == {"infrastructure": 1}
    assert summary.divergence_rate == 0.0
    log = read_eval_log(summary.path)
    assert log.samples
    failed = (log.samples[0].error_retries or [])[0].message
    assert failed.startswith("ServicesUnavailableError(") and killed[0] in failed
