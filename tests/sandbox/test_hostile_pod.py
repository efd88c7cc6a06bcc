"""Hostile snapshots and a hostile agent against the pod: privilege, host paths, ports, trees, disk.

A snapshot is untrusted input, like a trace; so is everything the agent does in the pod. The
snapshots are written by hand (not through the snapshots helper), so the pod's own defences are
what is tested, whatever ``load_snapshot`` accepts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploysim.errors import SnapshotError
from deploysim.sandbox._docker import client
from deploysim.sandbox._lifecycle import gc
from deploysim.sandbox._paths import cache_dir
from deploysim.sandbox._pod import Pod, PodLimits
from deploysim.sandbox._seed import ensure_snapshot_images
from deploysim.snapshots import (
    Database,
    FileEntry,
    Snapshot,
    SnapshotDir,
    load_snapshot,
    system_path_reason,
)

PASSWD = (
    "root:x:0:0:root:/root:/bin/bash\n"
    "agent:x:0:0:deploysim agent:/home/agent:/bin/bash\n"
    "services:x:999:999::/var/lib/deploysim:/usr/sbin/nologin\n"
)
SERVICES = {
    "services": [
        {
            "name": "pay",
            "hostnames": ["api.lumenpay.io"],
            "scheme": "https",
            "exchanges": [
                {
                    "request": {"method": "GET", "path": "/v1/balance"},
                    "response": {"status": 200, "json_body": {"available": 3}},
                }
            ],
        }
    ]
}


def _write(root: Path, data: dict[str, Any]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "snapshot.yaml").write_text(yaml.safe_dump({"name": "hostile", **data}))
    return root


def _dir(tmp_path: Path, data: dict[str, Any]) -> SnapshotDir:
    """A SnapshotDir built without any validation: the pod must not rely on the model's checks.

    ``model_construct`` keeps hostile values the snapshot model may refuse (system paths,
    setid modes, a root user, loader variables), as a hand-edited or foreign snapshot would.
    """
    files = [FileEntry.model_construct(**f) for f in data.get("files", [])]
    dbs = [Database.model_construct(**d) for d in data.get("databases", [])]
    plain = {k: v for k, v in data.items() if k not in ("files", "databases", "user", "env")}
    snap = Snapshot.model_validate({"name": "hostile", **plain}).model_copy(
        update={
            "files": files,
            "databases": dbs,
            "user": data.get("user", "agent"),
            "env": data.get("env", {}),
        }
    )
    return SnapshotDir(tmp_path, snap)


async def _refusal(sd: SnapshotDir) -> SnapshotError:
    """The SnapshotError Pod.start raises; fails the test (after closing the pod) if it starts."""
    try:
        pod = await Pod.start(sd)
    except SnapshotError as e:
        return e
    try:
        ident = await _identity(pod)
    finally:
        await pod.close()
    pytest.fail(f"the pod started; the agent's uid, gid, groups, CapEff: {ident}")


async def _identity(pod: Any) -> list[str]:
    r = await pod.exec(["sh", "-c", "id -u; id -g; id -G; grep ^CapEff /proc/self/status"])
    return r.stdout.split("\n")[:4]


# --------------------------------------------------------------------- seeding (no engine needed)


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"path": "/etc/passwd", "content": PASSWD}, "files[0].path"),
        ({"path": "/etc/shadow", "content": "agent::0:0:99999:7:::\n"}, "files[0].path"),
        ({"path": "/etc/sudoers.d/agent", "content": "agent ALL=(ALL) NOPASSWD:ALL\n"}, None),
        ({"path": "/etc/ld.so.preload", "content": "/home/agent/x.so\n"}, None),
        ({"path": "/etc/pam.d/su", "content": "auth sufficient pam_permit.so\n"}, None),
        ({"path": "/usr/lib/python3.11/json/__init__.py", "content": "import os\n"}, None),
        ({"path": "//etc//group", "content": "root:x:0:agent\n"}, None),
        ({"path": "/etc", "kind": "dir", "mode": "0777"}, None),
        ({"path": "/usr/local/bin", "kind": "dir", "mode": "0777"}, None),
        ({"path": "/home/agent/sh", "content": "x", "mode": "4755"}, "files[0].mode"),
        ({"path": "/home/agent/g", "content": "x", "mode": "2755"}, "files[0].mode"),
    ],
)
def test_seed_refuses_system_paths_and_setid_bits(
    tmp_path: Path, entry: dict[str, Any], field: str | None
) -> None:
    """The image build is the last line: system paths, standard folders and setid bits are refused.

    The error is a SnapshotError naming the snapshot file and the entry's field.
    """
    sd = _dir(tmp_path, {"files": [{"path": "/home/agent/ok.txt", "content": "ok"}, entry]})
    with pytest.raises(SnapshotError) as info:
        ensure_snapshot_images(sd, "unused-base")
    assert info.value.field == (field or "files[1].path").replace("[0]", "[1]")
    assert str(tmp_path / "snapshot.yaml") in str(info.value)


def test_seed_refuses_entries_below_a_snapshot_symlink(tmp_path: Path) -> None:
    """A file below a symlink the snapshot creates is refused: unpacking would follow the link."""
    sd = _dir(
        tmp_path,
        {
            "files": [
                {"path": "/home/agent/cfg", "kind": "symlink", "target": "/etc"},
                {"path": "/home/agent/cfg/passwd", "content": PASSWD},
            ]
        },
    )
    with pytest.raises(SnapshotError, match="below the symlink /home/agent/cfg") as info:
        ensure_snapshot_images(sd, "unused-base")
    assert info.value.field == "files[1].path"


def test_seed_refuses_system_database_paths(tmp_path: Path) -> None:
    """A database file may not land on a system path either (its rows are agent-chosen bytes)."""
    sd = _dir(tmp_path, {"databases": [{"name": "d", "path": "/etc/passwd", "tables": []}]})
    with pytest.raises(SnapshotError) as info:
        ensure_snapshot_images(sd, "unused-base")
    assert info.value.field == "databases[0].path"


@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink"])
def test_seed_never_copies_a_host_file(tmp_path: Path, how: str) -> None:
    """A file's ``source`` that leads out of the snapshot folder (``..``, an absolute path, a
    symlink inside files/ pointing out) is refused at build, even for a snapshot that skipped
    load's checks: the host file is never read into the image."""
    secret = tmp_path / "host-secret"
    secret.write_text("root-only host data\n")
    root = tmp_path / "snap"
    (root / "files").mkdir(parents=True)
    source = {"dotdot": "../host-secret", "absolute": str(secret), "symlink": "link"}[how]
    if how == "symlink":
        (root / "files" / "link").symlink_to(secret)
    sd = _dir(root, {"files": [{"path": "/home/agent/notes.txt", "source": source}]})
    with pytest.raises(SnapshotError) as info:
        ensure_snapshot_images(sd, "unused-base")
    assert info.value.field == "files[/home/agent/notes.txt].source"
    assert "root-only host data" not in str(info.value)


