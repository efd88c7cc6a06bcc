"""A pod: the agent's workspace container plus a services sidecar in its network namespace.

::

    pod = await Pod.start(load_snapshot("env_snapshots/shop"), sample_id="t1")
    result = await pod.exec(["sqlite3", "/srv/shop.db", "select count(*) from orders"])
    state = await pod.capture_state()
    await pod.close()

The workspace has no network but loopback (``network_mode: none``); mocked hostnames resolve
to 127.0.0.1 where the sidecar listens. Commands run through the in-pod exec server
(:mod:`deploysim.sandbox.execserver`) as the agent user unless another user is asked for.
"""

from __future__ import annotations

import asyncio
import base64
import json
import posixpath
import secrets
import shutil
import socket
import time
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from deploysim._errors import InfrastructureError, SnapshotError
from deploysim.sandbox._containers import make_scratch, services_spec, workspace_spec
from deploysim.sandbox._disk import (
    parse_size,
    quota_supported,
    tmpfs_mounts,
    writable_layer_bytes,
)
from deploysim.sandbox._docker import client
from deploysim.sandbox._images import ensure_base_image, ensure_workspace_base
from deploysim.sandbox._lifecycle import (
    install_handlers,
    labels_for,
    reap_once,
    register,
    unregister,
)
from deploysim.sandbox._manifest import CaptureLimits, Manifest, NotRegularFileError
from deploysim.sandbox._seed import (
    SERVICES_SNAPSHOT_DIR,
    ensure_snapshot_images,
    hostnames,
    seeded_paths,
)
from deploysim.sandbox._state import (
    PodState,
    baseline_manifest,
    capture_state,
    pod_image,
    watch_roots,
)
from deploysim.sandbox._transport import ExecServerError, SocketTransport
from deploysim.snapshots import SNAPSHOT_FILE, Snapshot, SnapshotDir

__all__ = [
    "ContainerDiedError",
    "ExecResult",
    "FileChunk",
    "Pod",
    "PodLimits",
    "ServicesUnavailableError",
]

_READY_TIMEOUT = 30.0
_READ_LIMIT = 100 * 1024 * 1024
_READ_CHUNK = 4 * 1024 * 1024


class ContainerDiedError(InfrastructureError):
    """A pod container stopped, died or was OOM-killed: an infrastructure failure."""


class ServicesUnavailableError(InfrastructureError):
    """The services sidecar of a pod is gone or broken: an infrastructure failure.

    The agent cannot stop the sidecar (it runs as another user, with no capabilities, and its
    admin socket is a host-only mount), so a sidecar that does not answer its admin socket is
    never the agent's doing. Two things are *not* this error: an HTTP error answer of a live
    sidecar (a tool result), and a live sidecar too busy to answer in time (the agent may have
    flooded it): :meth:`from_transport` turns that into ``TimeoutError``.
    """

    @staticmethod
    def container_state(container: Any) -> str:
        """``running``, or what became of the container (``exited, exit code 137, OOM-killed``).

        Blocking (asks the engine); run it in a thread from async code.
        """
        import docker.errors

        try:
            container.reload()
        except docker.errors.NotFound:
            return "removed"
        except docker.errors.DockerException as e:
            return f"unknown ({type(e).__name__}: {e})"
        state = container.attrs.get("State", {})
        status = str(state.get("Status", "unknown"))
        if status == "running":
            return status
        oom = ", OOM-killed" if state.get("OOMKilled") else ""
        return f"{status}, exit code {state.get('ExitCode')}{oom}"

    @classmethod
    async def from_transport(
        cls, pod_id: str, container: Any, error: BaseException, what: str
    ) -> Exception:
        """The failure to raise for a transport error talking to a pod's sidecar.

        A sidecar that is not running, or that refuses its admin socket while running, is
        this error; a running sidecar that only timed out gives ``TimeoutError`` (a busy
        sidecar may be the agent's doing, so callers decide what it means).
        """
        import httpx

        state = await asyncio.to_thread(cls.container_state, container)
        detail = f"{type(error).__name__}: {error}".rstrip(": ")
        if state == "running" and isinstance(error, httpx.TimeoutException):
            return TimeoutError(f"services sidecar of pod {pod_id} did not answer {what}: {detail}")
        return cls(f"services sidecar of pod {pod_id} ({state}) did not answer {what}: {detail}")


