"""`deploysim doctor`: is everything a run needs here, and how to fix what is missing."""

from __future__ import annotations

import shutil
import subprocess
from importlib.metadata import PackageNotFoundError, entry_points, version

from pydantic import BaseModel, ConfigDict

from deploysim._errors import InfrastructureError

__all__ = ["Check", "DoctorReport", "doctor"]

INSPECT_PIN = "0.3.285"


class Check(BaseModel):
    """One check: what, whether it passed, what was seen, how to fix it."""

    model_config = ConfigDict(extra="forbid")

    name: str
    ok: bool
    detail: str
    fix: str


class DoctorReport(BaseModel):
    """All checks; ``ok`` when every one passed."""

    model_config = ConfigDict(extra="forbid")

    ok: bool
    checks: list[Check]


def _engine() -> Check:
    try:
        from deploysim.sandbox._docker import engine_version

        v = engine_version()
    except InfrastructureError as e:
        return Check(
            name="docker engine",
            ok=False,
            detail=str(e).split(";")[0],
            fix="as root on Debian: scripts/setup-docker.sh (installs docker.io and "
            "starts dockerd); elsewhere start Docker or set DOCKER_HOST",
        )
    major_minor = tuple(int(p) for p in v.split("+")[0].split(".")[:2] if p.isdigit())
    ok = major_minor >= (20, 10)
    return Check(
        name="docker engine",
        ok=ok,
        detail=f"Docker Engine {v}",
        fix="" if ok else "upgrade to Docker Engine 20.10 or newer",
    )


def _base_image(engine_ok: bool) -> Check:
    from deploysim.sandbox._images import base_tag, image_exists

    tag = base_tag()
    if not engine_ok:
        return Check(
            name="base image",
            ok=False,
            detail=f"{tag}: engine unavailable",
            fix="fix the engine first, then: deploysim sandbox build",
        )
    ok = image_exists(tag)
    return Check(
        name="base image",
        ok=ok,
        detail=f"{tag} {'present' if ok else 'missing'}",
        fix="" if ok else "deploysim sandbox build  (offline: debootstrap, ~2 min)",
    )


def _compose() -> Check:
    if shutil.which("docker") is None:
        return Check(
            name="compose plugin",
            ok=False,
            detail="no docker CLI",
            fix="install the docker CLI (apt-get install docker.io)",
        )
    out = subprocess.run(
        ["docker", "compose", "version"], capture_output=True, text=True, check=False
    )
    ok = out.returncode == 0
    return Check(
        name="compose plugin",
        ok=ok,
        detail=(out.stdout.strip() if ok else "docker compose is not installed"),
        fix="" if ok else "scripts/setup-compose.sh (only needed for compose.yaml users)",
    )


def _inspect() -> Check:
    try:
        v = version("inspect-ai")
    except PackageNotFoundError:
        return Check(
            name="inspect-ai",
            ok=False,
            detail="not installed",
            fix=f"pip install inspect-ai=={INSPECT_PIN}",
        )
    registered = any(ep.name == "deploysim" for ep in entry_points(group="inspect_ai"))
    ok = v == INSPECT_PIN and registered
    detail = f"inspect-ai {v}; deploysim sandbox {'registered' if registered else 'missing'}"
    return Check(
        name="inspect-ai",
        ok=ok,
        detail=detail,
        fix="" if ok else f"pip install -e . (pins inspect-ai=={INSPECT_PIN})",
    )


def doctor() -> DoctorReport:
    """Run every check."""
    engine = _engine()
    checks = [engine, _base_image(engine.ok), _compose(), _inspect()]
    return DoctorReport(ok=all(c.ok for c in checks), checks=checks)