# --------------------------------------------------------------------- privilege, on a real engine


@pytest.mark.docker
async def test_passwd_snapshot_cannot_make_the_agent_root(base_image: str, tmp_path: Path) -> None:
    """A snapshot holding /etc/passwd with agent:x:0:0 never yields a root agent.

    Either the pod refuses to start (SnapshotError), or the agent runs as uid 1000 with no
    capabilities; and no container is left behind.
    """
    folder = _write(tmp_path / "snap", {"files": [{"path": "/etc/passwd", "content": PASSWD}]})
    mine = {"label": f"deploysim.pid={os.getpid()}"}
    before = {c.id for c in client().containers.list(all=True, filters=mine)}
    try:
        loaded = load_snapshot(folder)
    except SnapshotError as e:  # refused at load (the snapshots' own validation): fine too
        error = e
    else:
        error = await _refusal(loaded)
    assert "/etc/passwd" in str(error)
    unvalidated = _dir(folder, {"files": [{"path": "/etc/passwd", "content": PASSWD}]})
    assert (await _refusal(unvalidated)).field == "files[0].path"
    assert {c.id for c in client().containers.list(all=True, filters=mine)} == before


@pytest.mark.docker
@pytest.mark.parametrize("user", ["root", "no-such-user", "services", "daemon"])
async def test_pod_refuses_a_root_or_unknown_agent(
    base_image: str, tmp_path: Path, user: str
) -> None:
    """A snapshot whose user is root, a system account (the sidecar's services) or unknown
    in the image does not start.

    The error is bad input (SnapshotError on field 'user'), not an infrastructure failure, and
    the pod's containers are removed.
    """
    mine = {"label": f"deploysim.pid={os.getpid()}"}
    before = {c.id for c in client().containers.list(all=True, filters=mine)}
    error = await _refusal(_dir(tmp_path, {"user": user}))
    assert error.field == "user"
    assert user in str(error)
    assert {c.id for c in client().containers.list(all=True, filters=mine)} == before