class PodLimits(BaseModel):
    """Resource limits of the workspace container."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pids: int = Field(default=512, description="Maximum processes (fork bombs stop here).")
    memory: str = Field(default="1g", description="Memory limit, docker syntax ('512m', '2g').")
    cpus: float = Field(default=1.0, description="CPU share (1.0 = one core).")
    output_limit: int = Field(default=10 * 1024 * 1024, description="Bytes kept per stream.")
    disk: str = Field(
        default="2g",
        description=(
            "Quota on the writable layer when the engine supports one; always the largest "
            "file a command may write (RLIMIT_FSIZE)."
        ),
    )
    tmp: str = Field(default="256m", description="Size of the tmpfs on /tmp, /var/tmp, /dev/shm.")


class ExecResult(NamedTuple):
    """The outcome of a command."""

    returncode: int
    stdout: str
    stderr: str
    truncated: bool
    """Output went over the limit and was cut."""

    @property
    def success(self) -> bool:
        """Exit code 0."""
        return self.returncode == 0


class FileChunk(NamedTuple):
    """Bytes read from a file at some offset, and the file's size then."""

    data: bytes
    size: int


def _file_error(resp: dict[str, Any], path: str) -> OSError:
    kind = resp.get("error", "")
    msg = f"{resp.get('message') or kind}: {path}"
    return {
        "FileNotFoundError": FileNotFoundError,
        "PermissionError": PermissionError,
        "IsADirectoryError": IsADirectoryError,
        "NotADirectoryError": NotADirectoryError,
        "NotRegularFile": NotRegularFileError,
    }.get(kind, OSError)(msg)


