"""Fidelity: re-execute every recorded call against a snapshot and compare with the record.

Each trace replays from a fresh state (services reset; a fresh pod when the trace runs shell
or editor tools), its calls in order, through the same :class:`~deploysim.tools.Router` the
candidate gets, with an empty recorded pool: every answer comes from the snapshot (its
services, its files, its recorded handlers), never from the trace being checked.

Environments: a real pod (default; shell, editor and function tools), or the services app in
this process (``in_process``: function tools only, no Docker, fast).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from deploysim._errors import InfrastructureError
from deploysim.reconstruct._calls import CallObs, collect_calls, tool_specs
from deploysim.reconstruct._compare import compare
from deploysim.reconstruct._names import canon
from deploysim.reconstruct._report import CallResult, FidelityReport
from deploysim.reconstruct._swe_backend import swe_chains
from deploysim.snapshots import SnapshotDir, load_snapshot
from deploysim.tools import CallContext, InProcessServices, Router, ToolOutcome, ToolRequest
from deploysim.traces import ToolSpec, Trace

__all__ = ["afidelity", "call_keys", "fidelity"]

_LIVE_KINDS = {"shell", "editor", "sql", "http"}
OnCall = Callable[[CallResult], None]


class _Env(Protocol):
    async def context(self, trace: Trace, specs: Mapping[str, ToolSpec]) -> CallContext: ...

    async def close(self) -> None: ...


class _InProcess:
    """The snapshot's services in this process; no pod."""

    def __init__(self, sd: SnapshotDir) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="deploysim-fidelity-"))
        self.services = InProcessServices(sd, self.dir)

    async def context(self, trace: Trace, specs: Mapping[str, ToolSpec]) -> CallContext:
        await self.services.reset()
        return CallContext(services=self.services)

    async def close(self) -> None:
        await self.services.aclose()
        shutil.rmtree(self.dir, ignore_errors=True)


class _Pods:
    """Real pods: a fresh one per trace that touches files, one reset pod for the others."""

    def __init__(self, sd: SnapshotDir) -> None:
        self.sd = sd
        self.shared: Any = None
        self.fresh: Any = None

    async def context(self, trace: Trace, specs: Mapping[str, ToolSpec]) -> CallContext:
        from deploysim.sandbox import Pod
        from deploysim.tools import PodServices

        if self.fresh is not None:
            await self.fresh.close()
            self.fresh = None
        live = bool(self.sd.snapshot.files or self.sd.snapshot.repos) and any(
            specs[c.name].kind in _LIVE_KINDS for c in trace.tool_calls()
        )
        if live:
            self.fresh = await Pod.start(self.sd, sample_id=f"fidelity-{trace.id}"[:60])
            pod = self.fresh
        else:
            if self.shared is None:
                self.shared = await Pod.start(self.sd, sample_id="fidelity")
            pod = self.shared
        services = PodServices(pod) if pod.services is not None else None
        if services is not None:
            await services.reset()
        return CallContext(pod=pod, services=services)

    async def close(self) -> None:
        for pod in (self.fresh, self.shared):
            if pod is not None:
                await pod.close()


def _judge(
    call: CallObs,
    outcome: ToolOutcome,
    volatile: Mapping[str, list[str]] | None,
    seen: bool | None,
) -> CallResult:
    base: dict[str, Any] = {
        "trace_id": call.trace_id,
        "seq": call.seq,
        "message_index": call.message_index,
        "call_id": call.call_id,
        "tool": call.tool,
        "provenance": outcome.provenance,
        "backend": outcome.backend,
        "seen": seen,
    }
    if outcome.provenance == "unavailable":
        return CallResult(
            **base,
            status="not_reproducible",
            reason="nothing in the snapshot answers it",
            note=outcome.note,
        )
    verdict = compare(call.output, outcome.output, call.tool, volatile)
    if verdict.match == "differs":
        return CallResult(**base, status="differs", diff=verdict.diff, note=outcome.note)
    return CallResult(**base, status="reproduced", match=verdict.match, how=verdict.how)