@pytest.mark.docker
async def test_identities_are_pinned_when_the_pod_starts(base_image: str) -> None:
    """The agent's uid is the image's, fixed at start: a user database changed later is ignored.

    Even if something rewrote /etc/passwd mid-run (here root, through the harness), the agent's
    next command runs as uid 1000 with no capabilities, never as uid 0.
    """
    pod = await Pod.start()
    try:
        rewrite = (
            "sed -i 's/^agent:x:1000:1000:/agent:x:0:0:/' /etc/passwd; grep ^agent: /etc/passwd"
        )
        changed = await pod.exec(["sh", "-c", rewrite], user="root")
        assert changed.stdout.startswith("agent:x:0:0:"), changed.stderr
        assert (await _identity(pod)) == ["1000", "1000", "1000", "CapEff:\t0000000000000000"]
    finally:
        await pod.close()


SHIM = '#!/bin/sh\nid -u >> /tmp/shim-ran\nexec /usr/bin/python3 "$@"\n'
PTH = "import os; open('/tmp/pth-ran', 'a').write(str(os.getuid()) + chr(10))\n"
SITECUSTOMIZE = "import os; open('/tmp/site-ran', 'a').write(str(os.getuid()) + chr(10))\n"
FAKE_JSON = "import os; open('/tmp/json-ran', 'a').write(str(os.getuid()) + chr(10))\n"


@pytest.mark.docker
async def test_snapshot_code_never_runs_as_root(base_image: str, tmp_path: Path) -> None:
    """A python3 shim in /usr/local/bin, a .pth, a sitecustomize and PYTHONPATH never run as root.

    The exec server (root) starts as /usr/bin/python3 -I -S; the snapshot's variables reach the
    agent's commands only; a command the harness runs as root finds /usr/bin's python3. The
    agent stays uid 1000 with CapEff 0; whatever the snapshot's code recorded is never uid 0.
    Entries the system-path rule covers (it may grow) must be refused at build instead.
    """
    candidates = [
        {"path": "/usr/local/bin/python3", "content": SHIM, "mode": "0755"},
        {"path": "/usr/local/lib/python3.11/dist-packages/zz.pth", "content": PTH},
        {"path": "/etc/python3.11/sitecustomize.py", "content": SITECUSTOMIZE, "owner": "root"},
        {"path": "/home/agent/evil/json.py", "content": FAKE_JSON},
    ]
    for entry in [f for f in candidates if system_path_reason(f["path"])]:
        assert (await _refusal(_dir(tmp_path, {"files": [entry]}))).field == "files[0].path"
    files = [f for f in candidates if not system_path_reason(f["path"])]
    sd = _dir(tmp_path, {"files": files, "env": {"PYTHONPATH": "/home/agent/evil"}})
    pod = await Pod.start(sd)
    try:
        assert (await _identity(pod)) == ["1000", "1000", "1000", "CapEff:\t0000000000000000"]
        root_python = await pod.exec(["sh", "-c", "command -v python3"], user="root")
        assert root_python.stdout.strip() == "/usr/bin/python3"
        await pod.exec(["python3", "-c", "import json"])  # the agent may run its own code
        marks = await pod.exec(["sh", "-c", "cat /tmp/*-ran 2>/dev/null"], user="root")
        assert "0" not in marks.stdout.split(), marks.stdout
    finally:
        await pod.close()


# --------------------------------------------------------------------- stage lights, ports


@pytest.mark.docker
async def test_mountinfo_and_processes_name_no_host_path(base_image: str, tmp_path: Path) -> None:
    """What the agent can look at names neither deploysim nor the host's cache folder.

    Its mountinfo, the process list, /opt and /var/lib, the user database and the TLS issuer
    of the mocked services: each such name would be a stage light telling it is in a test.
    """
    pod = await Pod.start(_dir(tmp_path, SERVICES))
    try:
        r = await pod.exec(
            [
                "sh",
                "-c",
                "cat /proc/self/mountinfo; ps -eo args; ls -a /opt /var/lib; getent passwd; "
                "getent group; curl -sv -o /dev/null https://api.lumenpay.io/v1/balance 2>&1",
            ]
        )
        assert r.returncode == 0, r.stderr
        assert "issuer:" in r.stdout  # the TLS handshake was looked at
        for tell in ("deploysim", str(cache_dir()), ".cache"):
            assert tell not in r.stdout, tell
    finally:
        await pod.close()


BIND = """
import socket, sys
for host, port in [("127.0.0.1", 80), ("127.0.0.1", 443), ("0.0.0.0", 80), ("127.0.0.1", 1023)]:
    s = socket.socket()
    try:
        s.bind((host, port))
        print(host, port, "bound")
    except OSError as e:
        print(host, port, e.errno)
"""


