"""Lifecycle safety, images and doctor: teardown on signals, gc, content-addressed builds."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker.errors
import pytest
from typer.testing import CliRunner

from deploysim.cli import app
from deploysim.sandbox._docker import client
from deploysim.sandbox._images import ImageBuildError, _run, base_tag, ensure_base_image
from deploysim.sandbox._lifecycle import gc

pytestmark = pytest.mark.docker

_START_AND_WAIT = """
import asyncio, sys, time
from deploysim.sandbox import Pod
async def main():
    pod = await Pod.start(sample_id="signal-test")
    print(pod.id, flush=True)
    while True:
        await asyncio.sleep(1)
asyncio.run(main())
"""


def _pod_containers(pod_id: str) -> list[object]:
    return list(client().containers.list(all=True, filters={"label": f"deploysim.pod={pod_id}"}))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signals_tear_the_run_down(base_image: str, sig: signal.Signals) -> None:
    """SIGTERM or SIGINT to a run removes its pods before the process exits."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _START_AND_WAIT],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        pod_id = proc.stdout.readline().strip()
        assert pod_id and _pod_containers(pod_id)
        proc.send_signal(sig)
        proc.wait(timeout=30)
        assert _pod_containers(pod_id) == []
    finally:
        if proc.poll() is None:
            proc.kill()


def test_gc_removes_containers_of_dead_runs(base_image: str) -> None:
    """A container whose run process is gone is removed by gc; kept and live ones stay."""
    c = client()
    dead = c.containers.create(
        base_image,
        command=["true"],
        labels={
            "deploysim.pod": "gc-dead",
            "deploysim.pid": "999999999",
            "deploysim.host": os.uname().nodename,
        },
    )
    kept = c.containers.create(
        base_image,
        command=["true"],
        labels={
            "deploysim.pod": "gc-kept",
            "deploysim.pid": "999999999",
            "deploysim.keep": "1",
            "deploysim.host": os.uname().nodename,
        },
    )
    live = c.containers.create(
        base_image,
        command=["true"],
        labels={
            "deploysim.pod": "gc-live",
            "deploysim.pid": str(os.getpid()),
            "deploysim.host": os.uname().nodename,
        },
    )
    try:
        result = gc()
        assert dead.name in result.removed
        assert kept.name in result.kept and live.name in result.kept
    finally:
        for ctr in (dead, kept, live):
            with contextlib.suppress(docker.errors.NotFound):  # gc removed it already
                ctr.remove(force=True)


def test_base_image_is_content_addressed_and_build_is_idempotent(base_image: str) -> None:
    """The tag is the recipe hash; building again is a no-op that returns the same tag."""
    again = ensure_base_image()
    assert again.tag == base_image == base_tag()
    assert again.built is False
    assert again.tag.split(":")[1] and len(again.tag.split(":")[1]) == 16


def test_failed_build_step_names_its_log(tmp_path: Path) -> None:
    """A failing build step raises ImageBuildError pointing at the build log."""
    log = tmp_path / "build.log"
    with pytest.raises(ImageBuildError, match=str(log)):
        _run(["sh", "-c", "echo broken >&2; exit 3"], log)
    assert "broken" in log.read_text()


def test_doctor_json_shape(base_image: str) -> None:
    """`deploysim doctor --json` prints {ok, checks: [{name, ok, detail, fix}]}."""
    res = CliRunner().invoke(app, ["doctor", "--json"])
    data = json.loads(res.stdout)
    assert set(data) == {"ok", "checks"}
    names = [c["name"] for c in data["checks"]]
    assert names == ["docker engine", "base image", "compose plugin", "inspect-ai"]
    assert all(set(c) == {"name", "ok", "detail", "fix"} for c in data["checks"])
    engine = data["checks"][0]
    assert engine["ok"] and "Docker Engine" in engine["detail"]
    assert data["checks"][1]["ok"]
    assert res.exit_code == (0 if data["ok"] else 1)


def test_sandbox_up_list_down(base_image: str) -> None:
    """`sandbox up` leaves a kept pod running; `list` shows it; `down` removes it."""
    runner = CliRunner()
    up = runner.invoke(app, ["sandbox", "up", "--json"])
    assert up.exit_code == 0, up.output
    pod_id = json.loads(up.stdout)["pod"]
    try:
        time.sleep(0.2)
        listed = json.loads(runner.invoke(app, ["sandbox", "list", "--json"]).stdout)
        mine = [r for r in listed if r["pod"] == pod_id]
        assert mine and mine[0]["kept"] and mine[0]["status"] == "running"
    finally:
        down = runner.invoke(app, ["sandbox", "down", pod_id])
    assert down.exit_code == 0
    assert _pod_containers(pod_id) == []
