"""An interrupted replay resumes: finished samples are kept, only the rest run again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from inspect_ai.log import list_eval_logs, read_eval_log, read_eval_log_sample_summaries

from deploysim.replay._run import run_replay

pytestmark = pytest.mark.docker

_RUN = """
import sys
from deploysim.replay._run import run_replay
run_replay(sys.argv[1], ["deploysim/original"], log_dir=sys.argv[2], display="none")
"""


def _finished(log_dir: Path) -> int:
    for info in list_eval_logs(str(log_dir)):
        try:
            return len(read_eval_log_sample_summaries(info.name))
        except Exception:  # noqa: BLE001 - the log is being written; poll again
            return 0
    return 0


def test_interrupted_run_resumes_without_redoing_samples(
    airline_scenario: Callable[..., Path], tmp_path: Path, base_image: str
) -> None:
    """SIGINT mid-run leaves a cancelled log; the rerun keeps its finished samples as they were."""
    ids = [f"task-{i}/trial-0" for i in range(14)]
    scenario = airline_scenario(ids=ids, cut="last", mode="original")
    log_dir = tmp_path / "logs"
    proc = subprocess.Popen(
        [sys.executable, "-c", _RUN, str(scenario), str(log_dir)],
        env={**os.environ, "INSPECT_DISPLAY": "none"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while _finished(log_dir) < 3:
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:] if proc.stderr else ""
        assert time.monotonic() < deadline, "no sample finished within 120 s"
        time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=120)
    logs = list_eval_logs(str(log_dir))
    assert len(logs) == 1
    cancelled = read_eval_log(logs[0].name)
    assert cancelled.status == "cancelled"
    done = {str(s.id): s.uuid for s in cancelled.samples or [] if s.error is None}
    total = 0
    assert done
    run = run_replay(scenario, ["deploysim/original"], log_dir=log_dir, display="none")
    summary = run.logs[0]
    total = summary.samples
    assert summary.status == "success" and summary.completed == total > len(done)
    resumed = {str(s.id): s.uuid for s in read_eval_log(summary.path).samples or []}
    assert all(resumed[k] == uuid for k, uuid in done.items())  # kept, not run again
    assert summary.divergence_rate == 0.0