@pytest.mark.docker
async def test_agent_cannot_bind_service_ports(base_image: str, tmp_path: Path) -> None:
    """Privileged ports stay privileged: the agent binds none; the services answer http and https.

    EACCES (13), not "address in use": the agent could take the port the moment the sidecar
    let go of it otherwise.
    """
    pod = await Pod.start(_dir(tmp_path, SERVICES))
    try:
        r = await pod.exec(["python3", "-c", BIND])
        assert r.returncode == 0, r.stderr
        assert [line.split()[-1] for line in r.stdout.splitlines()] == ["13"] * 4, r.stdout
        for scheme in ("http", "https"):
            got = await pod.exec(["curl", "-sS", f"{scheme}://api.lumenpay.io/v1/balance"])
            assert got.returncode == 0 and '"available":3' in got.stdout.replace(" ", "")
    finally:
        await pod.close()


# --------------------------------------------------------------------- process trees


# A persistent fork bomb: every process but the first keeps forking whenever a pid is free,
# so the pids limit stays full for as long as they live; the first one returns once it is
# full (after ``hold`` seconds). A classic bash bomb collapses by itself at random.
FILL = """
import os, sys, time
top = os.getpid()
while True:
    try:
        os.fork()
    except OSError:
        if os.getpid() == top:
            break
        time.sleep(0.005)
print("full", flush=True)
time.sleep(float(sys.argv[1]))
"""


@pytest.mark.docker
@pytest.mark.parametrize("hold", [0, 30])
async def test_fork_bomb_dies_with_its_command(base_image: str, hold: int) -> None:
    """After a command that filled the pids limit returns (or times out), the next runs at once.

    The command's whole tree is killed with it, so nothing holds the pids limit afterwards.
    """
    pod = await Pod.start(limits=PodLimits(pids=64))
    try:
        with contextlib.suppress(TimeoutError):  # the holding variant times out
            r = await pod.exec(["python3", "-c", FILL, str(hold)], timeout=3)
            assert r.stdout == "full\n"
        started = time.monotonic()
        r = await pod.exec(["true"], timeout=20)
        assert r.returncode == 0
        assert time.monotonic() - started < 2.0
        bomb = "b(){ b|b& }; b; sleep 30"  # and the classic bomb, timed out
        with pytest.raises(TimeoutError):
            await pod.exec(["bash", "-c", bomb], timeout=2)
        assert (await pod.exec(["true"], timeout=20)).returncode == 0
    finally:
        await pod.close()


@pytest.mark.docker
async def test_a_full_process_table_is_the_agents_failure(base_image: str) -> None:
    """While a command fills the pids limit, other commands fail as commands, not as the pod.

    The exec server still answers (an ExecResult: a failed fork), never an InfrastructureError;
    once the filling command times out, commands succeed again.
    """
    pod = await Pod.start(limits=PodLimits(pids=64))
    try:
        filler = asyncio.create_task(pod.exec(["python3", "-c", FILL, "30"], timeout=5))
        await asyncio.sleep(2)
        during = [await pod.exec(["true"], timeout=10) for _ in range(3)]
        assert all(r.returncode != 0 and "fork" in r.stderr for r in during), during
        with pytest.raises(TimeoutError):
            await filler
        assert (await pod.exec(["true"], timeout=10)).returncode == 0
    finally:
        await pod.close()


# Many small processes, each smaller than the exec server, that together exhaust the memory.
SMALL_HOGS = (
    "for i in $(seq 40); do python3 -c "
    "'import time; x = bytearray(2 << 20); x[::4096] = bytes(len(x[::4096])); time.sleep(20)' & "
    "done; sleep 6; cat /proc/self/oom_score_adj"
)


@pytest.mark.docker
async def test_exhausting_memory_kills_the_agents_processes_not_the_pod(base_image: str) -> None:
    """An agent that fills the pod's memory with many small processes loses its own processes.

    Without the commands' raised OOM score the kernel picked the exec server (the largest
    single process), so the pod looked dead: an infrastructure failure made by the agent.
    """
    pod = await Pod.start(limits=PodLimits(memory="192m", pids=256))
    try:
        r = await pod.exec(["sh", "-c", SMALL_HOGS], timeout=60)
        assert r.stdout.split()[-1:] == ["1000"]  # commands are the OOM killer's first choice
        pod.check_alive()
        assert (await pod.exec(["echo", "ok"])).stdout == "ok\n"
    finally:
        await pod.close()


