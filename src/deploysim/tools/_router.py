"""The router: bind each tool to an ordered list of backends and answer calls through them."""

from __future__ import annotations

from collections.abc import Sequence

from deploysim.snapshots import SnapshotDir
from deploysim.tools._backends import Backend, CallContext, NotServed, get_backend
from deploysim.tools._model import ToolOutcome, ToolRequest
from deploysim.traces import ToolSpec

__all__ = ["Router", "default_chain"]

_LIVE_BY_KIND = {"shell": "shell", "editor": "editor", "sql": "sql", "http": "http"}


def default_chain(
    spec: ToolSpec, snapshot: SnapshotDir | None, *, emulate: bool = False
) -> list[str]:
    """Backends to try for a tool, most faithful first.

    A binding in the snapshot wins. Otherwise: tools of a live kind (shell, editor, sql, http)
    run in the pod; function tools go to the services when a service declares them; then the
    recorded pool; then, with ``emulate`` (a simulator is configured), the simulator; then an
    unavailable error.
    """
    tail = ["emulated", "unavailable"] if emulate else ["unavailable"]
    if snapshot is not None:
        for b in snapshot.snapshot.tool_bindings:
            if b.tool == spec.name:
                if b.backend == "unavailable":
                    return ["unavailable"]
                bound = {
                    "live": [_LIVE_BY_KIND.get(spec.kind, "function")],
                    "recorded": ["recorded"],
                    "emulated": ["emulated"],
                }[b.backend]
                return [*bound, *(t for t in tail if t not in bound)]
    chain: list[str] = []
    if spec.kind in _LIVE_BY_KIND:
        chain.append(_LIVE_BY_KIND[spec.kind])
    elif snapshot is not None and any(
        ft.name == spec.name for s in snapshot.snapshot.services for ft in s.function_tools
    ):
        chain.append("function")
    return [*chain, "recorded", *tail]


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
        emulate = ctx.emulator is not None
        self.chains = {t.name: default_chain(t, snapshot, emulate=emulate) for t in tools}
        self.chains.update(chains or {})
        for chain in self.chains.values():
            for b in chain:
                get_backend(b)  # an unknown backend name fails here, naming the known ones
        self.fallback = ["recorded", "emulated", "unavailable"] if emulate else None

    def chain(self, name: str) -> list[Backend]:
        """The backends tried for ``name``, in order."""
        names = self.chains.get(name, self.fallback or ["recorded", "unavailable"])
        return [get_backend(b) for b in names]

    async def _check_pod(self, b: Backend, request: ToolRequest) -> None:
        # an in-pod call whose sidecar died only says "connection refused": not the agent's
        if b.in_pod:
            await self.ctx.check_services(f"a {b.name} call of {request.name}")

    async def call(self, request: ToolRequest, *, only: Sequence[str] | None = None) -> ToolOutcome:
        """Answer a call through the first backend that serves it.

        With ``only``, just those backends of the tool's chain are tried (the replay uses
        this to re-execute the prefix's writes live, never from the recording), and
        :class:`NotServed` is raised when none of them answers.

        Raises:
            InfrastructureError: the pod failed (a container died, the sidecar is gone);
                never a tool result.
        """
        spec = self.tools.get(request.name) or ToolSpec(name=request.name)
        notes: list[str] = []
        chain = self.chain(request.name)
        if only is not None:
            chain = [b for b in chain if b.name in only]
        for b in chain:
            if not b.accepts(spec, self.ctx):
                continue
            try:
                outcome = await b.call(spec, request, self.ctx)
            except NotServed as e:
                notes.append(f"{b.name}: {e}")
                await self._check_pod(b, request)
                continue
            await self._check_pod(b, request)
            if notes:
                own = [outcome.note] if outcome.note else []
                outcome = outcome.model_copy(update={"note": "; ".join([*notes, *own])})
            return outcome
        if only is not None:
            raise NotServed("; ".join(notes) or f"none of {list(only)} serves {request.name}")
        # 'unavailable' ends every default chain; a custom chain without it can get here.
        raise NotServed(f"no backend answered {request.name}: {notes}")
