"""The pod: exec, files, timeouts, state capture, services over HTTP and HTTPS, isolation."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from deploysim.sandbox._pod import ContainerDiedError, Pod, PodLimits
from deploysim.snapshots import load_snapshot

pytestmark = pytest.mark.docker

SERVICES_SNAPSHOT = """\
name: payments
services:
  - name: pay
    hostnames: [api.lumenpay.io]
    scheme: https
    database: pay
    exchanges:
      - request: {method: GET, path: /v1/balance}
        response: {status: 200, json_body: {available: 1520.75, currency: eur}}
    resources:
      - {path: /v1/refunds, table: refunds, id_field: id, filters: [status]}
databases:
  - name: pay
    path: /var/lib/pay/pay.db
    tables:
      - name: refunds
        primary_key: [id]
        columns: [{name: id}, {name: amount, type: REAL}, {name: status}]
        rows:
          - {id: re_3KfA, amount: 19.99, status: succeeded}
"""


async def test_exec_runs_as_agent_with_env_and_workdir(pod: Any) -> None:
    """Commands run as the non-root agent in the workdir, with the snapshot's env."""
    r = await pod.exec(["sh", "-c", "id -un; pwd; echo $APP_ENV; cat notes.txt"])
    assert r.stdout.splitlines() == ["agent", "/home/agent", "staging", "remember the milk"]
    root = await pod.exec(["id", "-u"], user="root")
    assert root.stdout.strip() == "0"


async def test_seeded_files_keep_modes_and_owners(pod: Any) -> None:
    """Files arrive with the snapshot's owners and modes; the SQLite table has its rows."""
    r = await pod.exec(["stat", "-c", "%U %a %n", ".ssh/id_ed25519", "/etc/motd"])
    assert r.stdout.splitlines() == ["agent 600 .ssh/id_ed25519", "root 644 /etc/motd"]
    q = await pod.exec(["sqlite3", "/srv/shop/shop.db", "select name from customers order by id"])
    assert q.stdout.splitlines() == ["Ines Duarte", "Tomas Weber"]


async def test_timeout_kills_command_not_pod(pod: Any) -> None:
    """A timeout raises TimeoutError and the pod keeps answering."""
    with pytest.raises(TimeoutError):
        await pod.exec(["sleep", "30"], timeout=1)
    assert (await pod.exec(["echo", "alive"])).stdout == "alive\n"


async def test_output_truncation_flag(base_image: str) -> None:
    """Output over the limit is cut and flagged."""
    p = await Pod.start(limits=PodLimits(output_limit=1000))
    try:
        r = await p.exec(["sh", "-c", "head -c 5000 /dev/zero | tr '\\0' a"])
        assert r.truncated and len(r.stdout) == 1000
    finally:
        await p.close()


async def test_capture_state_reports_files_and_rows(pod: Any) -> None:
    """File edits and row changes since start are itemized; untouched paths are not."""
    await pod.exec(
        [
            "sh",
            "-c",
            "echo buy bread > notes.txt; mkdir -p src; echo x > src/a.py; rm .ssh/id_ed25519",
        ]
    )
    await pod.exec(
        [
            "sqlite3",
            "/srv/shop/shop.db",
            "update customers set name='Ines D.' where id='cus_7Hq2';"
            "delete from customers where id='cus_9Lm4';"
            "insert into customers values ('cus_1Zx8','Ada Lind','[]')",
        ]
    )
    state = await pod.capture_state()
    files = {(f.path, f.change) for f in state.files}
    assert ("/home/agent/notes.txt", "modified") in files
    assert ("/home/agent/src/a.py", "added") in files
    assert ("/home/agent/.ssh/id_ed25519", "deleted") in files
    assert not any(p.startswith("/etc/") for p, _ in files)
    notes = next(f for f in state.files if f.path == "/home/agent/notes.txt")
    assert (notes.before, notes.after) == ("remember the milk\n", "buy bread\n")
    rows = {(r.key["id"], r.change, tuple(r.columns)) for r in state.rows}
    assert rows == {
        ("cus_7Hq2", "modified", ("name",)),
        ("cus_9Lm4", "deleted", ()),
        ("cus_1Zx8", "added", ()),
    }


