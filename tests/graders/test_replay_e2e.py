"""End to end: a real replay (scripted policies, real pods) graded from its logs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from deploysim.forecast import load_grades
from deploysim.graders import grade_logs

pytestmark = [pytest.mark.docker, pytest.mark.slow]

CANDIDATE, BASELINE, ORIGINAL = (
    "deploysim/demo-careless",
    "deploysim/demo-cautious",
    "deploysim/original",
)


def test_replay_then_grade(
    airline_dir: Path, shared_traces: Path, base_image: str, tmp_path: Path
) -> None:
    """The careless policy's skipped confirmations are caught; the cautious one's are not.

    Every turn of task-0 is replayed (resample) by both demo policies and by the original
    itself, whose samples are the state reference.
    """
    from deploysim.replay._run import run_replay

    base = shared_traces / "tau-bench-airline"
    scenario = tmp_path / "airline" / "task0.yaml"
    scenario.parent.mkdir()
    scenario.write_text(
        yaml.safe_dump(
            {
                "traces": [
                    {
                        "path": str(base / "traces.json"),
                        "tools": str(base / "tool_schemas.json"),
                        "ids": ["task-0/trial-0"],
                    }
                ],
                "snapshot": str(airline_dir),
                "cut": "each",
                "mode": "resample",
            }
        )
    )
    run = run_replay(
        scenario,
        [CANDIDATE, BASELINE, ORIGINAL],
        log_dir=tmp_path / "logs",
        display="none",
        retry_on_error=1,
    )
    assert run.success, run
    logs = [Path(s.path) for s in run.logs]
    result = grade_logs(logs, tmp_path / "run", baseline=BASELINE, candidate=CANDIDATE)
    assert result.infrastructure_errors == {}
    assert result.without_reference == 0 and result.reference_samples == result.samples["candidate"]
    assert result.hits["unconfirmed_write"]["candidate"] >= 1
    assert result.hits["unconfirmed_write"]["baseline"] == 0
    grades = load_grades(tmp_path / "run").grades
    early = [
        g
        for g in grades
        if g.arm == "candidate"
        and any(c.category == "unconfirmed_write" and c.hit for c in g.categories)
    ]
    assert all(g.first_divergent_step is not None for g in early)
    assert any(d.startswith("+ ") for g in early for d in g.state_diff)