@pytest.mark.docker
async def test_escaped_background_processes_end_with_their_command(base_image: str) -> None:
    """Background jobs, nohup and setsid daemons of a command end when the command ends.

    The same holds when the command times out.
    """
    pod = await Pod.start()
    try:
        await pod.exec(
            ["bash", "-c", "sleep 901 & nohup sleep 902 >/dev/null 2>&1 & setsid -f sleep 903"]
        )
        left = await pod.exec(["sh", "-c", "ps -eo args | grep '[s]leep 90' || true"], user="root")
        assert left.stdout == ""
        again = await pod.exec(["echo", "next"])
        assert again.stdout == "next\n"
        with pytest.raises(TimeoutError):  # and when the command times out
            await pod.exec(["bash", "-c", "setsid -f sleep 904; sleep 905"], timeout=1)
        left = await pod.exec(["sh", "-c", "ps -eo args | grep '[s]leep 90' || true"], user="root")
        assert left.stdout == ""
    finally:
        await pod.close()


# --------------------------------------------------------------------- disk


@pytest.mark.docker
async def test_filling_the_disk_fails_the_command_not_the_pod(base_image: str) -> None:
    """A file past the limit fails with EFBIG, a full /tmp with ENOSPC; the pod keeps answering.

    Both are the agent's own command failing (an ExecResult), never an infrastructure error.
    """
    pod = await Pod.start(limits=PodLimits(disk="16m", tmp="8m"))
    try:
        big = await pod.exec(["sh", "-c", "head -c 32M /dev/zero > big; echo $?"])
        assert "File too large" in big.stderr
        tmp = await pod.exec(["sh", "-c", "head -c 32M /dev/zero > /tmp/big"])
        assert tmp.returncode != 0 and "No space left" in tmp.stderr
        size = await pod.exec(["sh", "-c", "stat -c %s big /tmp/big"])
        assert [int(n) for n in size.stdout.split()] == [16 << 20, 8 << 20]
        used = await pod.disk_usage()  # the host-side measure (None where it cannot read it)
        assert used is None or used >= 16 << 20
        assert (await pod.exec(["echo", "alive"])).stdout == "alive\n"
    finally:
        await pod.close()


# --------------------------------------------------------------------- kill -9 of the host


_START_AND_HANG = """
import asyncio, sys
from deploysim.sandbox import Pod
from deploysim.snapshots import load_snapshot
async def main():
    pod = await Pod.start(load_snapshot(sys.argv[1]), sample_id="sigkill-test")
    print(pod.id, pod.scratch, flush=True)
    await asyncio.sleep(3600)
asyncio.run(main())
"""

_START_ONE = """
import asyncio
from deploysim.sandbox import Pod
async def main():
    pod = await Pod.start(sample_id="reaper")
    await pod.close()
asyncio.run(main())
"""


def _containers(pod_id: str) -> list[Any]:
    return list(client().containers.list(all=True, filters={"label": f"deploysim.pod={pod_id}"}))


@pytest.mark.docker
def test_sigkilled_host_leaves_nothing_behind(base_image: str, tmp_path: Path) -> None:
    """A pod whose host process is SIGKILLed stops itself, and the next run removes it.

    The exec server's lease ends with the process: the workspace stops, the sidecar follows.
    The next Pod.start in a new process removes both containers and the scratch folder.
    """
    folder = _write(tmp_path / "snap", SERVICES)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _START_AND_HANG, str(folder)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        pod_id, scratch = proc.stdout.readline().split()
        assert len(_containers(pod_id)) == 2
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 20
        while any(c.status == "running" for c in _containers(pod_id)):
            assert time.monotonic() < deadline, "the pod did not stop after its host died"
            time.sleep(0.2)
        subprocess.run([sys.executable, "-c", _START_ONE], env=env, check=True, timeout=120)
        assert _containers(pod_id) == []
        assert not Path(scratch).exists()
    finally:
        if proc.poll() is None:
            proc.kill()
        for c in _containers(pod_id) if "pod_id" in locals() else []:
            c.remove(force=True)


@pytest.mark.docker
def test_gc_removes_unused_scratch_folders_of_dead_owners(base_image: str) -> None:
    """`sandbox gc` removes a scratch folder no container uses once its owner is dead."""
    from deploysim.sandbox._containers import make_scratch

    dead = make_scratch(f"gc-dead-{os.urandom(5).hex()}")
    owner = {"deploysim.pid": "999999999", "deploysim.host": socket.gethostname()}
    (dead.root / "owner.json").write_text(json.dumps(owner))
    live = make_scratch(f"gc-live-{os.urandom(5).hex()}")  # owned by this (live) process
    try:
        result = gc()
        assert str(dead.root) in result.folders
        assert not dead.root.exists() and live.root.exists()
    finally:
        shutil.rmtree(live.root, ignore_errors=True)
        shutil.rmtree(dead.root, ignore_errors=True)
