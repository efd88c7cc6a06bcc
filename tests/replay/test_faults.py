"""Faults during a replay are classified right: the pod's are infrastructure (and retried);
what the agent made happen is its behaviour, recorded, never an error."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from inspect_ai.log import read_eval_log

from deploysim.replay import read_record
from deploysim.replay._run import run_replay
from deploysim.tools import CallContext, ToolOutcome, ToolRequest
from deploysim.tools._backends import ShellBackend
from deploysim.traces import ToolSpec

from .faults import bash, scenario, trace

pytestmark = pytest.mark.docker

KILL = "echo killing-the-sidecar"


def test_a_sidecar_that_dies_mid_sample_is_infrastructure_and_retried(
    tmp_path: Path, base_image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sidecar is killed (docker SDK) while the agent works; the agent's next request to
    the mocked API is refused, which must not pass for its behaviour: the attempt fails with
    ServicesUnavailableError naming the pod, counted as infrastructure, and the retry (a new
    pod) completes the sample."""
    killed: list[str] = []
    run_shell = ShellBackend.call

    async def killing(
        self: ShellBackend, spec: ToolSpec, request: ToolRequest, ctx: CallContext
    ) -> ToolOutcome:
        if KILL in str((request.arguments or {}).get("command")) and not killed:
            assert ctx.pod is not None and ctx.pod.services is not None
            killed.append(ctx.pod.id)
            await asyncio.to_thread(ctx.pod.services.kill)
        return await run_shell(self, spec, request, ctx)

    monkeypatch.setattr(ShellBackend, "call", killing)
    curl = (
        'python3 -c "import urllib.request as u; '
        "print(u.urlopen('https://api.corvapay.com/v1/charges', timeout=5).status)\""
    )
    path = scenario(tmp_path / "sc", [trace("sidecar", [bash(KILL), bash(curl)])])
    run = run_replay(path, ["deploysim/original"], log_dir=tmp_path / "logs", display="none")
    summary = run.logs[0]
    assert len(killed) == 1
    assert summary.retried == {"infrastructure": 1}
    assert summary.errors == {} and summary.completed == summary.samples == 1
    sample = (read_eval_log(summary.path).samples or [])[0]
    failed = (sample.error_retries or [])[0].message
    assert failed.startswith("ServicesUnavailableError(") and killed[0] in failed
    assert "exited" in failed
    assert read_record(sample).stop_reason == "trace_end"


def test_state_capture_past_its_caps_is_the_agents_behaviour(
    tmp_path: Path, base_image: str
) -> None:
    """An agent that grows the shop's database past what state capture reads (a sparse
    150 MiB file) leaves a completed sample with a record; whatever capture could not read is
    noted in it, never turned into an error (infrastructure or other) or a retry."""
    grow = bash("truncate -s 150M /srv/shop/shop.db && ls -la /srv/shop/shop.db")
    path = scenario(tmp_path / "sc", [trace("big-db", [grow])])
    run = run_replay(path, ["deploysim/original"], log_dir=tmp_path / "logs", display="none")
    summary = run.logs[0]
    assert summary.errors == {} and summary.retried == {}
    assert summary.completed == summary.samples == 1
    rec = read_record((read_eval_log(summary.path).samples or [])[0])
    assert "150" in (rec.candidate[0].output or "") or "157286400" in (
        rec.candidate[0].output or ""
    )
    state: dict[str, Any] = rec.end_state.model_dump()
    # capture is bounded: the state is captured, and the database past the cap is a note
    assert state["captured"] and state["error"] is None
    notes = [n for n in state["capture_notes"] if "shop" in (n.get("path") or "")]
    assert notes and notes[0]["size"] >= 150 * 1024 * 1024, state["capture_notes"]
