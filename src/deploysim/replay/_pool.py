"""The ``deploysim-pool`` sandbox: deploysim pods reused across samples when that is safe.

A pod whose snapshot has services costs about 3 CPU-seconds to start and tear down on this
machine (the sidecar imports FastAPI and materializes the databases; the engine starts two
containers), which caps a 2-core machine at about 40 samples a minute whatever the model.
For scenarios where no tool can reach the workspace (every tool is served by the services,
the recording or a simulator: tau-bench, tau2), the workspace of a finished sample is exactly
as it started, and the services go back to the snapshot with their reset endpoint
(``POST /__deploysim/reset``: databases, exchange counters and request log, in
milliseconds). So the replay task uses this sandbox type for such scenarios: a sample leases
an idle pod of its task (or starts one), and gives it back reset when it ends.

A pod is not reused, but closed, when the sample was interrupted, when the reset fails, or
when the pod is no longer alive. Everything else is the ``deploysim`` sandbox (same pods,
same isolation: snapshot code runs only in the sidecar, nothing leaves the pod). Caveat:
handler modules must keep their state in the services' databases (the design of
``deploysim.services``); module-level variables would survive a reset.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field

from inspect_ai.util import SandboxEnvironment, SandboxEnvironmentConfigType, sandboxenv

from deploysim._errors import InfrastructureError
from deploysim.sandbox import Pod
from deploysim.sandbox._inspect import DeploysimSandbox

__all__ = ["PooledSandbox", "pool_stats"]


@dataclass
class _Pool:
    idle: list[Pod] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=lambda: {"started": 0, "reused": 0, "closed": 0})


_POOLS: dict[str, _Pool] = {}
_STATS: dict[str, dict[str, int]] = {}


def _key(config: SandboxEnvironmentConfigType | None) -> str:
    # inspect passes the task's registry name to sample_init and its qualified name to
    # sample_cleanup ("replay" vs "deploysim/replay"): the pool is keyed by config only.
    return repr(config)


def _pool(config: SandboxEnvironmentConfigType | None) -> _Pool:
    key = _key(config)
    if key not in _POOLS:
        _POOLS[key] = _Pool()
        _STATS[key] = _POOLS[key].stats
    return _POOLS[key]


def pool_stats() -> list[dict[str, int]]:
    """Pods started, reused and closed per pool (one per sandbox config), in this process."""
    return [dict(v) for v in _STATS.values()]


async def _reset(pod: Pod) -> bool:
    """Back to the snapshot's state; False when the pod cannot be trusted with another sample."""
    from deploysim.tools import PodServices

    try:
        await asyncio.to_thread(pod.check_alive)
        if pod.services is not None:
            services = PodServices(pod)
            try:
                await services.reset()
            finally:
                await services.aclose()
        return True
    except (InfrastructureError, OSError):
        return False


@sandboxenv(name="deploysim-pool")
class PooledSandbox(DeploysimSandbox):
    """A ``deploysim`` pod leased from a per-task pool and reset between samples."""

    @classmethod
    def default_concurrency(cls) -> int | None:
        """Reused pods make CPU, not pod starts, the limit: two samples per core."""
        return max(2, 2 * (os.cpu_count() or 1))

    @classmethod
    async def sample_init(
        cls,
        task_name: str,
        config: SandboxEnvironmentConfigType | None,
        metadata: dict[str, str],
    ) -> dict[str, SandboxEnvironment]:
        """Lease an idle pod of this task, or start one."""
        pool = _pool(config)
        if pool.idle:
            pool.stats["reused"] += 1
            return {"default": cls(pool.idle.pop())}
        fresh = await DeploysimSandbox.sample_init(task_name, config, metadata)
        pool.stats["started"] += 1
        return {name: cls(env.as_type(DeploysimSandbox).pod) for name, env in fresh.items()}

    @classmethod
    async def sample_cleanup(
        cls,
        task_name: str,
        config: SandboxEnvironmentConfigType | None,
        environments: dict[str, SandboxEnvironment],
        interrupted: bool,
    ) -> None:
        """Reset the pod and give it back; close it when it cannot be trusted again."""
        pool = _pool(config)
        for env in environments.values():
            pod = env.as_type(PooledSandbox).pod
            if not interrupted and await _reset(pod):
                pool.idle.append(pod)
            else:
                pool.stats["closed"] += 1
                await pod.close()

    @classmethod
    async def task_cleanup(
        cls, task_name: str, config: SandboxEnvironmentConfigType | None, cleanup: bool
    ) -> None:
        """Close the task's idle pods."""
        pool = _POOLS.pop(_key(config), None)
        if pool is None:
            return
        for pod in pool.idle:
            await pod.close()
        pool.stats["closed"] += len(pool.idle)
        pool.idle.clear()