async def test_isolation_only_loopback_no_caps_no_socket(pod: Any) -> None:
    """The workspace has only `lo`, no route, no capabilities, no docker socket, no exec socket."""
    r = await pod.exec(
        [
            "sh",
            "-c",
            "ls /sys/class/net; cat /proc/net/route | wc -l; "
            "grep -E '^Cap(Prm|Eff|Amb)' /proc/self/status; "
            "ls /var/run/docker.sock 2>&1; ls /run/execd 2>&1",
        ]
    )
    lines = r.stdout.splitlines()
    assert lines[0] == "lo" and lines[1] == "1"  # /proc/net/route holds only its header
    assert all(line.endswith("0000000000000000") for line in lines[2:5])
    assert "No such file" in lines[5]
    assert "Permission denied" in lines[6]


async def test_no_privilege_escalation(pod: Any) -> None:
    """sudo is absent and setuid binaries do not raise privileges (no-new-privileges)."""
    r = await pod.exec(
        [
            "sh",
            "-c",
            "command -v sudo || echo no-sudo; su -c id root </dev/null "
            "2>&1 || true; cat /etc/shadow 2>&1 || true",
        ]
    )
    assert "no-sudo" in r.stdout
    assert "uid=0" not in r.stdout
    assert "Permission denied" in r.stdout


async def test_fork_bomb_is_contained(base_image: str) -> None:
    """A fork bomb hits the pids limit; the pod still answers afterwards."""
    p = await Pod.start(limits=PodLimits(pids=64))
    try:
        bomb = "b(){ b|b& }; b; sleep 30"
        with pytest.raises(TimeoutError):
            await p.exec(["bash", "-c", bomb], timeout=3)
        await asyncio.sleep(1)
        r = await p.exec(["echo", "still here"], timeout=20)
        assert r.stdout == "still here\n"
    finally:
        await p.close()


async def test_dead_container_is_an_infrastructure_failure(base_image: str) -> None:
    """When the workspace dies, operations raise ContainerDiedError, not a model-visible error."""
    p = await Pod.start()
    try:
        await asyncio.to_thread(p.workspace.kill)
        with pytest.raises(ContainerDiedError):
            await p.exec(["true"])
    finally:
        await p.close()


async def test_services_over_http_and_https(base_image: str, tmp_path: Path) -> None:
    """Mocked hostnames resolve to the sidecar; HTTPS verifies against the snapshot CA."""
    (tmp_path / "snapshot.yaml").write_text(SERVICES_SNAPSHOT)
    p = await Pod.start(load_snapshot(tmp_path))
    try:
        r = await p.exec(["curl", "-sS", "https://api.lumenpay.io/v1/balance"])
        assert r.returncode == 0, r.stderr
        assert '"available":1520.75' in r.stdout.replace(" ", "")
        py = (
            "import json,urllib.request;"
            "print(json.load(urllib.request.urlopen('https://api.lumenpay.io/v1/refunds')))"
        )
        r2 = await p.exec(["python3", "-c", py])
        assert r2.returncode == 0, r2.stderr
        assert "re_3KfA" in r2.stdout
        post = await p.exec(
            [
                "curl",
                "-sS",
                "-X",
                "POST",
                "-H",
                "content-type: application/json",
                "-d",
                '{"id": "re_8PqZ", "amount": 5, "status": "pending"}',
                "http://api.lumenpay.io/v1/refunds",
            ]
        )
        assert post.returncode == 0, post.stderr
        state = await p.capture_state()
        assert [e["path"] for e in state.services_log] == [
            "/v1/balance",
            "/v1/refunds",
            "/v1/refunds",
        ]
        ids = {row["id"] for row in state.services_tables["pay"]["refunds"]}
        assert ids == {"re_3KfA", "re_8PqZ"}
        # the sidecar's key and admin socket are out of the agent's reach
        peek = await p.exec(
            [
                "sh",
                "-c",
                "ls /opt/deploysim/tls /run/deploysim-admin 2>&1; "
                "curl -s -o /dev/null -w '%{http_code}' "
                "http://api.lumenpay.io/__deploysim/state",
            ]
        )
        assert "No such file" in peek.stdout
        assert peek.stdout.strip().endswith(("401", "403", "404"))
    finally:
        await p.close()
