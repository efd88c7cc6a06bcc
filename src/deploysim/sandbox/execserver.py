"""The in-pod exec server: runs commands and file operations for the host, fast.

Runs inside the workspace container as root holding only CAP_SETUID, CAP_SETGID, CAP_KILL and
CAP_DAC_READ_SEARCH, started as ``/usr/bin/python3 -I -S -B`` so that nothing a snapshot put
into the image (``/usr/local/bin/python3``, a ``.pth`` or ``sitecustomize`` under
``/usr/local/lib``, ``PYTHON*`` variables) runs with its privileges. It listens on a unix
socket in a root-only folder that the host bind-mounts; the agent can neither reach the socket
nor signal the server.

Identities are read once, at start-up, from the image's own user database; a pod whose agent
user is unknown there or resolves to uid/gid 0 refuses to start. Each command runs under a
*shepherd*: a forked child (root, a child subreaper) that starts the command in a new session
as the requested user, checks that the drop took (real, effective and saved uid and gid, the
group list, no capabilities left), and when the command ends or times out kills every process
the command left behind, even those that escaped with ``setsid``: orphans reparent to the
shepherd, so its process tree is the command's. The agent's processes hold no capabilities.

Protocol: one JSON line in, one JSON line out, per connection. Bytes travel base64-encoded.
The ``lease`` op is the exception: the host holds that connection open for the pod's life, and
when it closes (the host process died, even by SIGKILL) the server kills every process in the
container and exits, so the container stops.

Stdlib only: this file is bind-mounted into the workspace and run by the image's python3.
"""

# ruff: noqa: BLE001
from __future__ import annotations

import base64
import contextlib
import ctypes
import errno
import grp
import hashlib
import json
import os
import pwd
import queue
import resource
import select
import signal
import socketserver
import stat
import sys
import threading
import time
from typing import Any, NamedTuple

DEFAULT_USER = os.environ.get("DEPLOYSIM_AGENT_USER", "agent")
MANIFEST_TEXT_LIMIT = 256 * 1024
ROOT_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
USER_PATH = "/usr/local/sbin:/usr/local/bin:" + ROOT_PATH
_PR_SET_CHILD_SUBREAPER = 36
_SHEPHERD_SIGNALS = {signal.SIGTERM, signal.SIGCHLD}
KILL_TREE_SECONDS = 10.0
FIRST_REGULAR_UID = 1000
WORKERS = 32  # concurrent requests; two hold leases for the pod's life


class Identity(NamedTuple):
    """A user as the image's own user database defines it (read once at start-up)."""

    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]
    home: str


def _load_identities() -> dict[str, Identity]:
    members: dict[str, set[int]] = {}
    for g in grp.getgrall():
        for m in g.gr_mem:
            members.setdefault(m, set()).add(g.gr_gid)
    return {
        e.pw_name: Identity(
            e.pw_name,
            e.pw_uid,
            e.pw_gid,
            tuple(sorted({e.pw_gid, *members.get(e.pw_name, ())})),
            e.pw_dir,
        )
        for e in pwd.getpwall()
    }


# Pinned before any command runs: whatever the agent later does to /etc cannot change who is who.
IDENTITIES: dict[str, Identity] = {}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str | None) -> bytes:
    return base64.b64decode(text) if text else b""


class PrivilegeError(PermissionError):
    """Dropping to a user did not leave exactly that user's identity: nothing runs."""


def agent_refusal(user: str) -> str | None:
    """Why the agent user cannot be used (unknown in the image, or root), or None."""
    ident = IDENTITIES.get(user)
    if ident is None:
        return f"the agent user {user!r} is unknown in the image's user database"
    if ident.uid == 0 or ident.gid == 0 or 0 in ident.groups:
        return f"the agent user {user!r} resolves to uid {ident.uid}, gid {ident.gid} (root)"
    if ident.uid < FIRST_REGULAR_UID:
        # System accounts own parts of the pod (services, uid 999, is the sidecar's user).
        return f"the agent user {user!r} is a system account (uid {ident.uid} < 1000)"
    return None


def _capabilities() -> dict[str, int]:
    caps: dict[str, int] = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("CapPrm:", "CapEff:", "CapAmb:")):
                key, value = line.split(":", 1)
                caps[key] = int(value, 16)
    return caps


