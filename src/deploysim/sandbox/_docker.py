"""The Docker engine connection, and turning engine failures into InfrastructureError."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from deploysim._errors import InfrastructureError

if TYPE_CHECKING:
    import docker

__all__ = ["EngineUnavailableError", "client", "engine_version"]


class EngineUnavailableError(InfrastructureError):
    """No Docker engine answers (not installed, not started, or DOCKER_HOST is wrong)."""


@functools.lru_cache(maxsize=1)
def client() -> docker.DockerClient:
    """A docker SDK client for the engine in the environment (DOCKER_HOST or the socket).

    Raises:
        EngineUnavailableError: the engine does not answer.
    """
    import docker
    import docker.errors

    try:
        c = docker.from_env(timeout=120)
        c.ping()
    except docker.errors.DockerException as e:
        raise EngineUnavailableError(
            f"no Docker engine answers ({e}); run `make test` once (it installs and starts one "
            "as root on Debian) or start Docker, then check with `deploysim doctor`"
        ) from e
    return c


def engine_version() -> str:
    """The engine's server version string."""
    info: dict[str, Any] = client().version()
    return str(info.get("Version", "unknown"))
