"""The in-pod exec server: runs commands and file operations for the host, fast.

Runs inside the workspace container as root holding only CAP_SETUID, CAP_SETGID, CAP_KILL and
CAP_DAC_READ_SEARCH, listening on a unix socket in a root-only folder that the host
bind-mounts; the agent can neither reach the socket nor signal the server. Each request
forks a child that drops to the requested user (the agent by default) before doing anything,
so the agent's processes hold no capabilities.

Protocol: one JSON line in, one JSON line out, per connection. Bytes travel base64-encoded.
Stdlib only: this file is copied into the base image and run by its python3.
"""

# ruff: noqa: BLE001
from __future__ import annotations

import base64
import contextlib
import grp
import hashlib
import json
import os
import pwd
import select
import signal
import socketserver
import stat
import sys
import time
from typing import Any

DEFAULT_USER = os.environ.get("DEPLOYSIM_AGENT_USER", "agent")
MANIFEST_TEXT_LIMIT = 256 * 1024


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str | None) -> bytes:
    return base64.b64decode(text) if text else b""


def _drop_to(user: str) -> None:
    entry = pwd.getpwnam(user)
    groups = [g.gr_gid for g in grp.getgrall() if user in g.gr_mem]
    if os.getuid() == 0:
        os.setgroups(sorted({entry.pw_gid, *groups}))
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)
    elif os.getuid() != entry.pw_uid:
        raise PermissionError(f"cannot switch to user {user}")
    os.environ["HOME"] = entry.pw_dir
    os.environ["USER"] = os.environ["LOGNAME"] = user


def _pump(
    bufs: dict[int, bytearray],
    pid: int,
    deadline: float | None,
    limit: int,
    stdin_fd: int | None,
    stdin_data: bytes,
) -> tuple[bool, bool, int]:
    """Pump pipes until the child exits; return (timed_out, truncated, wait status).

    Stops when the command itself exits, even if a process it left in the background
    still holds the pipes open (that process keeps running, as with ``docker exec``).
    """
    truncated = False
    pending = stdin_data
    writers = [stdin_fd] if stdin_fd is not None else []
    if stdin_fd is not None and not pending:
        os.close(stdin_fd)
        writers = []
    readers = list(bufs)
    status: int | None = None
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
        r, w, _ = select.select(readers, writers, [], wait) if readers or writers else ([], [], [])
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
        if status is not None and not r:
            for fd in readers:
                os.close(fd)
            for fd in writers:
                os.close(fd)
            return False, truncated, status


def _kill_group(pgid: int) -> None:
    """Kill a process group until it is empty: a fork bomb keeps adding members."""
    for _ in range(200):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.005)


