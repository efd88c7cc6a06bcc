"""The replay solver: rebuild the state at the cut, hand over, record everything.

Steps, each a named function below:

1. ``_context``: the sample's pod (inspect's ``deploysim`` sandbox), a router binding each of
   the trace's tools to its backends, the recorded pool, the simulator when configured;
2. ``replay_prefix``: re-execute the prefix's state-changing calls live (fidelity warnings
   for any that do not reproduce);
3. the script (the original's continuation) goes into the store for scripted policies;
4. ``AgentLoop``: resample (one turn) or rollout (the rest of the conversation);
5. ``capture_end_state`` while the pod is up; the record goes into the store.

Infrastructure failures (a dead container, the engine gone) propagate as exceptions: inspect
marks the sample as errored and retries it (``retry_on_error``); they are never recorded as
model behaviour. A sample limit (the wall-clock ``time_limit``, inspect's message or token
limits) is model behaviour: the record is completed (``stop_reason: time_limit``, the end
state captured) before inspect ends the sample and scores it.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from deploysim.replay._capture import capture_end_state, services_log_length
from deploysim.replay._errors import PrefixLimitError
from deploysim.replay._execute import ToolExecutor
from deploysim.replay._loop import AgentLoop
from deploysim.replay._original import original_steps, steps_of_turn
from deploysim.replay._plan import ReplayPlan, TracePlan
from deploysim.replay._prefix import fidelity_warnings, replay_prefix
from deploysim.replay._record import RECORD_KEY, EndState, ReplayRecord
from deploysim.replay._script import SCRIPT_KEY, build_script
from deploysim.replay._user import UserSimulator
from deploysim.tools import CallContext, ModelEmulator, PodServices, RecordedPool, Router
from deploysim.traces import Trace, pair_calls

if TYPE_CHECKING:
    from inspect_ai.model import Model
    from inspect_ai.solver import Generate, Solver, TaskState

    from deploysim.sandbox import Pod

__all__ = ["META_KEY", "SampleMeta", "replay_solver"]

META_KEY = "deploysim"
"""Sample metadata key of :class:`SampleMeta`."""
CAPTURE_GRACE = 60.0
"""Seconds the end-state capture may take after a limit stopped the sample."""


class SampleMeta(BaseModel):
    """What a sample is: which trace, cut where, replayed how."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: str
    suite: str
    trace_id: str
    cut: int
    turn: int
    mode: str
    tags: list[str] = Field(default_factory=list)
    prefix_notes: list[str] = Field(default_factory=list)


def recorded_pool(trace: Trace) -> RecordedPool:
    """Every (call, result) pair of the trace, for exact-argument lookups."""
    pool = RecordedPool()
    for pair in pair_calls(trace).pairs:
        c, r = pair.call.call, pair.result.result
        raw = c.raw_arguments if c.arguments is None else None
        pool.add(c.name, c.arguments, raw, r.output, r.is_error)
    return pool


def _pod() -> Pod:
    from inspect_ai.util import sandbox

    from deploysim.sandbox._inspect import DeploysimSandbox

    return sandbox().as_type(DeploysimSandbox).pod


def _resolve(name: str | None, role: str) -> Model | str | None:
    """A model by name, else the one bound to an inspect model role, else None."""
    if name:
        return name
    from inspect_ai.model import model_roles

    bound = model_roles().get(role)
    return bound[0] if isinstance(bound, list) else bound


def _context(plan: ReplayPlan, tp: TracePlan, pod: Pod | None) -> CallContext:
    pool = recorded_pool(tp.trace)
    sim = _resolve(plan.loaded.scenario.simulator, "simulator")
    return CallContext(
        pod=pod,
        services=PodServices(pod) if pod is not None and pod.services is not None else None,
        pool=pool,
        timeout=plan.loaded.scenario.limits.tool_timeout,
        emulator=ModelEmulator(sim, plan.loaded.snapshot, pool) if sim is not None else None,
    )


def _new_record(plan: ReplayPlan, tp: TracePlan, meta: SampleMeta, model: Model) -> ReplayRecord:
    sc = plan.loaded.scenario
    original = original_steps(tp.trace, meta.cut, tp.effect)
    user = _resolve(sc.user_simulator, "user_simulator")
    sim = _resolve(sc.simulator, "simulator")
    return ReplayRecord(
        scenario=sc.name,
        suite=sc.suite,
        trace_id=tp.trace.id,
        trace_source=tp.trace.source,
        mode=sc.mode,
        cut=meta.cut,
        turn=meta.turn,
        tags=list(sc.tags),
        graders=list(sc.graders),
        snapshot=str(plan.loaded.snapshot_path) if plan.loaded.snapshot_path else None,
        candidate_model=str(model),
        user_simulator=str(user) if user is not None else None,
        simulator=str(sim) if sim is not None else None,
        tools=[t.name for t in tp.offered.infos],
        schema_changes=tp.offered.changes,
        chains=tp.chains,
        prefix_notes=list(meta.prefix_notes),
        original=original,
        original_turn_steps=len(steps_of_turn(original, meta.turn)),
    )


@dataclass
class _Sample:
    """One sample being replayed: what it is, and what it runs against."""

    plan: ReplayPlan
    tp: TracePlan
    meta: SampleMeta
    state: TaskState
    pod: Pod | None
    ctx: CallContext
    started: float
    prefix_entries: int = 0
    """Services log entries the prefix's re-execution made."""
    handed_over: bool = False
    """The prefix is rebuilt and the candidate has the turn."""

    @property
    def services(self) -> PodServices | None:
        return self.ctx.services if isinstance(self.ctx.services, PodServices) else None


