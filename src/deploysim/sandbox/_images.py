"""The base image: content-addressed, built once, offline when no registry is reachable.

The tag is a hash of the recipe (Debian suite, package list, the sidecar's Python libraries
and their versions), so changing any of them builds a new image and
building the same recipe twice is a no-op. Every build writes a log; a failed build raises
:class:`ImageBuildError` naming it.

Two ways to build, chosen by what the machine can do:

- ``debootstrap`` (root on Debian, no registry needed): ``debootstrap --variant=minbase`` into a
  folder, add users and libraries, ``docker import``. This is how it is built on our machines.
- ``dockerfile``: ``FROM debian:bookworm-slim`` and ``apt-get``; needs a registry. Used when
  debootstrap is unavailable, or asked for with ``DEPLOYSIM_BASE_BUILD=dockerfile``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Literal, NamedTuple

from deploysim._errors import InfrastructureError
from deploysim.sandbox._docker import client
from deploysim.sandbox._lifecycle import owner_labels
from deploysim.sandbox._paths import cache_dir

__all__ = [
    "AGENT_UID",
    "BASE_PACKAGES",
    "BASE_REPOSITORY",
    "SERVICES_UID",
    "BaseImage",
    "ImageBuildError",
    "base_recipe",
    "base_tag",
    "ensure_base_image",
    "ensure_workspace_base",
    "image_exists",
]

BASE_REPOSITORY = "deploysim/base"
SUITE = "bookworm"
AGENT_UID = 1000
SERVICES_UID = 999
BASE_PACKAGES = (
    "bash",
    "coreutils",
    "python3",
    "sqlite3",
    "curl",
    "git",
    "jq",
    "ca-certificates",
    "procps",
    "iproute2",
    "less",
    "findutils",
    "adduser",
    "passwd",
    "openssh-client",
    "file",
)
# The services sidecar runs deploysim.services on the image's python3 (3.11 on bookworm); these
# are installed into /opt/deploysim/lib at the versions this host runs, so both sides agree.
SIDECAR_DISTRIBUTIONS = ("fastapi", "uvicorn", "pydantic", "PyYAML", "sqlite-utils")
IMAGE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
}


class ImageBuildError(InfrastructureError):
    """An image build failed; the message names its build log."""


class BaseImage(NamedTuple):
    """The base image's tag and whether this call built it."""

    tag: str
    built: bool
    log: Path


def base_recipe() -> dict[str, object]:
    """Everything the base image is made from; its hash is the image tag."""
    return {
        "suite": SUITE,
        "packages": sorted(BASE_PACKAGES),
        "sidecar": sorted(f"{d}=={version(d)}" for d in SIDECAR_DISTRIBUTIONS),
        "python": "3.11",
        "users": {"agent": AGENT_UID, "services": SERVICES_UID},
        "env": IMAGE_ENV,
        "recipe": 1,
    }


def base_tag() -> str:
    """``deploysim/base:<recipe hash>``."""
    blob = json.dumps(base_recipe(), sort_keys=True).encode()
    return f"{BASE_REPOSITORY}:{hashlib.sha256(blob).hexdigest()[:16]}"


def image_exists(tag: str) -> bool:
    """Whether the engine has an image with this tag."""
    import docker.errors

    try:
        client().images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def _run(cmd: list[str], log: Path, **kw: object) -> None:
    with log.open("a") as f:
        f.write(f"$ {' '.join(cmd)}\n")
        f.flush()
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, check=False, **kw)  # type: ignore[call-overload]
    if proc.returncode != 0:
        raise ImageBuildError(
            f"`{cmd[0]}` failed (exit {proc.returncode}); see the build log {log}"
        )


def _install_sidecar_libs(target: Path, log: Path) -> None:
    reqs = [f"{d}=={version(d)}" for d in SIDECAR_DISTRIBUTIONS]
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-compile",
            "--target",
            str(target),
            "--only-binary=:all:",
            "--platform",
            "manylinux2014_x86_64",
            "--platform",
            "manylinux_2_17_x86_64",
            "--python-version",
            "3.11",
            "--implementation",
            "cp",
            "--disable-pip-version-check",
            *reqs,
        ],
        log,
    )


