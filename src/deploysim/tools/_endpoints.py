"""Services endpoints: a pod's sidecar (over its admin socket) or an in-process app."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deploysim.sandbox import Pod
    from deploysim.snapshots import SnapshotDir

__all__ = ["InProcessServices", "PodServices"]


class PodServices:
    """Function tools served by a pod's sidecar."""

    def __init__(self, pod: Pod) -> None:
        self.pod = pod

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> tuple[int, Any]:
        """POST /tools/<name> through the pod's admin socket."""
        return await self.pod.admin_call("POST", f"/tools/{name}", arguments)

    async def reset(self) -> None:
        """Back to the snapshot's state."""
        await self.pod.admin_call("POST", "/__deploysim/reset", None)


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
        return r.status_code, (r.json() if r.content else None)

    async def reset(self) -> None:
        """Back to the snapshot's state."""
        await self._client.post("/__deploysim/reset")

    async def aclose(self) -> None:
        """Close the client."""
        await self._client.aclose()