async def _handover(plan: ReplayPlan, tp: TracePlan, meta: SampleMeta, state: TaskState) -> None:
    import anyio

    started = time.perf_counter()
    pod = _pod() if plan.needs_pod() else None
    sample = _Sample(plan, tp, meta, state, pod, _context(plan, tp, pod), started)
    try:
        await _run(sample)
    finally:
        if sample.services is not None:
            with anyio.CancelScope(shield=True):  # closes even when a limit cancelled us
                await sample.services.aclose()


def _limit_hit(error: BaseException) -> str | None:
    """The inspect sample limit behind ``error`` (``time``, ``message``...), or None.

    Message and token limits are raised as ``LimitExceededError`` where they are counted;
    the time and working limits cancel the solver (the error is raised outside it), so a
    cancellation is a limit exactly when one of them is used up.
    """
    import anyio
    from inspect_ai.util import LimitExceededError, sample_limits

    if isinstance(error, LimitExceededError):
        return error.type
    if not isinstance(error, anyio.get_cancelled_exc_class()):
        return None
    try:
        limits = sample_limits()
    except RuntimeError:  # outside a sample: no limits to have hit
        return None
    for name, lim in (("time", limits.time), ("working", limits.working)):
        if lim.limit is not None and lim.usage >= lim.limit:
            return name
    return None


async def _act(sample: _Sample, router: Router, record: ReplayRecord, model: Model) -> None:
    """Re-execute the prefix, hand over, and let the candidate act."""
    from inspect_ai.util import store

    plan, tp, meta = sample.plan, sample.tp, sample.meta
    t0 = time.perf_counter()
    record.prefix_calls = await replay_prefix(router, tp, meta.cut)
    record.fidelity_warnings = fidelity_warnings(record.prefix_calls)
    sample.prefix_entries = await services_log_length(sample.services)
    record.timings.prefix = time.perf_counter() - t0
    store().set(SCRIPT_KEY, build_script(tp.trace.id, record.original).model_dump(mode="json"))
    sample.handed_over = True
    user = _resolve(plan.loaded.scenario.user_simulator, "user_simulator")
    loop = AgentLoop(
        state=sample.state,
        model=model,
        tools=tp.offered.infos,
        executor=ToolExecutor(router, tp),
        record=record,
        limits=plan.loaded.scenario.limits,
        user=UserSimulator(user, tp.trace) if user is not None else None,
    )
    if plan.loaded.scenario.mode == "resample":
        await loop.resample(meta.turn)
    else:
        await loop.rollout(meta.turn)


async def _capture(sample: _Sample) -> EndState:
    if sample.pod is None:
        return EndState(captured=False, reason="no pod: nothing was executed live")
    return await capture_end_state(
        sample.pod, sample.services, sample.plan, sample.tp, sample.prefix_entries
    )


async def _capture_after_limit(sample: _Sample) -> EndState:
    """The end state of a sample a limit stopped: shielded from the limit's cancellation."""
    import anyio

    with anyio.move_on_after(CAPTURE_GRACE, shield=True):
        return await _capture(sample)
    reason = f"the capture did not finish within {CAPTURE_GRACE:.0f} s after the limit"
    return EndState(captured=False, reason=reason)


async def _run(sample: _Sample) -> None:
    from inspect_ai.model import get_model

    plan, tp, meta = sample.plan, sample.tp, sample.meta
    router = Router(tp.trace.tools, sample.ctx, plan.loaded.snapshot, tp.chains)
    model = get_model()
    record = _new_record(plan, tp, meta, model)
    try:
        await _act(sample, router, record, model)
    except BaseException as e:
        limit = _limit_hit(e)
        if limit is None:
            record.end_state = EndState(captured=False, reason="the sample failed before its end")
            _store(record, sample.started)
            raise
        if not sample.handed_over:
            raise PrefixLimitError(
                f"sample {meta.trace_id}@{meta.cut}: the {limit} limit ran out while the "
                "prefix's calls were re-executed, before the candidate acted; raise "
                "limits.time_limit or cut later"
            ) from e
        # a limit is the model's behaviour: graded on what it did, end state included
        record.stop_reason = "time_limit" if limit == "time" else "limit"
        record.limit = limit
        t0 = time.perf_counter()
        record.end_state = await _capture_after_limit(sample)
        record.timings.capture = time.perf_counter() - t0
        _store(record, sample.started)
        raise
    t0 = time.perf_counter()
    record.end_state = await _capture(sample)
    record.timings.capture = time.perf_counter() - t0
    _store(record, sample.started)


def _store(record: ReplayRecord, t_start: float) -> None:
    from inspect_ai.util import store

    record.provenance_counts = dict(
        Counter(s.provenance for s in record.candidate if s.provenance is not None)
    )
    t = record.timings
    t.total = time.perf_counter() - t_start
    for name in ("prefix", "model", "tools", "user_simulator", "capture", "total"):
        setattr(t, name, round(getattr(t, name), 4))
    store().set(RECORD_KEY, record.model_dump(mode="json"))


def replay_solver(plan: ReplayPlan) -> Solver:
    """The solver of ``deploysim/replay`` for a compiled scenario."""
    from inspect_ai.solver import solver

    @solver(name="deploysim_replay")
    def _replay() -> Solver:
        async def solve(state: TaskState, generate: Generate) -> TaskState:
            meta = SampleMeta.model_validate(state.metadata[META_KEY])
            await _handover(plan, plan.trace_plan(meta.trace_id), meta, state)
            return state

        return solve

    made: Any = _replay()
    return made  # type: ignore[no-any-return]
