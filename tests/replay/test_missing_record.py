"""A sample without its replay record did not finish: resume runs it again, grading refuses it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import typer
from inspect_ai.log import read_eval_log, write_eval_log
from typer.testing import CliRunner

from deploysim.cli.grade import grade_command
from deploysim.graders import grade_logs
from deploysim.replay import RECORD_KEY
from deploysim.replay._run import run_replay

MODELS = ["deploysim/original", "deploysim/demo-careless"]
IDS = ["task-0/trial-0", "task-1/trial-0"]


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("grade")(grade_command)
    app.command("noop")(lambda: None)  # two commands, so `grade` is a subcommand
    return app


def _strip_record(path: str) -> str:
    """Rewrite a log with the first sample's store emptied of its record; its id."""
    log = read_eval_log(path)
    sample = (log.samples or [])[0]
    assert sample.store.pop(RECORD_KEY) is not None
    write_eval_log(log, path)
    return str(sample.id)


def test_a_sample_without_its_record_is_not_graded_and_is_run_again(
    write_scenario: Callable[..., Path], shared_traces: Path, tmp_path: Path
) -> None:
    """Graded without resume, a sample whose store lost its record is reported (log path and
    sample id, exit code 1), never graded as a sample in which nothing happened; resumed, it
    is run again and gets its record, while the finished samples are kept as they were."""
    d = shared_traces / "tau-bench-airline"
    sc = write_scenario(
        traces=[
            {"path": str(d / "traces.json"), "tools": str(d / "tool_schemas.json"), "ids": IDS}
        ],
        cut="last",
        mode="rollout",
    )
    logs = tmp_path / "logs"
    first = run_replay(sc, MODELS, log_dir=logs, display="none")
    assert first.success and all(s.completed == 2 for s in first.logs)
    candidate = next(s.path for s in first.logs if s.model == MODELS[1])
    stripped = _strip_record(candidate)
    kept = {str(s.id): s.uuid for s in read_eval_log(candidate).samples or []}

    graded = grade_logs([s.path for s in first.logs], tmp_path / "run", baseline=MODELS[0])
    assert [(m.log, m.sample_id) for m in graded.missing] == [(candidate, stripped)]
    assert graded.samples == {"baseline": 2, "candidate": 1}
    assert graded.infrastructure_errors == {}
    lines = [json.loads(x) for x in (tmp_path / "run" / "grades.jsonl").read_text().splitlines()]
    assert (MODELS[1], stripped) not in {(g["model"], g["sample_id"]) for g in lines}
    cli = CliRunner().invoke(
        _app(), ["grade", str(logs), "-o", str(tmp_path / "cli"), "--baseline", MODELS[0]]
    )
    assert cli.exit_code == 1
    assert stripped in cli.output and Path(candidate).name in cli.output.replace("\n", "")

    resumed = run_replay(sc, MODELS, log_dir=logs, display="none")
    assert [(r.log, r.sample_id) for r in resumed.rerun] == [(candidate, stripped)]
    assert resumed.success
    summary = next(s for s in resumed.logs if s.model == MODELS[1])
    assert summary.completed == summary.samples == 2 and summary.missing_records == 0
    samples = {str(s.id): s for s in read_eval_log(summary.path).samples or []}
    assert samples[stripped].store.get(RECORD_KEY) is not None
    assert samples[stripped].uuid != kept[stripped]  # run again
    others = [k for k in kept if k != stripped]
    assert all(samples[k].uuid == kept[k] for k in others)  # kept, not run again