def _verify(ident: Identity) -> None:
    """Check the drop took: ids, groups and (for non-root) an empty capability set."""
    uids, gids = os.getresuid(), os.getresgid()
    groups = set(os.getgroups()) | {ident.gid}
    if uids != (ident.uid,) * 3 or gids != (ident.gid,) * 3 or groups != set(ident.groups):
        raise PrivilegeError(
            f"dropping to {ident.name} left uids {uids}, gids {gids}, groups {sorted(groups)}"
        )
    if ident.uid != 0:
        held = {k: v for k, v in _capabilities().items() if v}
        if held:
            raise PrivilegeError(f"dropping to {ident.name} left capabilities {held}")


def _drop_to(user: str) -> Identity:
    """Become ``user`` (as pinned at start-up) for good; return its identity.

    Raises:
        PrivilegeError: the user is unknown, the agent resolves to root, or the drop did not
            take.
    """
    ident = IDENTITIES.get(user)
    if ident is None:
        raise PrivilegeError(f"unknown user: {user}")
    if user == DEFAULT_USER and agent_refusal(user):
        raise PrivilegeError(agent_refusal(user) or "")
    if os.getuid() == 0:
        os.setgroups(list(ident.groups))
        os.setgid(ident.gid)
        os.setuid(ident.uid)
    elif os.getuid() != ident.uid:
        raise PrivilegeError(f"cannot switch to user {user}")
    _verify(ident)
    os.environ["HOME"] = ident.home
    os.environ["USER"] = os.environ["LOGNAME"] = user
    return ident