def _add_users(rootfs: Path) -> None:
    etc = rootfs / "etc"
    with (etc / "passwd").open("a") as f:
        f.write(f"agent:x:{AGENT_UID}:{AGENT_UID}:deploysim agent:/home/agent:/bin/bash\n")
        f.write(
            f"services:x:{SERVICES_UID}:{SERVICES_UID}:deploysim services:/var/lib/deploysim:"
            "/usr/sbin/nologin\n"
        )
    with (etc / "group").open("a") as f:
        f.write(f"agent:x:{AGENT_UID}:\nservices:x:{SERVICES_UID}:\n")
    with (etc / "shadow").open("a") as f:
        f.write("agent:*:20000:0:99999:7:::\nservices:*:20000:0:99999:7:::\n")
    for d, uid, mode in (
        (rootfs / "home" / "agent", AGENT_UID, 0o750),
        (rootfs / "var" / "lib" / "deploysim", SERVICES_UID, 0o700),
    ):
        d.mkdir(parents=True, exist_ok=True)
        os.chown(d, uid, uid)
        d.chmod(mode)


def _finish_rootfs(rootfs: Path, log: Path) -> None:
    _add_users(rootfs)
    opt = rootfs / "opt" / "deploysim"
    opt.mkdir(parents=True, exist_ok=True)
    _install_sidecar_libs(opt / "lib", log)
    for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for p in (rootfs / junk).glob("*"):
            if p.is_file():
                p.unlink()


def _build_debootstrap(tag: str, log: Path) -> None:
    if shutil.which("debootstrap") is None:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        try:
            _run(["apt-get", "install", "-y", "-q", "debootstrap"], log, env=env)
        except ImageBuildError:  # a fresh machine may have no package lists yet
            _run(["apt-get", "update", "-q"], log, env=env)
            _run(["apt-get", "install", "-y", "-q", "debootstrap"], log, env=env)
    with tempfile.TemporaryDirectory(prefix="deploysim-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        _run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(BASE_PACKAGES)}",
                SUITE,
                str(rootfs),
            ],
            log,
        )
        _finish_rootfs(rootfs, log)
        tarball = Path(tmp) / "rootfs.tar"
        _run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(tarball), "."], log)
        repo, _, version_tag = tag.partition(":")
        changes = [f"ENV {k}={v}" for k, v in IMAGE_ENV.items()]
        with log.open("a") as f:
            f.write(f"docker import {tarball} {tag}\n")
        client().api.import_image_from_file(
            str(tarball), repository=repo, tag=version_tag, changes=changes
        )


_DOCKERFILE = """FROM debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
    {packages} && rm -rf /var/lib/apt/lists/*
RUN useradd -u {agent} -m -s /bin/bash agent && useradd -u {services} -r -d /var/lib/deploysim \\
    -s /usr/sbin/nologin services && mkdir -p /var/lib/deploysim && \\
    chown services /var/lib/deploysim && chmod 700 /var/lib/deploysim && chmod 750 /home/agent
COPY opt /opt
{env}
"""


def _build_dockerfile(tag: str, log: Path) -> None:
    import docker.errors

    with tempfile.TemporaryDirectory(prefix="deploysim-ctx-") as tmp:
        ctx = Path(tmp)
        opt = ctx / "opt" / "deploysim"
        opt.mkdir(parents=True)
        _install_sidecar_libs(opt / "lib", log)
        (ctx / "Dockerfile").write_text(
            _DOCKERFILE.format(
                packages=" ".join(BASE_PACKAGES),
                agent=AGENT_UID,
                services=SERVICES_UID,
                env="\n".join(f"ENV {k}={v}" for k, v in IMAGE_ENV.items()),
            )
        )
        try:
            _, stream = client().images.build(path=str(ctx), tag=tag, rm=True)
            with log.open("a") as f:
                for chunk in stream:
                    f.write(
                        str(chunk.get("stream", chunk)) if isinstance(chunk, dict) else str(chunk)
                    )
        except docker.errors.DockerException as e:
            with log.open("a") as f:
                f.write(f"build failed: {e}\n")
            raise ImageBuildError(f"Dockerfile build failed; see the build log {log}") from e


