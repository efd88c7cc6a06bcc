"""Labels on everything we start, tear-down on SIGINT/SIGTERM, and garbage collection.

Every container carries ``deploysim.pod``, ``deploysim.run``, ``deploysim.pid``,
``deploysim.started`` (the owner process's start time, so a reused pid is not mistaken for
the owner) and ``deploysim.host``. Live pods are registered in-process; SIGINT and SIGTERM
close them before the process exits, and ``atexit`` catches the rest. A process killed
outright (SIGKILL) runs none of that: its pods stop themselves (the exec server's lease, see
:mod:`deploysim.sandbox.execserver`), and the next :meth:`Pod.start` of any process on this
host, like ``deploysim sandbox gc``, removes containers whose owner is gone and scratch folders
that no container uses.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any, NamedTuple, Protocol

from deploysim._errors import InfrastructureError
from deploysim.sandbox._docker import client
from deploysim.sandbox._paths import cache_dir, scratch_root

__all__ = [
    "RUN_ID",
    "GcResult",
    "gc",
    "labels_for",
    "owner_labels",
    "reap_once",
    "register",
    "unregister",
]

RUN_ID = f"{socket.gethostname()}-{os.getpid()}-{os.urandom(3).hex()}"
LABEL = "deploysim.pod"


class _Closable(Protocol):
    id: str

    def _close_sync(self) -> None: ...


# Strong references: a pod whose start failed half-way must still be torn down at exit.
_live: dict[str, Any] = {}
_lock = threading.Lock()
_installed = False


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot ('' when it does not exist)."""
    try:
        data = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return ""
    return data[data.rindex(b")") + 2 :].split()[19].decode()


def owner_labels() -> dict[str, str]:
    """Labels naming this process as the owner: pid, its start time and the host."""
    return {
        "deploysim.pid": str(os.getpid()),
        "deploysim.started": _start_time(os.getpid()),
        "deploysim.host": socket.gethostname(),
    }


def labels_for(pod_id: str, run_id: str | None, sample_id: str | None) -> dict[str, str]:
    """The labels every container of a pod carries."""
    return {
        LABEL: pod_id,
        "deploysim.run": run_id or RUN_ID,
        "deploysim.sample": sample_id or "",
        **owner_labels(),
    }


def close_all() -> None:
    """Close every pod this process still has open."""
    with _lock:
        pods = list(_live.values())
    for pod in pods:
        pod._close_sync()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    close_all()
    previous = _previous.get(signum)
    if callable(previous):
        previous(signum, frame)
    elif previous == signal.SIG_IGN:
        return
    else:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


_previous: dict[int, Any] = {}


def install_handlers() -> None:
    """Tear pods down at exit and on SIGINT/SIGTERM.

    Signal handlers can only be set from the main thread; call this from it (Pod.start does,
    before handing the blocking work to a thread). Idempotent.
    """
    global _installed
    if _installed or threading.current_thread() is not threading.main_thread():
        return
    _installed = True
    atexit_only()
    for sig in (signal.SIGINT, signal.SIGTERM):
        _previous[sig] = signal.getsignal(sig)
        signal.signal(sig, _on_signal)


_atexit_registered = False


def atexit_only() -> None:
    """At least tear pods down at exit, when signal handlers could not be installed."""
    global _atexit_registered
    if not _atexit_registered:
        _atexit_registered = True
        atexit.register(close_all)


def register(pod: _Closable) -> None:
    """Track a live pod so signals and exit tear it down."""
    with _lock:
        _live[pod.id] = pod
    atexit_only()


def unregister(pod: _Closable) -> None:
    """Stop tracking a closed pod."""
    with _lock:
        _live.pop(pod.id, None)


class GcResult(NamedTuple):
    """What garbage collection removed and kept."""

    removed: list[str]
    """Names of the containers removed."""
    kept: list[str]
    folders: list[str]
    """Scratch folders removed (no container used them)."""