def _exit_fd(pid: int) -> int | None:
    """A pidfd that turns readable when ``pid`` exits (Linux 5.3+), or None."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _pump(
    bufs: dict[int, bytearray],
    pid: int,
    deadline: float | None,
    limit: int,
    stdin_fd: int | None,
    stdin_data: bytes,
) -> tuple[bool, bool, int]:
    """Pump pipes until the shepherd exits; return (timed_out, truncated, wait status).

    The shepherd exits only once the command and everything it started are gone, so the
    pipes reach end-of-file with it. Its pidfd is selected too: between the command's exit
    and the shepherd's there is nothing else to wait on, and polling would spin.
    """
    truncated = False
    pending = stdin_data
    writers = [stdin_fd] if stdin_fd is not None else []
    if stdin_fd is not None and not pending:
        os.close(stdin_fd)
        writers = []
    readers = list(bufs)
    exit_fd = _exit_fd(pid)
    status: int | None = None
    try:
        while True:
            if status is None:
                done, st = os.waitpid(pid, os.WNOHANG)
                if done:
                    status = st
            now = time.monotonic()
            if status is None and deadline is not None and now >= deadline:
                for fd in writers:
                    os.close(fd)
                return True, truncated, 0
            wait = 0.0 if status is not None else 0.05
            if deadline is not None:
                wait = min(wait, max(0.0, deadline - now))
            watched = readers + ([exit_fd] if exit_fd is not None and status is None else [])
            if watched or writers:
                r, w, _ = select.select(watched, writers, [], wait)
            else:
                time.sleep(min(wait, 0.002))
                r, w = [], []
            for fd in w:
                try:
                    n = os.write(fd, pending[:65536])
                    pending = pending[n:]
                except BrokenPipeError:
                    pending = b""
                if not pending:
                    os.close(fd)
                    writers = []
            for fd in r:
                if fd == exit_fd:
                    continue  # the waitpid above collects it
                chunk = os.read(fd, 65536)
                if not chunk:
                    readers.remove(fd)
                    os.close(fd)
                    continue
                room = limit - len(bufs[fd])
                if room > 0:
                    bufs[fd].extend(chunk[:room])
                if len(chunk) > room:
                    truncated = True
            if status is not None and not [fd for fd in r if fd != exit_fd]:
                for fd in readers:
                    os.close(fd)
                for fd in writers:
                    os.close(fd)
                return False, truncated, status
    finally:
        if exit_fd is not None:
            os.close(exit_fd)


def _children_by_parent() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue  # exited while we looked
        ppid = int(data[data.rindex(b")") + 2 :].split()[1])  # comm may hold spaces and ')'
        out.setdefault(ppid, []).append(int(name))
    return out


def _descendants(root: int) -> list[int]:
    tree = _children_by_parent()
    found: list[int] = []
    stack = [root]
    while stack:
        for child in tree.get(stack.pop(), ()):
            found.append(child)
            stack.append(child)
    return found


def _has_children(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return bool(f.read().strip())
    except OSError:
        return True  # cannot tell cheaply: scan


def _reap_all() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def kill_tree() -> int:
    """Kill every descendant of this process until none is left; return how many were killed.

    Run by the shepherd, a child subreaper: whatever the command started and left behind
    (background jobs, ``setsid`` daemons, a fork bomb) is in its tree. A fork bomb keeps
    adding processes, so this repeats until a scan finds nothing, or gives up after
    ``KILL_TREE_SECONDS`` (a process stuck in the kernel cannot die; the server must not hang).
    """
    me, killed = os.getpid(), 0
    deadline = time.monotonic() + KILL_TREE_SECONDS
    while time.monotonic() < deadline:
        _reap_all()
        if not _has_children(me):
            return killed
        pids = _descendants(me)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        killed += len(pids)
        time.sleep(0.001)  # let the kills land before the next scan
    return killed


# Loaded once at start-up: every command's shepherd needs it, and loading costs a millisecond.
_LIBC = ctypes.CDLL(None, use_errno=True)


def _set_subreaper() -> None:
    libc = _LIBC
    if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def _command_env(req: dict[str, Any], ident: Identity) -> dict[str, str]:
    # Root (asked for by the harness, never the agent's default) gets no snapshot variables
    # (LD_PRELOAD ...) and no /usr/local on its PATH: those are the snapshot's to fill.
    if ident.uid == 0:
        env = {"PATH": ROOT_PATH, **(req.get("env") or {})}
    else:
        env = {"PATH": USER_PATH, **req.get("base_env", {}), **(req.get("env") or {})}
    env["HOME"] = ident.home
    env["USER"] = env["LOGNAME"] = ident.name
    return env


# Every command is made the OOM killer's first choice before it drops privileges (the exec
# server keeps the container's 0). So an agent that exhausts the pod's memory, even with many
# small processes each smaller than the exec server, loses its own processes: the exec server
# (whose death would read as the pod dying, an infrastructure failure) is not the one picked.
# An agent may lower its own score back to 0 (the kernel lets anyone go down to the floor a
# privileged writer set, here the container's 0); then size decides, as without this.
COMMAND_OOM_SCORE_ADJ = 1000


def _mark_oom_victim() -> None:
    with open("/proc/self/oom_score_adj", "w") as f:
        f.write(str(COMMAND_OOM_SCORE_ADJ))


def _run_command(req: dict[str, Any], fds: dict[str, int]) -> None:
    """In the command's own process: new session, drop, limits, then exec. Never returns."""
    try:
        os.setsid()
        _mark_oom_victim()
        ident = _drop_to(req.get("user") or DEFAULT_USER)
        fsize = req.get("file_size_limit")
        if fsize:
            # A file past the limit fails the write with EFBIG (SIGXFSZ ignored), which the
            # agent sees as its own command failing.
            resource.setrlimit(resource.RLIMIT_FSIZE, (int(fsize), int(fsize)))
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        os.dup2(fds["in_r"], 0)
        os.dup2(fds["out_w"], 1)
        os.dup2(fds["err_w"], 2)
        for fd in (fds["in_r"], fds["out_w"], fds["err_w"]):
            os.close(fd)
        os.set_inheritable(fds["exec_err_w"], False)
        env = _command_env(req, ident)
        os.chdir(req.get("cwd") or ident.home)
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        cmd = req["cmd"]
        os.execvpe(cmd[0], cmd, env)
    except BaseException as e:
        kind = type(e).__name__
        os.write(fds["exec_err_w"], json.dumps({"kind": kind, "msg": str(e)}).encode())
    finally:
        os._exit(127)


def _report(fds: dict[str, int], kind: str, message: str) -> None:
    with contextlib.suppress(OSError):
        os.write(fds["exec_err_w"], json.dumps({"kind": kind, "msg": message}).encode())


def _close_other_fds(keep: set[int]) -> None:
    # The server is threaded: without this the shepherd would hold other requests' pipes open
    # for as long as its command runs.
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)


