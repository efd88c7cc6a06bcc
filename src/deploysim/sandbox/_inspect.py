"""The ``deploysim`` sandbox type for inspect-ai, backed by :class:`Pod`.

::

    Task(..., sandbox=("deploysim", "env_snapshots/airline"))
    inspect eval task.py --sandbox deploysim:env_snapshots/airline

Unlike inspect's docker sandbox it talks to the engine API directly (no ``docker compose``
per sample) and runs on Docker Engine 20.10. Imported only through the ``inspect_ai`` entry
point or explicitly: ``import deploysim`` does not import inspect_ai.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, overload

from inspect_ai.util import (
    ExecResult,
    OutputLimitExceededError,
    SandboxEnvironment,
    SandboxEnvironmentConfigType,
    SandboxEnvironmentLimits,
    SandboxUnavailableError,
    sandboxenv,
)
from pydantic import BaseModel, ConfigDict, Field

from deploysim.sandbox._images import ensure_base_image
from deploysim.sandbox._pod import ContainerDiedError, Pod, PodLimits
from deploysim.sandbox._seed import ensure_snapshot_images
from deploysim.snapshots import SnapshotDir, load_snapshot

__all__ = ["DeploysimSandbox", "DeploysimSandboxConfig"]

SNAPSHOT_METADATA_KEY = "deploysim_snapshot"


class DeploysimSandboxConfig(BaseModel):
    """Configuration of the ``deploysim`` sandbox (a bare string is taken as ``snapshot``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    snapshot: str | None = Field(default=None, description="Snapshot folder seeding each pod.")
    limits: PodLimits = Field(default_factory=PodLimits)


def _config(config: SandboxEnvironmentConfigType | None) -> DeploysimSandboxConfig:
    if config is None:
        return DeploysimSandboxConfig()
    if isinstance(config, str):
        return DeploysimSandboxConfig(snapshot=config)
    if isinstance(config, DeploysimSandboxConfig):
        return config
    return DeploysimSandboxConfig.model_validate(config.model_dump())


def _snapshot(cfg: DeploysimSandboxConfig, metadata: dict[str, Any]) -> SnapshotDir | None:
    path = metadata.get(SNAPSHOT_METADATA_KEY) or cfg.snapshot
    return load_snapshot(Path(path)) if path else None


@sandboxenv(name="deploysim")
class DeploysimSandbox(SandboxEnvironment):
    """One pod per sample: workspace (no network) plus a services sidecar."""

    def __init__(self, pod: Pod) -> None:
        super().__init__()
        self.pod = pod

    @classmethod
    def config_deserialize(cls, config: dict[str, Any]) -> BaseModel:
        """Read the config from a log or CLI."""
        return DeploysimSandboxConfig.model_validate(config)

    @classmethod
    def default_concurrency(cls) -> int | None:
        """Pods are light: run more at once than inspect's docker default."""
        return 16

    @classmethod
    async def task_init(cls, task_name: str, config: SandboxEnvironmentConfigType | None) -> None:
        """Build the base image (and the configured snapshot's images) once per task."""
        base = ensure_base_image().tag
        sd = _snapshot(_config(config), {})
        if sd is not None:
            ensure_snapshot_images(sd, base)

    @classmethod
    async def sample_init(
        cls,
        task_name: str,
        config: SandboxEnvironmentConfigType | None,
        metadata: dict[str, str],
    ) -> dict[str, SandboxEnvironment]:
        """Start the sample's pod."""
        cfg = _config(config)
        pod = await Pod.start(_snapshot(cfg, metadata), limits=cfg.limits, sample_id=task_name)
        return {"default": cls(pod)}

    @classmethod
    async def sample_cleanup(
        cls,
        task_name: str,
        config: SandboxEnvironmentConfigType | None,
        environments: dict[str, SandboxEnvironment],
        interrupted: bool,
    ) -> None:
        """Tear the sample's pod down."""
        for env in environments.values():
            await env.as_type(DeploysimSandbox).pod.close()

    async def exec(
        self,
        cmd: list[str],
        input: str | bytes | None = None,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        user: str | None = None,
        timeout: int | None = None,
        timeout_retry: bool = True,
        concurrency: bool = True,
    ) -> ExecResult[str]:
        """Run a command in the workspace (as the agent user by default)."""
        try:
            r = await self.pod.exec(cmd, input=input, cwd=cwd, env=env, user=user, timeout=timeout)
        except ContainerDiedError as e:
            raise SandboxUnavailableError(str(e)) from e
        return ExecResult(
            success=r.returncode == 0, returncode=r.returncode, stdout=r.stdout, stderr=r.stderr
        )

    async def write_file(self, file: str, contents: str | bytes) -> None:
        """Write a file as the agent user."""
        try:
            await self.pod.write_file(file, contents)
        except ContainerDiedError as e:
            raise SandboxUnavailableError(str(e)) from e

    @overload
    async def read_file(self, file: str, text: Literal[True] = True) -> str: ...

    @overload
    async def read_file(self, file: str, text: Literal[False]) -> bytes: ...

    async def read_file(self, file: str, text: bool = True) -> str | bytes:
        """Read a file as the agent user; over inspect's limit raises OutputLimitExceededError."""
        limit = SandboxEnvironmentLimits.MAX_READ_FILE_SIZE
        try:
            data = await self.pod.read_file(file, limit=limit)
        except OverflowError as e:
            raise OutputLimitExceededError(
                SandboxEnvironmentLimits.MAX_READ_FILE_SIZE_STR, None
            ) from e
        except ContainerDiedError as e:
            raise SandboxUnavailableError(str(e)) from e
        return data.decode("utf-8") if text else data
