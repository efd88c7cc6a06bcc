"""Labels on everything we start, tear-down on SIGINT/SIGTERM, and garbage collection.

Every container carries ``deploysim.pod``, ``deploysim.run``, ``deploysim.pid`` and
``deploysim.host``. Live pods are registered in-process; SIGINT and SIGTERM close them before
the process exits, and ``atexit`` catches the rest. ``deploysim sandbox gc`` removes
containers whose run process is gone.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import threading
from types import FrameType
from typing import Any, NamedTuple, Protocol

from deploysim.sandbox._docker import client

__all__ = ["RUN_ID", "GcResult", "gc", "labels_for", "register", "unregister"]

RUN_ID = f"{socket.gethostname()}-{os.getpid()}-{os.urandom(3).hex()}"
LABEL = "deploysim.pod"


class _Closable(Protocol):
    id: str

    def _close_sync(self) -> None: ...


# Strong references: a pod whose start failed half-way must still be torn down at exit.
_live: dict[str, Any] = {}
_lock = threading.Lock()
_installed = False


def labels_for(pod_id: str, run_id: str | None, sample_id: str | None) -> dict[str, str]:
    """The labels every container of a pod carries."""
    return {
        LABEL: pod_id,
        "deploysim.run": run_id or RUN_ID,
        "deploysim.sample": sample_id or "",
        "deploysim.pid": str(os.getpid()),
        "deploysim.host": socket.gethostname(),
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
    kept: list[str]


def _alive(pid: str, host: str) -> bool:
    if host != socket.gethostname():
        return True  # another machine's run: not ours to judge
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def gc(*, everything: bool = False) -> GcResult:
    """Remove deploysim containers whose run process is gone.

    Pods started with ``sandbox up`` are kept unless ``everything`` is set.
    """
    removed: list[str] = []
    kept: list[str] = []
    for c in client().containers.list(all=True, filters={"label": LABEL}):
        labels = c.labels
        kept_on_purpose = labels.get("deploysim.keep") == "1"
        dead = not _alive(labels.get("deploysim.pid", ""), labels.get("deploysim.host", ""))
        if everything or (dead and not kept_on_purpose):
            c.remove(force=True, v=True)
            removed.append(c.name)
        else:
            kept.append(c.name)
    for c in client().containers.list(all=True, filters={"label": "deploysim.role=build"}):
        c.remove(force=True)
        removed.append(c.name)
    return GcResult(removed, kept)
