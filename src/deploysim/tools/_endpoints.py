"""Services endpoints: a pod's sidecar (over its admin socket) or an in-process app."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from deploysim._errors import InfrastructureError

if TYPE_CHECKING:
    from deploysim.sandbox import Pod
    from deploysim.snapshots import SnapshotDir

__all__ = ["InProcessServices", "PodServices"]


def _decoded(resp: Any) -> Any:
    """The JSON of a response; its text when it is not JSON (or nested past the parser)."""
    if not resp.content:
        return None
    try:
        return resp.json()
    except (ValueError, RecursionError):
        return resp.text


class PodServices:
    """Function tools (and the admin API) of a pod's sidecar, over its host-only socket.

    Keeps one HTTP client for its lifetime; close it with :meth:`aclose`. The client is made
    without TLS verification material: the socket is plain HTTP, and loading the trust store
    for every call costs ~25 ms of CPU (most of a tool call's cost).
    """

    def __init__(self, pod: Pod) -> None:
        self.pod = pod
        self._client: Any = None

    def _http(self) -> Any:
        import httpx

        from deploysim.services import ADMIN_TOKEN_HEADER, TOOLS_HOST

        if self._client is None:
            sock = str(self.pod.scratch / "admin" / "admin.sock")
            self._client = httpx.AsyncClient(
                transport=httpx.AsyncHTTPTransport(uds=sock, verify=False),
                base_url=f"http://{TOOLS_HOST}",
                headers={ADMIN_TOKEN_HEADER: self.pod.admin_token},
                timeout=60,
            )
        return self._client

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Call the sidecar; return (HTTP status, decoded JSON body, its text, or None).

        Any HTTP status, 4xx and 5xx included, is the sidecar's answer, never an exception:
        what the agent sent can make a live sidecar answer 413 or 500.

        Raises:
            ServicesUnavailableError: the pod has no sidecar, or it died or broke (an
                infrastructure failure, never a tool error shown to the model).
            TimeoutError: the sidecar is running but did not answer in time (it may be
                flooded by the agent: the caller decides).
        """
        import httpx

        from deploysim.sandbox import ServicesUnavailableError

        if self.pod.services is None:
            raise ServicesUnavailableError(f"pod {self.pod.id} has no services sidecar")
        try:
            resp = await self._http().request(method, path, json=body)
        except (httpx.TransportError, OSError) as e:
            raise await ServicesUnavailableError.from_transport(
                self.pod.id, self.pod.services, e, f"{method} {path}"
            ) from e
        return resp.status_code, _decoded(resp)

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> tuple[int, Any]:
        """POST /tools/<name>."""
        return await self.request("POST", f"/tools/{name}", arguments)

    async def reset(self) -> None:
        """Back to the snapshot's state.

        Raises:
            InfrastructureError: the sidecar did not reset (unreachable, too slow, or not 200):
                the pod is not reused.
        """
        try:
            status, body = await self.request("POST", "/__deploysim/reset")
        except TimeoutError as e:
            raise InfrastructureError(f"services of pod {self.pod.id} did not reset: {e}") from e
        if status != 200:
            raise InfrastructureError(f"services of pod {self.pod.id} did not reset: {body}")

    async def aclose(self) -> None:
        """Close the client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


class InProcessServices:
    """Function tools served by the services app in this process (no Docker).

    For fidelity checks and tests. Snapshot handler code runs in this process: use it only
    on snapshots you trust (your own, or rebuilt by deploysim).
    """

    def __init__(self, snapshot: SnapshotDir | str | Path, state_dir: str | Path) -> None:
        import httpx

        from deploysim.services import ADMIN_TOKEN_HEADER, TOOLS_HOST, create_app

        self._token = "in-process"
        self.app = create_app(snapshot, state_dir, admin_token=self._token)
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url=f"http://{TOOLS_HOST}",
            headers={ADMIN_TOKEN_HEADER: self._token},
        )

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> tuple[int, Any]:
        """POST /tools/<name> in process."""
        r = await self._client.post(f"/tools/{name}", json=arguments)
        return r.status_code, _decoded(r)

    async def reset(self) -> None:
        """Back to the snapshot's state."""
        await self._client.post("/__deploysim/reset")

    async def aclose(self) -> None:
        """Close the client."""
        await self._client.aclose()