class Pod:
    """A running pod. Create with :meth:`start`; always :meth:`close`."""

    def __init__(
        self,
        pod_id: str,
        workspace: Any,
        services: Any,
        scratch: Path,
        snapshot: SnapshotDir | None,
        limits: PodLimits,
        admin_token: str,
    ) -> None:
        self.id = pod_id
        self.workspace = workspace
        self.services = services
        self.scratch = scratch
        self.snapshot = snapshot
        self.limits = limits
        self.admin_token = admin_token
        self.transport = SocketTransport(scratch / "run" / "sock")
        self.baseline: Manifest | None = None
        self.disk_quota = False
        """Whether the engine enforces ``limits.disk`` on the writable layer."""
        self._lease: socket.socket | None = None
        self._closed = False

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    async def start(
        cls,
        snapshot: SnapshotDir | None = None,
        *,
        limits: PodLimits | None = None,
        run_id: str | None = None,
        sample_id: str | None = None,
        keep: bool = False,
    ) -> Pod:
        """Build images if needed, start the pod, wait until it answers.

        With ``keep`` the pod outlives this process (``deploysim sandbox up``): it is not torn
        down at exit, and ``sandbox gc`` leaves it alone unless asked for everything.

        Without ``keep`` the pod holds a lease on its exec server: if this process dies, even by
        SIGKILL, the pod stops itself, and the next start (of any process on this host)
        removes it. The first start of a process also removes what dead runs left behind.

        Raises:
            SnapshotError: the snapshot is unsafe to build (a system path, setuid bits, a path
                below its own symlink) or its agent user is root or unknown in the image.
            InfrastructureError: the engine, an image build or a container failed.
        """
        if not keep:
            install_handlers()
        pod = await asyncio.to_thread(
            cls._start_sync, snapshot, limits or PodLimits(), run_id, sample_id, keep
        )
        try:
            pod.baseline = await baseline_manifest(pod, pod_image(pod), watch_roots(snapshot))
        except BaseException:
            await pod.close()
            raise
        return pod

    @classmethod
    def _start_sync(
        cls,
        sd: SnapshotDir | None,
        limits: PodLimits,
        run_id: str | None,
        sample_id: str | None,
        keep: bool = False,
    ) -> Pod:
        reap_once()  # what killed runs on this host left behind
        base = ensure_base_image().tag
        snap = sd.snapshot if sd else Snapshot.model_validate({"name": "empty"})
        images = ensure_snapshot_images(sd, base) if sd else None
        pod_id = secrets.token_hex(6)
        sc = make_scratch(pod_id)
        labels = labels_for(pod_id, run_id, sample_id)
        if keep:
            labels["deploysim.keep"] = "1"
        token = secrets.token_urlsafe(24)
        c = client()
        image = images.workspace if images else ensure_workspace_base(base)
        quota = quota_supported(base)
        ws = c.containers.create(
            **workspace_spec(
                image,
                sc,
                user=snap.user,
                workdir=snap.workdir,
                hosts=hostnames(sd) if sd else [],
                tmpfs=tmpfs_mounts(seeded_paths(sd) if sd else [], limits.tmp),
                limits=limits,
                storage_opt={"size": limits.disk} if quota else None,
                labels={**labels, "deploysim.env": json.dumps(snap.env)} if snap.env else labels,
            )
        )
        pod = cls(pod_id, ws, None, sc.root, sd, limits, token)
        pod.disk_quota = quota
        if not keep:
            register(pod)
        try:
            ws.start()
            pod._wait_ready(sc.run / "ready", ws, "workspace exec server")
            if not keep:
                pod._lease = _take_lease(sc.run / "sock")
            if images and images.services:
                pod.services = c.containers.create(
                    **services_spec(
                        images.services,
                        sc,
                        ws.id,
                        snapshot_dir=SERVICES_SNAPSHOT_DIR,
                        token=token,
                        labels=labels,
                    )
                )
                sc.admin.chmod(0o777)  # the sidecar's user creates its socket here
                pod.services.start()
                pod._wait_ready(sc.admin / "ready", pod.services, "services sidecar")
        except BaseException:
            pod._close_sync()
            raise
        return pod

    def _wait_ready(self, marker: Path, container: Any, what: str) -> None:
        deadline = time.monotonic() + _READY_TIMEOUT
        delay = 0.002
        while not marker.exists():
            if time.monotonic() > deadline:
                raise ContainerDiedError(
                    f"{what} of pod {self.id} not ready after "
                    f"{_READY_TIMEOUT:.0f} s; logs:\n{_tail_logs(container)}"
                )
            if delay > 0.05:
                container.reload()
                if container.status not in ("running", "created"):
                    raise ContainerDiedError(
                        f"{what} of pod {self.id} exited "
                        f"({container.status}); logs:\n{_tail_logs(container)}"
                    )
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        self._check_refusal(marker)

    def _check_refusal(self, marker: Path) -> None:
        """Raise SnapshotError when the exec server refused the snapshot's agent user."""
        try:
            status = json.loads(marker.read_text())
        except ValueError:
            return  # the sidecar writes its pid only
        if isinstance(status, dict) and status.get("refused"):
            where = self.snapshot.root / SNAPSHOT_FILE if self.snapshot else "(no snapshot)"
            raise SnapshotError(where, str(status["refused"]), field="user")

    async def close(self) -> None:
        """Remove the pod's containers and scratch folder. Safe to call twice."""
        await asyncio.to_thread(self._close_sync)

    def _close_sync(self) -> None:
        if self._closed:
            return
        self._closed = True
        import docker.errors

        for container in (self.services, self.workspace):
            if container is None:
                continue
            try:
                container.remove(force=True, v=True)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as e:
                if "already in progress" not in str(e):
                    raise InfrastructureError(f"could not remove {container.name}: {e}") from e
        if self._lease is not None:
            self._lease.close()  # after the removal: the pod is gone either way
        unregister(self)
        shutil.rmtree(self.scratch, ignore_errors=True)

    async def disk_usage(self) -> int | None:
        """Bytes the agent's writes hold in the workspace's writable layer (None: not readable).

        Read on the host from the engine's upper folder (a local engine, run as root). Without
        an engine quota (``disk_quota`` False) this total is measured, not enforced.
        """

        def measure() -> int | None:
            self.workspace.reload()
            return writable_layer_bytes(self.workspace)

        return await asyncio.to_thread(measure)

    def check_alive(self) -> None:
        """Raise ContainerDiedError when the workspace is not running (OOM-killed, died)."""
        self.workspace.reload()
        state = self.workspace.attrs.get("State", {})
        if state.get("Status") != "running":
            why = "OOM-killed" if state.get("OOMKilled") else f"exit code {state.get('ExitCode')}"
            raise ContainerDiedError(f"workspace of pod {self.id} is {state.get('Status')} ({why})")

    async def _call(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            return await self.transport.call(request)
        except ExecServerError as e:
            await asyncio.to_thread(self.check_alive)
            raise ContainerDiedError(f"pod {self.id}: {e}") from e

    # ------------------------------------------------------------------ operations

    async def exec(
        self,
        cmd: list[str],
        input: str | bytes | None = None,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        user: str | None = None,
        timeout: float | None = None,
    ) -> ExecResult:
        """Run a command; its processes end with it; a timeout kills them all, not the pod.

        Everything the command started (background jobs, ``nohup`` and ``setsid`` daemons, a
        fork bomb) is killed when the command exits or times out. Files past
        ``limits.disk`` fail with EFBIG: the command's own failure, an ExecResult.

        Raises:
            TimeoutError: the command ran longer than ``timeout`` seconds.
            PermissionError: the command is not executable.
            ContainerDiedError: the pod died.
            InfrastructureError: dropping to the user did not take (the command did not run).
        """
        data = input.encode() if isinstance(input, str) else input
        cwd = posixpath.join(self._workdir(), cwd) if cwd else self._workdir()
        snap_env = self.snapshot.snapshot.env if self.snapshot else {}
        resp = await self._call(
            {
                "op": "exec",
                "cmd": cmd,
                "cwd": cwd,
                "env": env or {},
                "user": user,
                "timeout": timeout,
                "limit": self.limits.output_limit,
                "input": base64.b64encode(data).decode() if data else None,
                "file_size_limit": parse_size(self.limits.disk),
                "base_env": {
                    "SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt",
                    "REQUESTS_CA_BUNDLE": "/etc/ssl/certs/ca-certificates.crt",
                    **snap_env,
                },
            }
        )
        if resp.get("timed_out"):
            raise TimeoutError(f"command timed out after {timeout} s: {cmd[:3]}")
        if resp.get("error") in ("PrivilegeError", "ShepherdError"):
            # The drop to the user did not take: the harness's guarantee broke, not the agent.
            raise InfrastructureError(f"pod {self.id}: {resp.get('message')}")
        if resp.get("error") == "PermissionError":
            raise PermissionError(resp.get("message") or f"permission denied: {cmd[0]}")
        if "returncode" not in resp:
            raise InfrastructureError(f"exec server failed: {resp}")
        return ExecResult(
            resp["returncode"],
            base64.b64decode(resp["stdout"]).decode("utf-8", errors="replace"),
            base64.b64decode(resp["stderr"]).decode("utf-8", errors="replace"),
            bool(resp.get("truncated")),
        )

    def _workdir(self) -> str:
        return self.snapshot.snapshot.workdir if self.snapshot else "/home/agent"

    async def read_file(
        self, path: str, *, limit: int | None = None, user: str | None = None
    ) -> bytes:
        """Read a file as bytes (relative paths from the workdir).

        Read in chunks, so that a large file never sits whole (and base64-encoded, twice) in
        the pod's exec server, whose memory the agent's processes share.

        Raises:
            FileNotFoundError, PermissionError, IsADirectoryError: as the filesystem says.
            NotRegularFileError: a FIFO, socket or device (never opened blocking).
            OverflowError: the file is larger than ``limit``.
        """
        cap = _READ_LIMIT if limit is None else limit
        req = {"op": "read", "path": path, "cwd": self._workdir(), "user": user}
        parts: list[bytes] = []
        offset = 0
        while True:
            resp = await self._call({**req, "offset": offset, "length": _READ_CHUNK})
            if "data" not in resp:
                raise _file_error(resp, path)
            chunk, size = base64.b64decode(resp["data"]), int(resp["size"])
            if max(size, offset + len(chunk)) > cap:
                raise OverflowError(f"{path} is {size} bytes, over the limit {cap}")
            parts.append(chunk)
            offset += len(chunk)
            if not chunk or offset >= size:  # /proc files say size 0 and fit in one chunk
                return b"".join(parts)

    async def write_file(
        self, path: str, contents: str | bytes, *, user: str | None = None
    ) -> None:
        """Write a file, creating parent folders (relative paths from the workdir)."""
        data = contents.encode() if isinstance(contents, str) else contents
        resp = await self._call(
            {
                "op": "write",
                "path": path,
                "cwd": self._workdir(),
                "user": user,
                "data": base64.b64encode(data).decode(),
            }
        )
        if not resp.get("ok"):
            raise _file_error(resp, path)

    async def read_range(self, path: str, offset: int, length: int) -> FileChunk:
        """Up to ``length`` bytes of ``path`` from ``offset``, read as root for state capture.

        No component of ``path`` may be a symlink, and FIFOs or devices are refused unopened:
        the agent may have put either where a file was.

        Raises:
            FileNotFoundError, PermissionError, IsADirectoryError: as the filesystem says.
            NotRegularFileError: the path is not a regular file, or goes through a symlink.
        """
        req = {"op": "read", "path": path, "user": "root", "nofollow": True}
        resp = await self._call({**req, "offset": offset, "length": length})
        if "data" in resp:
            return FileChunk(base64.b64decode(resp["data"]), int(resp["size"]))
        raise _file_error(resp, path)

    async def manifest(self, roots: list[str], options: dict[str, Any] | None = None) -> Manifest:
        """Type, mode, owner, size, hash (and small contents) of every file under ``roots``.

        ``options`` are the exec server's caps (:meth:`CaptureLimits.manifest_options`),
        ``known`` (path -> sha256 whose content the caller has) and ``skip`` (paths).
        """
        resp = await self._call({"op": "manifest", "roots": roots, **(options or {})})
        if "files" not in resp:
            raise InfrastructureError(f"exec server manifest failed: {str(resp)[:500]}")
        return Manifest.model_validate(resp)

    async def capture_state(self, limits: CaptureLimits | None = None) -> PodState:
        """Files, database rows and service side effects changed since the pod started."""
        return await capture_state(self, limits)

    async def admin(self, method: str, path: str, json_body: Any = None) -> Any:
        """Call the services sidecar's admin or tool API; return the decoded JSON body."""
        return (await self.admin_call(method, path, json_body))[1]

    async def admin_call(self, method: str, path: str, json_body: Any = None) -> tuple[int, Any]:
        """Call the services sidecar's admin or tool API (over its host-only socket).

        Returns (HTTP status, decoded JSON body or None when empty). Any HTTP status is an
        answer, never an exception.

        Raises:
            ServicesUnavailableError: the pod has no sidecar, or it died or broke (the message
                names the pod and what became of the container).
            TimeoutError: the sidecar is running but did not answer within 60 s.
            ValueError: the sidecar answered with a body that does not decode as JSON.
        """
        import httpx

        from deploysim.services import ADMIN_TOKEN_HEADER, TOOLS_HOST

        if self.services is None:
            raise ServicesUnavailableError(f"pod {self.id} has no services sidecar")
        transport = httpx.AsyncHTTPTransport(uds=str(self.scratch / "admin" / "admin.sock"))
        try:
            async with httpx.AsyncClient(
                transport=transport, base_url=f"http://{TOOLS_HOST}", timeout=60
            ) as http:
                resp = await http.request(
                    method, path, json=json_body, headers={ADMIN_TOKEN_HEADER: self.admin_token}
                )
        except (httpx.TransportError, OSError) as e:
            raise await ServicesUnavailableError.from_transport(
                self.id, self.services, e, f"{method} {path}"
            ) from e
        if not resp.content:
            return resp.status_code, None
        try:
            return resp.status_code, resp.json()
        except (ValueError, RecursionError) as e:
            # the sidecar answered, but with a plain-text error or JSON nested past the parser
            # (bodies the agent sent): not infrastructure; the caller decides what it means
            raise ValueError(
                f"services sidecar of pod {self.id} answered {method} {path} with "
                f"{resp.status_code} and a body that does not decode as JSON: {type(e).__name__}"
            ) from e


def _take_lease(path: Path) -> socket.socket:
    """Open the lease the exec server holds the pod's life to: when it closes, the pod stops.

    The kernel closes it when this process dies, however it dies (SIGKILL included).

    Raises:
        ContainerDiedError: the exec server did not grant it.
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(10)
        sock.connect(str(path))
        sock.sendall(b'{"op": "lease", "role": "host"}\n')
        if not sock.recv(64).startswith(b'{"ok"'):
            raise OSError("no lease granted")
        sock.settimeout(None)
    except OSError as e:
        sock.close()
        raise ContainerDiedError(f"the exec server at {path} granted no lease: {e}") from e
    return sock


def _tail_logs(container: Any) -> str:
    try:
        return str(container.logs(tail=20).decode("utf-8", errors="replace"))
    except Exception as e:  # noqa: BLE001 - logs are best effort inside an error message
        return f"(no logs: {e})"
