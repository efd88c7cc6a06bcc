"""The router: bind each tool to an ordered list of backends and answer calls through them."""

from __future__ import annotations

from collections.abc import Sequence

from deploysim.snapshots import SnapshotDir
from deploysim.tools._backends import Backend, CallContext, NotServed, get_backend
from deploysim.tools._model import ToolOutcome, ToolRequest
from deploysim.traces import ToolSpec

__all__ = ["Router", "default_chain"]

_LIVE_BY_KIND = {"shell": "shell", "editor": "editor", "sql": "sql", "http": "http"}


def default_chain(spec: ToolSpec, snapshot: SnapshotDir | None) -> list[str]:
    """Backends to try for a tool, most faithful first.

    A binding in the snapshot wins. Otherwise: tools of a live kind (shell, editor, sql, http)
    run in the pod; function tools go to the services when a service declares them; then the
    recorded pool; then an unavailable error.
    """
    if snapshot is not None:
        for b in snapshot.snapshot.tool_bindings:
            if b.tool == spec.name:
                bound = {
                    "live": [_LIVE_BY_KIND.get(spec.kind, "function")],
                    "recorded": ["recorded"],
                    "unavailable": [],
                    "emulated": ["emulated"],
                }[b.backend]
                return [*bound, "unavailable"]
    chain: list[str] = []
    if spec.kind in _LIVE_BY_KIND:
        chain.append(_LIVE_BY_KIND[spec.kind])
    elif snapshot is not None and any(
        ft.name == spec.name for s in snapshot.snapshot.services for ft in s.function_tools
    ):
        chain.append("function")
    return [*chain, "recorded", "unavailable"]


class Router:
    """Answers tool calls for one sample."""

    def __init__(
        self,
        tools: Sequence[ToolSpec],
        ctx: CallContext,
        snapshot: SnapshotDir | None = None,
        chains: dict[str, list[str]] | None = None,
    ) -> None:
        self.tools = {t.name: t for t in tools}
        self.ctx = ctx
        self.chains = {t.name: default_chain(t, snapshot) for t in tools}
        self.chains.update(chains or {})

    def chain(self, name: str) -> list[Backend]:
        """The backends tried for ``name``, in order (known backends only)."""
        out: list[Backend] = []
        for b in self.chains.get(name, ["recorded", "unavailable"]):
            try:
                out.append(get_backend(b))
            except KeyError:
                continue
        return out

    async def call(self, request: ToolRequest) -> ToolOutcome:
        """Answer a call through the first backend that serves it."""
        spec = self.tools.get(request.name) or ToolSpec(name=request.name)
        notes: list[str] = []
        for b in self.chain(request.name):
            if not b.accepts(spec, self.ctx):
                continue
            try:
                outcome = await b.call(spec, request, self.ctx)
            except NotServed as e:
                notes.append(f"{b.name}: {e}")
                continue
            if notes:
                outcome = outcome.model_copy(update={"note": "; ".join(notes)})
            return outcome
        raise RuntimeError(f"no backend answered {request.name}: {notes}")  # unreachable
