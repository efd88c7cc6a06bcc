"""A per-sample wall-clock limit: the sample ends as model behaviour, graded on what it did."""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from deploysim.replay import ScenarioError, load_scenario, read_record
from deploysim.replay._execute import INTERRUPTED
from deploysim.replay._run import run_replay, summarize_log
from deploysim.replay._task import replay

from .faults import bash, scenario, trace


def test_the_time_limit_defaults_and_is_validated(tmp_path: Path) -> None:
    """A scenario without a limit still gives inspect's task a finite per-sample limit, which
    the task's ``time_limit=0`` turns off; a limit below one second is refused, naming the
    field."""
    path = scenario(tmp_path / "a", [trace("t", [bash("true")])])
    limit = replay(scenario=str(path)).time_limit
    assert isinstance(limit, int) and limit > 0
    assert replay(scenario=str(path), time_limit=0).time_limit is None
    assert replay(scenario=str(path), time_limit=7).time_limit == 7
    bad = scenario(tmp_path / "b", [trace("t", [bash("true")])], time_limit=0)
    with pytest.raises(ScenarioError, match=r"limits\.time_limit"):
        load_scenario(bad)


@pytest.mark.docker
def test_a_sample_looping_on_a_slow_command_ends_at_its_time_limit(
    tmp_path: Path, base_image: str
) -> None:
    """A sample past its time limit ends with stop_reason time_limit and inspect's time limit
    record; it is completed (never an error, never infrastructure, never retried) and keeps
    what it did: the finished calls, the call in flight, and the end state with its files."""
    calls = [bash("echo made > ~/evidence.txt; echo tick 1")]
    calls += [bash(f"sleep 4; echo tick {i}") for i in range(2, 9)]
    path = scenario(tmp_path / "sc", [trace("slow", calls)])
    run = run_replay(
        path, ["deploysim/original"], log_dir=tmp_path / "logs", time_limit=10, display="none"
    )
    summary = run.logs[0]
    assert summary.errors == {} and summary.retried == {}
    assert summary.completed == summary.samples == 1
    assert summary.stop_reasons == {"time_limit": 1} and summary.limits == {"time": 1}
    sample = (read_eval_log(summary.path).samples or [])[0]
    assert sample.error is None and sample.limit is not None and sample.limit.type == "time"
    rec = read_record(sample)
    assert rec.stop_reason == "time_limit" and rec.limit == "time"
    calls_made = [s for s in rec.candidate if s.kind == "tool_call"]
    assert calls_made[0].output is not None and "tick 1" in calls_made[0].output
    assert 1 < len(calls_made) < len(calls)
    assert calls_made[-1].note == INTERRUPTED and calls_made[-1].output is None
    assert rec.end_state.captured and rec.end_state.scope == "full"
    assert any(f["path"].endswith("/evidence.txt") for f in rec.end_state.files)
    assert sample.scores and "replay_summary" in sample.scores  # scored like any sample


@pytest.mark.docker
def test_a_limit_reached_while_rebuilding_the_prefix_is_not_the_candidates(
    tmp_path: Path, base_image: str
) -> None:
    """When the time runs out while the prefix's recorded commands are re-executed, the
    candidate never acted: the sample is an error (other), not a time-limited sample graded
    as a candidate that did nothing."""
    from inspect_ai import eval as inspect_eval

    t = trace("slow-prefix", [bash("sleep 8; echo rebuilt")], then=[bash("echo mine")])
    path = scenario(tmp_path / "sc", [t], cut=2, time_limit=2)
    # one attempt (run_replay's eval set would retry the failed task twice more)
    logs = inspect_eval(
        "deploysim/replay",
        task_args={"scenario": str(path)},
        log_dir=str(tmp_path / "logs"),
        retry_on_error=0,
        fail_on_error=False,
        display="none",
    )
    summary = summarize_log(logs[0].location)
    assert summary.errors == {"other": 1} and summary.completed == 0
    assert summary.stop_reasons == {}
    sample = (read_eval_log(summary.path).samples or [])[0]
    assert sample.error is not None and sample.error.message.startswith("PrefixLimitError(")