def _shepherd(req: dict[str, Any], fds: dict[str, int]) -> None:
    """Start the command, wait for it (or SIGTERM: timeout), kill its tree, exit. Never returns.

    Exits with the command's exit code (128 + signal when a signal ended it).
    """
    code = 125
    try:
        try:
            _close_other_fds(set(fds.values()))
            _set_subreaper()
            child = os.fork()
        except BlockingIOError as e:  # the pod's process limit: the agent's own processes
            _report(fds, "BlockingIOError", f"cannot fork: {e}")
            raise
        except BaseException as e:
            _report(fds, "ShepherdError", f"{type(e).__name__}: {e}")
            raise
        if child == 0:
            _run_command(req, fds)
        for fd in fds.values():
            os.close(fd)
        status: int | None = None
        while status is None:
            with contextlib.suppress(ChildProcessError):
                while True:
                    pid, st = os.waitpid(-1, os.WNOHANG)
                    if pid == 0:
                        break
                    if pid == child:
                        status = st
            if status is None and signal.sigwait(_SHEPHERD_SIGNALS) == signal.SIGTERM:
                break
        kill_tree()
        if status is not None:
            code = os.waitstatus_to_exitcode(status)
            code = 128 - code if code < 0 else code
        else:
            code = 128 + signal.SIGKILL
    finally:
        os._exit(code)


def _spawn_shepherd(req: dict[str, Any], fds: dict[str, int]) -> int:
    # SIGTERM (the timeout) and SIGCHLD wait in the shepherd's mask for sigwait; blocked here
    # around the fork so that a timeout cannot hit the shepherd before it is ready.
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _SHEPHERD_SIGNALS)
    try:
        pid = os.fork()
        if pid == 0:
            _shepherd(req, fds)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    return pid


def _failed(returncode: int, stderr: str, **extra: str) -> dict[str, Any]:
    """The answer for a command that could not start: its exit code and a line on stderr."""
    return {
        "returncode": returncode,
        "stdout": "",
        "stderr": _b64(stderr.encode()),
        "truncated": False,
        "timed_out": False,
        **extra,
    }


def _unknown_user(user: str) -> dict[str, Any]:
    return _failed(1, f"unknown user: {user}\n", error="unknown_user")


def _op_exec(req: dict[str, Any]) -> dict[str, Any]:
    user = req.get("user") or DEFAULT_USER
    if user not in IDENTITIES:
        return _unknown_user(user)
    limit = int(req.get("limit", 10 * 1024 * 1024))
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    in_r, in_w = os.pipe()
    exec_err_r, exec_err_w = os.pipe()
    fds = {"in_r": in_r, "out_w": out_w, "err_w": err_w, "exec_err_w": exec_err_w}
    try:
        pid = _spawn_shepherd(req, fds)
    except BlockingIOError as e:
        # The pids limit is full of the agent's processes (another command's fork bomb): the
        # agent's command fails, as a fork in its own shell would.
        for fd in (*fds.values(), out_r, err_r, in_w, exec_err_r):
            os.close(fd)
        return _failed(126, f"cannot fork: {e.strerror} (the pod's process limit)\n")
    for fd in fds.values():
        os.close(fd)
    bufs = {out_r: bytearray(), err_r: bytearray()}
    timeout = req.get("timeout")
    deadline = time.monotonic() + float(timeout) if timeout else None
    timed_out, truncated, status = _pump(bufs, pid, deadline, limit, in_w, _unb64(req.get("input")))
    if timed_out:
        os.kill(pid, signal.SIGTERM)  # the shepherd kills the command's whole tree
        os.waitpid(pid, 0)
        for fd in list(bufs):
            with contextlib.suppress(OSError):
                os.close(fd)
    exec_error = os.read(exec_err_r, 65536)
    os.close(exec_err_r)
    if exec_error:
        err = json.loads(exec_error)
        return _failed(
            126 if err["kind"] == "PermissionError" else 127,
            f"{err['kind']}: {err['msg']}\n",
            error=err["kind"],
            message=err["msg"],
        )
    code = -1
    if not timed_out:
        code = os.waitstatus_to_exitcode(status)
        if code < 0:
            code = 128 - code
    return {
        "returncode": code,
        "stdout": _b64(bytes(bufs[out_r])),
        "stderr": _b64(bytes(bufs[err_r])),
        "truncated": truncated,
        "timed_out": timed_out,
    }