async def _run_call(
    router: Router, call: CallObs, volatile: Mapping[str, list[str]] | None, seen: bool | None
) -> CallResult:
    if call.arguments is None:
        return CallResult(
            trace_id=call.trace_id,
            seq=call.seq,
            message_index=call.message_index,
            call_id=call.call_id,
            tool=call.tool,
            status="not_reproducible",
            reason="arguments are not a JSON object",
            note=(call.raw_arguments or "")[:200],
            seen=seen,
        )
    request = ToolRequest(
        name=call.tool, arguments=call.arguments, raw_arguments=call.raw_arguments
    )
    try:
        outcome = await router.call(request)
    except InfrastructureError as e:
        return CallResult(
            trace_id=call.trace_id,
            seq=call.seq,
            message_index=call.message_index,
            call_id=call.call_id,
            tool=call.tool,
            status="not_reproducible",
            reason=f"infrastructure failure ({type(e).__name__})",
            note=str(e)[:500],
            seen=seen,
        )
    return _judge(call, outcome, volatile, seen)


async def afidelity(
    snapshot: str | Path | SnapshotDir,
    traces: Sequence[Trace],
    *,
    in_process: bool = False,
    strict: bool = False,
    volatile: Mapping[str, list[str]] | None = None,
    tools: Sequence[ToolSpec] = (),
    chains: Mapping[str, list[str]] | None = None,
    seen: set[str] | None = None,
    on_call: OnCall | None = None,
) -> FidelityReport:
    """Re-execute every recorded call of ``traces`` against ``snapshot`` (see :func:`fidelity`)."""
    sd = snapshot if isinstance(snapshot, SnapshotDir) else load_snapshot(snapshot)
    specs = tool_specs(traces, tools)
    env: _Env = _InProcess(sd) if in_process else _Pods(sd)
    results: list[CallResult] = []
    stopped = False
    try:
        for tc in collect_calls(traces):
            if not tc.calls:
                continue
            ctx = await env.context(tc.trace, specs)
            routes = {**swe_chains(sd, specs), **(chains or {})}
            router = Router(list(specs.values()), ctx, sd, chains=routes)
            for call in tc.calls:
                was_seen = None if seen is None else _call_key(call) in seen
                result = await _run_call(router, call, volatile, was_seen)
                results.append(result)
                if on_call is not None:
                    on_call(result)
                if strict and result.status != "reproduced":
                    stopped = True
                    break
            if stopped:
                break
    finally:
        await env.close()
    return FidelityReport(snapshot=str(sd.root), results=results, stopped_early=stopped)


def _call_key(call: CallObs) -> str:
    return f"{call.tool}\0{canon(call.args) if call.arguments is not None else call.raw_arguments}"


def call_keys(traces: Sequence[Trace]) -> set[str]:
    """Keys (tool + exact arguments) of every call of ``traces``, for ``seen=``."""
    return {_call_key(c) for tc in collect_calls(traces) for c in tc.calls}


def fidelity(
    snapshot: str | Path | SnapshotDir,
    traces: Sequence[Trace],
    *,
    in_process: bool = False,
    strict: bool = False,
    volatile: Mapping[str, list[str]] | None = None,
    tools: Sequence[ToolSpec] = (),
    chains: Mapping[str, list[str]] | None = None,
    seen: set[str] | None = None,
    on_call: OnCall | None = None,
) -> FidelityReport:
    """Re-execute every recorded call of ``traces`` in order against ``snapshot``; compare.

    Args:
        snapshot: the snapshot folder (or its loaded form).
        traces: the traces whose calls to re-execute (each from a fresh state).
        in_process: serve function tools in this process instead of a pod (no Docker; shell
            and editor calls are then not reproducible).
        strict: stop at the first call that is not reproduced.
        volatile: per tool, JSON fields (``name``) or patterns (``re:...``) to ignore.
        tools: tool specs for tools the traces do not declare.
        chains: backend chains per tool, overriding the router's defaults.
        seen: call keys (:func:`call_keys`) of the traces the snapshot was built from; each
            result then says whether its exact call was among them (generalization).
        on_call: called after each call (progress bars).

    Raises:
        SnapshotError: the snapshot does not load or its services cannot start.
        InfrastructureError: a pod could not be started.
    """
    return asyncio.run(
        afidelity(
            snapshot,
            traces,
            in_process=in_process,
            strict=strict,
            volatile=volatile,
            tools=tools,
            chains=chains,
            seen=seen,
            on_call=on_call,
        )
    )
