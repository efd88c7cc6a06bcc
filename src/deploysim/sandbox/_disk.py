"""Per-pod disk limits: what the engine can enforce, and the fallback when it cannot.

An agent that fills the disk must fail its own command (``ENOSPC``/``EFBIG``), never the host
and never the harness. Three layers, used as far as the engine allows:

- a quota on the container's writable layer (``storage_opt size``), when the engine's storage
  driver supports one (overlay2 on xfs mounted with ``pquota``, btrfs, zfs ...). Detected once
  per process by trying it on a throwaway container; overlay2 on ext4 (Debian's Engine 20.10
  here) does not;
- size-limited tmpfs on ``/tmp``, ``/var/tmp`` and ``/dev/shm`` (when the snapshot seeds nothing
  there: a tmpfs would hide it), charged to the pod's memory limit as well;
- ``RLIMIT_FSIZE`` on every command: no single file grows past the limit (the write fails with
  ``EFBIG``; ``SIGXFSZ`` is ignored so the process sees the error instead of dying).

Not enforced without a quota: the total of many files below the per-file limit written into
the writable layer. :func:`writable_layer_bytes` measures it from the host (when the engine is
local and its upper folder readable) so a run can report it.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from deploysim._errors import InfrastructureError
from deploysim._sizes import parse_size
from deploysim.sandbox._docker import client
from deploysim.sandbox._lifecycle import owner_labels

__all__ = ["TMPFS_PATHS", "parse_size", "quota_supported", "tmpfs_mounts", "writable_layer_bytes"]

TMPFS_PATHS = ("/tmp", "/var/tmp")


@functools.lru_cache(maxsize=4)
def quota_supported(image: str) -> bool:
    """Whether the engine enforces ``storage_opt size`` (tried once on a throwaway container).

    Raises:
        InfrastructureError: the engine failed for another reason.
    """
    import docker.errors

    try:
        c = client().containers.create(
            image,
            command=["true"],
            storage_opt={"size": "64m"},
            labels={"deploysim.role": "build", **owner_labels()},
        )
    except docker.errors.APIError as e:
        if "storage-opt" in str(e) or "storage opt" in str(e).lower() or "quota" in str(e):
            return False
        raise InfrastructureError(f"could not probe the engine's disk quota support: {e}") from e
    c.remove(force=True)
    return True


def tmpfs_mounts(seeded: list[str], size: str) -> dict[str, str]:
    """The tmpfs mounts for the temporary folders the snapshot leaves empty."""
    opts = f"rw,exec,nosuid,nodev,size={parse_size(size)},mode=1777"
    return {
        p: opts for p in TMPFS_PATHS if not any(s == p or s.startswith(p + "/") for s in seeded)
    }


def writable_layer_bytes(container: Any) -> int | None:
    """Bytes in the container's writable layer, read on the host; None when not readable here."""
    upper = (container.attrs.get("GraphDriver", {}).get("Data") or {}).get("UpperDir")
    if not upper or not os.access(upper, os.R_OK | os.X_OK):
        return None
    total = 0
    stack = [Path(upper)]
    while stack:
        with os.scandir(stack.pop()) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_blocks * 512
    return total