# Written into each pod's scratch folder: the owner labels, so gc can tell a dead pod's folder.
OWNER_FILE = "owner.json"
_FOLDER_GRACE = 600.0
# Build containers of older deploysim versions carry no owner: only stale ones are removed.
_BUILD_GRACE = 600.0


def _alive(labels: dict[str, str]) -> bool:
    pid, host = labels.get("deploysim.pid", ""), labels.get("deploysim.host", "")
    if host != socket.gethostname():
        return True  # another machine's run: not ours to judge
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        pass
    started = labels.get("deploysim.started")
    return not started or _start_time(int(pid)) == started  # else the pid was reused


def _remove(container_id: str) -> None:
    import docker.errors

    try:
        client().api.remove_container(container_id, force=True, v=True)
    except docker.errors.NotFound:
        pass  # gone already (a concurrent gc, or the pod's own close)
    except docker.errors.APIError as e:
        if "already in progress" not in str(e):
            raise InfrastructureError(f"gc could not remove container {container_id}: {e}") from e


def _name(row: dict[str, Any]) -> str:
    names = row.get("Names") or [row["Id"][:12]]
    return str(names[0]).lstrip("/")


def _reap_containers(everything: bool, removed: list[str], kept: list[str]) -> None:
    for row in client().api.containers(all=True, filters={"label": LABEL}):
        labels = row.get("Labels") or {}
        kept_on_purpose = labels.get("deploysim.keep") == "1"
        if everything or (not kept_on_purpose and not _alive(labels)):
            _remove(row["Id"])
            removed.append(_name(row))
        else:
            kept.append(_name(row))
    now = time.time()
    for row in client().api.containers(all=True, filters={"label": "deploysim.role=build"}):
        labels = row.get("Labels") or {}
        stale = now - float(row.get("Created", now)) > _BUILD_GRACE
        owned = "deploysim.pid" in labels
        if everything or (not _alive(labels) if owned else stale):
            _remove(row["Id"])
            removed.append(_name(row))


def _pods_in_use() -> set[str]:
    rows = client().api.containers(all=True, filters={"label": LABEL})
    return {str((r.get("Labels") or {}).get(LABEL, "")) for r in rows}


def _owner_of(folder: Path) -> dict[str, str] | None:
    try:
        data = json.loads((folder / OWNER_FILE).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _unused_folder(folder: Path, in_use: set[str], now: float) -> bool:
    if folder.name in in_use or folder.is_symlink() or not folder.is_dir():
        return False
    owner = _owner_of(folder)
    if owner is not None:
        return not _alive(owner)
    # No owner recorded (older versions): made a moment before its containers, so only
    # folders past a grace period count as left behind.
    return now - folder.lstat().st_mtime > _FOLDER_GRACE


def _reap_folders() -> list[str]:
    """Remove scratch folders no container uses whose owner is gone."""
    in_use = _pods_in_use()
    removed: list[str] = []
    now = time.time()
    for root in (scratch_root(), cache_dir("pods")):  # cache_dir("pods"): older versions
        for folder in root.iterdir():
            if _unused_folder(folder, in_use, now):
                shutil.rmtree(folder, ignore_errors=True)  # a dead pod's sockets: nothing to keep
                removed.append(str(folder))
    return removed


def gc(*, everything: bool = False) -> GcResult:
    """Remove deploysim containers whose owner process is gone, and unused scratch folders.

    Pods started with ``sandbox up`` are kept unless ``everything`` is set. The owner is the
    process named by the ``deploysim.pid``/``deploysim.started`` labels on this host; pods of
    other hosts are left alone.

    Raises:
        InfrastructureError: the engine refused to remove a container.
    """
    removed: list[str] = []
    kept: list[str] = []
    _reap_containers(everything, removed, kept)
    return GcResult(removed, kept, _reap_folders())


_reaped = False
_reap_lock = threading.Lock()


def reap_once() -> GcResult | None:
    """Run :func:`gc` once per process (the first pod start); None on later calls."""
    global _reaped
    with _reap_lock:
        if _reaped:
            return None
        _reaped = True
    return gc()