def _method() -> Literal["debootstrap", "dockerfile"]:
    asked = os.environ.get("DEPLOYSIM_BASE_BUILD")
    if asked in ("debootstrap", "dockerfile"):
        return asked  # type: ignore[return-value]
    can_debootstrap = shutil.which("debootstrap") is not None or (
        os.geteuid() == 0 and Path("/etc/debian_version").exists()
    )
    return "debootstrap" if can_debootstrap and os.geteuid() == 0 else "dockerfile"


def ensure_base_image() -> BaseImage:
    """Build the base image unless the engine already has it.

    Raises:
        ImageBuildError: the build failed (the message names the build log).
        EngineUnavailableError: no engine answers.
    """
    tag = base_tag()
    log = cache_dir("build-logs") / f"{tag.replace('/', '_').replace(':', '-')}.log"
    if image_exists(tag):
        return BaseImage(tag, False, log)
    log.write_text(f"building {tag}\nrecipe: {json.dumps(base_recipe(), indent=1)}\n")
    method = _method()
    if method == "debootstrap":
        _build_debootstrap(tag, log)
    else:
        _build_dockerfile(tag, log)
    if not image_exists(tag):
        raise ImageBuildError(f"build of {tag} finished but the image is missing; see {log}")
    client().images.get(tag).tag(BASE_REPOSITORY, "latest")
    return BaseImage(tag, True, log)


WORKSPACE_BASE_REPOSITORY = "deploysim/ws-base"
# The workspace is the agent's machine: nothing in it may name deploysim (a stage light). The
# base carries the sidecar's libraries in /opt/deploysim and the services user's home; the
# workspace needs neither, and its users get plain descriptions.
_WORKSPACE_SCRUB = (
    "rm -rf /opt/deploysim /var/lib/deploysim && sed -i"
    " -e 's#:deploysim agent:#:Agent:#'"
    " -e 's#:deploysim services:/var/lib/deploysim:#:Services:/nonexistent:#' /etc/passwd"
    " && ! grep -q deploysim /etc/passwd /etc/group"
)


def ensure_workspace_base(base: str) -> str:
    """The workspace's base: ``base`` without deploysim's folders and names; built once.

    Raises:
        ImageBuildError: the scrub failed (the message holds its output).
    """
    digest = hashlib.sha256(f"{base}\0{_WORKSPACE_SCRUB}".encode()).hexdigest()[:16]
    tag = f"{WORKSPACE_BASE_REPOSITORY}:{digest}"
    if image_exists(tag):
        return tag
    c = client().containers.create(
        base,
        command=["/bin/sh", "-c", _WORKSPACE_SCRUB],
        user="root",
        network_mode="none",
        labels={"deploysim.role": "build", **owner_labels()},
    )
    try:
        c.start()
        status = c.wait(timeout=120).get("StatusCode")
        if status != 0:
            out = c.logs().decode("utf-8", errors="replace")
            raise ImageBuildError(f"scrubbing {base} for the workspace failed ({status}): {out}")
        c.commit(repository=WORKSPACE_BASE_REPOSITORY, tag=digest, changes=['CMD ["/bin/bash"]'])
    finally:
        c.remove(force=True)
    return tag


def tar_bytes(members: dict[str, tuple[bytes, int, int]]) -> bytes:
    """A tar archive of files: path -> (content, mode, uid). Used to seed images."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for path, (data, mode, uid) in sorted(members.items()):
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size = len(data)
            info.mode = mode
            info.uid = info.gid = uid
            info.mtime = 0
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()