def _in_child(user: str, fn: Any) -> dict[str, Any]:
    """Run fn() as ``user`` in a forked child; return its JSON result."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            _drop_to(user)
            outcome = fn()
        except BaseException as e:
            outcome = {"error": type(e).__name__, "message": str(e)}
        data = json.dumps(outcome).encode()
        view = memoryview(data)
        while view:
            n = os.write(w, view)
            view = view[n:]
        os._exit(0)
    os.close(w)
    chunks = []
    while True:
        chunk = os.read(r, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(r)
    os.waitpid(pid, 0)
    result: dict[str, Any] = json.loads(
        b"".join(chunks) or b'{"error": "ChildDied", "message": "no result"}'
    )
    return result


def _resolve(path: str, cwd: str | None) -> str:
    return path if os.path.isabs(path) else os.path.join(cwd or os.environ["HOME"], path)


# ---------------------------------------------------------------------- reading files safely
#
# Everything the agent leaves in the pod is hostile: a FIFO blocks open() forever, a symlink
# to /dev/zero never ends, a 1 GiB file does not fit in memory. So files are opened without
# blocking and without following symlinks, checked with fstat to be the regular file lstat
# saw, and read in bounded chunks.

_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
READ_CHUNK_LIMIT = 8 * 1024 * 1024
_HASH_BLOCK = 1024 * 1024


class NotRegularFileError(OSError):
    """A path capture refuses to read: a FIFO, socket, device or (when asked) a symlink."""


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "fifo"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISLNK, "symlink"),
        (stat.S_ISDIR, "directory"),
    ):
        if test(mode):
            return name
    return "regular file" if stat.S_ISREG(mode) else "special file"


def _open_nofollow(path: str) -> int:
    """Open ``path`` for reading without following a symlink in any of its components."""
    parts = [p for p in os.path.normpath(path).split("/") if p]
    if not parts:
        raise IsADirectoryError(f"Is a directory: {path}")
    fd = os.open("/", os.O_RDONLY | os.O_DIRECTORY)
    try:
        for name in parts[:-1]:
            try:
                sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as e:
                if e.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise NotRegularFileError(f"a component of {path} is a symlink") from e
                raise
            os.close(fd)
            fd = sub
        try:
            return os.open(parts[-1], _OPEN_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise NotRegularFileError(f"{path} is a symlink") from e
            raise
    finally:
        os.close(fd)


def _open_regular(path: str, nofollow: bool) -> tuple[int, os.stat_result]:
    """An fd of the regular file at ``path`` and its fstat; never blocks on a FIFO."""
    fd = _open_nofollow(path) if nofollow else os.open(path, _OPEN_FLAGS)
    st = os.fstat(fd)
    if stat.S_ISREG(st.st_mode):
        return fd, st
    os.close(fd)
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(f"Is a directory: {path}")
    raise NotRegularFileError(f"{path} is a {_kind(st.st_mode)}, not a regular file")


def _read_at(fd: int, offset: int, length: int) -> bytes:
    """Up to ``length`` bytes from ``offset`` (fewer only at end of file)."""
    parts: list[bytes] = []
    got = 0
    while got < length:
        chunk = os.pread(fd, min(length - got, _HASH_BLOCK), offset + got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _op_read(req: dict[str, Any]) -> dict[str, Any]:
    """Read a whole file (up to ``limit``) or, with ``length``, one chunk from ``offset``.

    With ``nofollow`` no component of the path may be a symlink (state capture reads as root
    what the agent may have replaced). Non-regular files are refused, never opened blocking.
    """
    limit = int(req.get("limit", 100 * 1024 * 1024))
    length = req.get("length")
    nofollow = bool(req.get("nofollow"))

    def run() -> dict[str, Any]:
        path = _resolve(req["path"], req.get("cwd"))
        try:
            fd, st = _open_regular(path, nofollow)
        except NotRegularFileError as e:
            return {"error": "NotRegularFile", "message": str(e)}
        try:
            if length is not None:
                n = max(0, min(int(length), READ_CHUNK_LIMIT))
                data = _read_at(fd, int(req.get("offset", 0)), n)
                return {"data": _b64(data), "size": st.st_size}
            if st.st_size > limit:
                return {"error": "LimitExceeded", "message": str(st.st_size)}
            # st_size may lie (a file still growing, /proc): never read past the limit.
            data = _read_at(fd, 0, limit + 1)
            if len(data) > limit:
                return {"error": "LimitExceeded", "message": f"more than {limit}"}
            return {"data": _b64(data), "size": len(data)}
        finally:
            os.close(fd)

    return _in_child(req.get("user") or DEFAULT_USER, run)


def _op_write(req: dict[str, Any]) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        path = _resolve(req["path"], req.get("cwd"))
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        if os.path.isdir(path):
            raise IsADirectoryError(f"Is a directory: {path}")
        with open(path, "wb") as f:
            f.write(_unb64(req.get("data")))
        if req.get("mode"):
            os.chmod(path, int(req["mode"], 8))
        return {"ok": True}

    return _in_child(req.get("user") or DEFAULT_USER, run)


# ---------------------------------------------------------------------- the manifest
#
# The manifest is bounded in every dimension the agent controls: entries walked, bytes of the
# answer, bytes hashed (per file and in total), content shipped, and wall time. Past a cap the
# walk goes on summarizing (or stops, for entries, bytes and time) and says so in ``notes``,
# because filling the disk is the agent's behaviour and must be reported, not crash capture.

MANIFEST_DEFAULTS: dict[str, int | float] = {
    "max_entries": 100_000,
    "max_bytes": 64 * 1024 * 1024,
    "hash_limit": 64 * 1024 * 1024,
    "hash_total": 1024 * 1024 * 1024,
    "head_bytes": 1024 * 1024,
    "text_limit": MANIFEST_TEXT_LIMIT,
    "content_total": 16 * 1024 * 1024,
    "seconds": 60.0,
}
_MAX_NOTES = 100
_MAX_UNWALKED = 1000
_ENTRY_OVERHEAD = 120  # bytes of JSON per entry besides its path


class _Budget:
    """What the walk may still spend, and the notes on what it could not do."""

    def __init__(self, req: dict[str, Any]) -> None:
        caps = {k: req.get(k, v) for k, v in MANIFEST_DEFAULTS.items()}
        self.max_entries = int(caps["max_entries"])
        self.max_bytes = int(caps["max_bytes"])
        self.hash_limit = int(caps["hash_limit"])
        self.hash_left = int(caps["hash_total"])
        self.hash_total = int(caps["hash_total"])
        self.head_bytes = int(caps["head_bytes"])
        self.text_limit = int(caps["text_limit"])
        self.content_left = int(caps["content_total"])
        self.content_total = int(caps["content_total"])
        self.deadline = time.monotonic() + float(caps["seconds"])
        self.seconds = float(caps["seconds"])
        self.entries = 0
        self.bytes = 0
        self.notes: list[dict[str, Any]] = []
        self.notes_dropped = 0
        self.said: set[str] = set()

    def note(
        self, kind: str, path: str | None, size: int | None, limit: int | None, msg: str
    ) -> None:
        """Record a cap that was hit (at most _MAX_NOTES notes; the rest are counted)."""
        if len(self.notes) >= _MAX_NOTES:
            self.notes_dropped += 1
            return
        self.notes.append({"kind": kind, "path": path, "size": size, "limit": limit, "detail": msg})

    def once(
        self, kind: str, path: str | None, size: int | None, limit: int | None, msg: str
    ) -> None:
        """Record a cap that was hit, the first time only (caps that end a phase)."""
        if kind not in self.said:
            self.said.add(kind)
            self.note(kind, path, size, limit, msg)

    def exhausted(self, path: str) -> bool:
        """Whether the walk must stop before ``path``; notes why, once."""
        if self.entries >= self.max_entries:
            self.once(
                "entries", path, self.entries, self.max_entries, "walk stopped: too many entries"
            )
        elif self.bytes >= self.max_bytes:
            self.once("bytes", path, self.bytes, self.max_bytes, "walk stopped: manifest too large")
        elif time.monotonic() >= self.deadline:
            self.once("time", path, None, int(self.seconds), "walk stopped: took too long")
        else:
            return False
        return True


def _hash_file(p: str, st: os.stat_result, b: _Budget, keep: bool) -> dict[str, Any]:
    """sha256 of the file (or of its first bytes, past a cap); its bytes when ``keep``."""
    fd = os.open(p, _OPEN_FLAGS | os.O_NOFOLLOW)
    try:
        now = os.fstat(fd)
        if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            return {"unreadable": "replaced during capture"}
        whole = st.st_size <= b.hash_limit and st.st_size <= b.hash_left
        want = st.st_size + 1 if whole else min(b.head_bytes, b.hash_left)
        h = hashlib.sha256()
        kept: list[bytes] = []
        got = 0
        while got < want:
            chunk = os.read(fd, min(_HASH_BLOCK, want - got))
            if not chunk:
                break
            h.update(chunk)
            got += len(chunk)
            if keep:
                kept.append(chunk)
        b.hash_left -= got
        if whole and got <= st.st_size:
            out: dict[str, Any] = {"sha256": h.hexdigest()}
            if keep:
                out["data"] = b"".join(kept)
            return out
        # Too big for the caps (or it grew while read): summarized by size, time and head.
        if b.hash_left <= 0:
            b.once(
                "hash_total",
                p,
                st.st_size,
                b.hash_total,
                "hash budget spent: later files summarized",
            )
        else:
            b.note("file_hash", p, st.st_size, b.hash_limit, f"hashed the first {got} bytes only")
        return {"sha256_head": h.hexdigest(), "hashed": got}
    finally:
        os.close(fd)


_CONTROL = bytes(range(32))


def _is_text(data: bytes) -> bool:
    """UTF-8 without NUL bytes (git's test): a sparse or binary file is not text."""
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _json_cost(data: bytes) -> int:
    """Bytes the text takes in a JSON record: control characters escape to six."""
    return len(data) + 5 * (len(data) - len(data.translate(None, _CONTROL)))


def _file_entry(p: str, st: os.stat_result, b: _Budget, known: dict[str, str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": "file", "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    keep = st.st_size <= b.text_limit
    try:
        digest = _hash_file(p, st, b, keep)
    except OSError as e:
        return {**entry, "unreadable": str(e)}
    data = digest.pop("data", None)
    entry.update(digest)
    if data is None or known.get(p) == entry.get("sha256"):
        return entry  # the host has the content already, or it is too big to ship
    if not _is_text(data):
        entry["binary"] = True
        return entry
    cost = _json_cost(data)
    if cost > b.content_left:
        b.once(
            "content_total",
            p,
            len(data),
            b.content_total,
            "content budget spent: later files ship hashes only",
        )
        entry["content_omitted"] = True
        return entry
    b.content_left -= cost
    entry["content"] = _b64(data)
    b.bytes += len(entry["content"])
    return entry


def _walk_dir(p: str, stack: list[str], room: int) -> bool:
    """Push up to ``room`` entries of folder ``p``; whether that was all of them.

    The folder is opened without following a symlink, and never listed whole: a folder of
    ten million names would not fit in memory.
    """
    fd = os.open(p, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        with os.scandir(fd) as it:
            for n, e in enumerate(it):
                if n >= room:
                    return False
                stack.append(os.path.join(p, e.name))
    finally:
        os.close(fd)
    return True


def _entry(p: str, st: os.stat_result, b: _Budget, known: dict[str, str]) -> dict[str, Any]:
    base: dict[str, Any] = {"mode": stat.S_IMODE(st.st_mode), "uid": st.st_uid}
    if stat.S_ISDIR(st.st_mode):
        return {**base, "type": "dir"}
    if stat.S_ISLNK(st.st_mode):
        with contextlib.suppress(OSError):
            return {**base, "type": "symlink", "target": os.readlink(p)}
        return {**base, "type": "symlink", "unreadable": "link vanished"}
    if stat.S_ISREG(st.st_mode):
        return {**base, **_file_entry(p, st, b, known)}
    return {**base, "type": "other", "what": _kind(st.st_mode)}


def _manifest(req: dict[str, Any]) -> dict[str, Any]:
    """Every entry under ``roots``: type, mode, owner uid, size, sha256, small text content.

    Content ships only for UTF-8 files up to ``text_limit`` whose hash differs from the one
    the host already ``known``s. ``skip`` paths are not walked. Past ``max_entries``,
    ``max_bytes`` or ``seconds`` the walk stops; ``unwalked`` lists what it did not visit.
    """
    b = _Budget(req)
    known: dict[str, str] = req.get("known") or {}
    skip = set(req.get("skip") or [])
    out: dict[str, Any] = {}
    pending = [r for r in reversed(req["roots"]) if r not in skip]
    stack: list[str] = []
    partial: list[str] = []  # folders not listed whole
    while stack or pending:
        if not stack:
            stack.append(pending.pop())
        p = stack.pop()
        if b.exhausted(p):
            stack.append(p)
            break
        if p in skip:
            continue
        try:
            st = os.lstat(p)
        except OSError:
            continue
        b.entries += 1
        b.bytes += len(p) + _ENTRY_OVERHEAD
        out[p] = _entry(p, st, b, known)
        if out[p]["type"] == "dir":
            try:
                if not _walk_dir(p, stack, b.max_entries - b.entries + 1):
                    partial.append(p)
            except OSError as e:
                out[p]["unreadable"] = str(e)
    left = [*partial, *stack, *pending]
    return {
        "files": out,
        "notes": b.notes,
        "notes_dropped": b.notes_dropped,
        "unwalked": left[:_MAX_UNWALKED],
        "unwalked_more": len(left) > _MAX_UNWALKED,
    }


def _op_manifest(req: dict[str, Any]) -> dict[str, Any]:
    # As root with CAP_DAC_READ_SEARCH: reads every file without being able to change any.
    return _manifest(req)


OPS = {
    "exec": _op_exec,
    "read": _op_read,
    "write": _op_write,
    "manifest": _op_manifest,
    "ping": lambda req: {"pong": True, "pid": os.getpid()},
}


_lease_lock = threading.Lock()
_host_leases = 0


def _shutdown_pod() -> None:
    """Kill every process of the container (CAP_KILL) and exit: the container stops."""
    with contextlib.suppress(OSError):
        os.kill(-1, signal.SIGKILL)  # every process but init and this one
    os._exit(0)


def _hold_lease(rfile: Any, role: str) -> None:
    """Block until the holder closes the connection; a host lease's end stops the pod.

    Followers (the services sidecar) hold a lease the other way round: they see end-of-file
    when this server exits, and exit too.
    """
    global _host_leases
    if role == "host":
        with _lease_lock:
            _host_leases += 1
    with contextlib.suppress(OSError):
        while rfile.read(4096):
            pass
    if role == "host":
        with _lease_lock:
            _host_leases -= 1
            if _host_leases == 0:
                _shutdown_pod()


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        line = self.rfile.readline()
        try:
            req = json.loads(line)
            if req.get("op") == "lease":
                self.wfile.write(b'{"ok": true}\n')
                self.wfile.flush()
                _hold_lease(self.rfile, str(req.get("role", "host")))
                return
            op: Any = OPS[req["op"]]
            resp = op(req)
        except BaseException as e:
            resp = {"error": type(e).__name__, "message": str(e)}
        self.wfile.write(json.dumps(resp).encode() + b"\n")


class _Server(socketserver.UnixStreamServer):
    """Requests are served by threads started at start-up, not one new thread per request.

    The pids limit counts threads: with the process table full of the agent's processes (a
    fork bomb in another command) a new thread cannot start, and the host would see the
    server hang up, an "infrastructure" failure the agent caused. Pre-started workers still
    answer (the command's own fork then fails, which is the agent's failure).
    """

    def __init__(self, path: str, workers: int = WORKERS) -> None:
        super().__init__(path, _Handler)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        for n in range(workers):
            threading.Thread(target=self._work, name=f"worker-{n}", daemon=True).start()

    def process_request(self, request: Any, client_address: Any) -> None:
        self._queue.put((request, client_address))

    def _work(self) -> None:
        while True:
            request, client_address = self._queue.get()
            try:
                self.finish_request(request, client_address)
            except Exception:
                self.handle_error(request, client_address)
            finally:
                self.shutdown_request(request)


def _add_hosts() -> None:
    """Map the snapshot's mocked hostnames to loopback (for pods started by docker compose)."""
    hosts = os.environ.get("DEPLOYSIM_HOSTS", "").split()
    if not hosts:
        return
    try:
        with open("/etc/hosts") as f:
            known = {name for line in f for name in line.split()[1:]}
        missing = [h for h in hosts if h not in known]
        if missing:
            with open("/etc/hosts", "a") as f:
                f.write("127.0.0.1\t" + " ".join(missing) + "\n")
    except OSError as e:
        sys.stderr.write(f"execserver: cannot update /etc/hosts: {e}\n")


def _write_ready(folder: str, status: dict[str, Any]) -> None:
    tmp = os.path.join(folder, ".ready")
    with open(tmp, "w") as f:
        json.dump(status, f)
    os.replace(tmp, os.path.join(folder, "ready"))


def main() -> None:
    """Serve on the socket path given as the only argument.

    Writes ``ready`` beside the socket: ``{"pid": ...}`` once serving, or ``{"refused": why}``
    (and exits) when the agent user cannot be used.
    """
    path = sys.argv[1]
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    os.chmod(folder, 0o700)
    IDENTITIES.update(_load_identities())
    refusal = agent_refusal(DEFAULT_USER)
    if refusal:
        _write_ready(folder, {"refused": refusal})
        sys.exit(3)
    _add_hosts()
    if os.path.exists(path):
        os.unlink(path)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    server = _Server(path)
    os.chmod(path, 0o600)
    _write_ready(folder, {"pid": os.getpid()})
    server.serve_forever()


if __name__ == "__main__":
    main()