def _op_exec(req: dict[str, Any]) -> dict[str, Any]:
    cmd = req["cmd"]
    user = req.get("user") or DEFAULT_USER
    try:
        pwd.getpwnam(user)
    except KeyError:
        return {
            "returncode": 1,
            "stdout": "",
            "stderr": _b64(f"unknown user: {user}\n".encode()),
            "truncated": False,
            "timed_out": False,
            "error": "unknown_user",
        }
    limit = int(req.get("limit", 10 * 1024 * 1024))
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    in_r, in_w = os.pipe()
    exec_err_r, exec_err_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.setsid()
            _drop_to(user)
            os.dup2(in_r, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            for fd in (in_r, in_w, out_r, out_w, err_r, err_w, exec_err_r):
                os.close(fd)
            os.set_inheritable(exec_err_w, False)
            env = {
                "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                **req.get("base_env", {}),
                **(req.get("env") or {}),
            }
            env["HOME"] = os.environ["HOME"]
            env["USER"] = env["LOGNAME"] = os.environ["USER"]
            cwd = req.get("cwd") or os.environ["HOME"]
            os.chdir(cwd)
            os.execvpe(cmd[0], cmd, env)
        except BaseException as e:
            kind = type(e).__name__
            os.write(exec_err_w, json.dumps({"kind": kind, "msg": str(e)}).encode())
        finally:
            os._exit(127)
    for fd in (in_r, out_w, err_w, exec_err_w):
        os.close(fd)
    bufs = {out_r: bytearray(), err_r: bytearray()}
    timeout = req.get("timeout")
    deadline = time.monotonic() + float(timeout) if timeout else None
    timed_out, truncated, status = _pump(bufs, pid, deadline, limit, in_w, _unb64(req.get("input")))
    if timed_out:
        _kill_group(pid)
        os.waitpid(pid, 0)
        for fd in list(bufs):
            with contextlib.suppress(OSError):
                os.close(fd)
    exec_error = os.read(exec_err_r, 65536)
    os.close(exec_err_r)
    if exec_error:
        err = json.loads(exec_error)
        return {
            "returncode": 126 if err["kind"] == "PermissionError" else 127,
            "stdout": "",
            "stderr": _b64(f"{err['kind']}: {err['msg']}\n".encode()),
            "truncated": False,
            "timed_out": False,
            "error": err["kind"],
            "message": err["msg"],
        }
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


def _op_read(req: dict[str, Any]) -> dict[str, Any]:
    limit = int(req.get("limit", 100 * 1024 * 1024))

    def run() -> dict[str, Any]:
        path = _resolve(req["path"], req.get("cwd"))
        size = os.stat(path).st_size
        if stat.S_ISDIR(os.stat(path).st_mode):
            raise IsADirectoryError(f"Is a directory: {path}")
        if size > limit:
            return {"error": "LimitExceeded", "message": str(size)}
        with open(path, "rb") as f:
            return {"data": _b64(f.read())}

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


def _manifest(roots: list[str], text_limit: int) -> dict[str, Any]:
    """Every file under roots: type, mode, owner uid, size, sha256 (and small text content)."""
    out: dict[str, Any] = {}
    for root in roots:
        if not os.path.lexists(root):
            continue
        stack = [root]
        while stack:
            p = stack.pop()
            try:
                st = os.lstat(p)
            except OSError:
                continue
            entry: dict[str, Any] = {"mode": stat.S_IMODE(st.st_mode), "uid": st.st_uid}
            if stat.S_ISDIR(st.st_mode):
                entry["type"] = "dir"
                with contextlib.suppress(OSError):
                    stack.extend(os.path.join(p, c) for c in os.listdir(p))
            elif stat.S_ISLNK(st.st_mode):
                entry["type"] = "symlink"
                entry["target"] = os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                entry["type"] = "file"
                entry["size"] = st.st_size
                try:
                    with open(p, "rb") as f:
                        data = f.read()
                    entry["sha256"] = hashlib.sha256(data).hexdigest()
                    if len(data) <= text_limit:
                        entry["content"] = _b64(data)
                except OSError as e:
                    entry["unreadable"] = str(e)
            else:
                entry["type"] = "other"
            out[p] = entry
    return out


def _op_manifest(req: dict[str, Any]) -> dict[str, Any]:
    # As root with CAP_DAC_READ_SEARCH: reads every file without being able to change any.
    return {"files": _manifest(req["roots"], int(req.get("text_limit", MANIFEST_TEXT_LIMIT)))}


OPS = {
    "exec": _op_exec,
    "read": _op_read,
    "write": _op_write,
    "manifest": _op_manifest,
    "ping": lambda req: {"pong": True, "pid": os.getpid()},
}


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        line = self.rfile.readline()
        try:
            req = json.loads(line)
            op: Any = OPS[req["op"]]
            resp = op(req)
        except BaseException as e:
            resp = {"error": type(e).__name__, "message": str(e)}
        self.wfile.write(json.dumps(resp).encode() + b"\n")


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


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


def main() -> None:
    """Serve on the socket path given as the only argument."""
    path = sys.argv[1]
    _add_hosts()
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    os.chmod(folder, 0o700)
    if os.path.exists(path):
        os.unlink(path)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    server = _Server(path, _Handler)
    os.chmod(path, 0o600)
    with open(os.path.join(folder, "ready"), "w") as f:
        f.write(str(os.getpid()))
    server.serve_forever()


if __name__ == "__main__":
    main()
