"""Where deploysim keeps build logs, certificates and pod scratch folders on the host."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from deploysim._errors import InfrastructureError

__all__ = ["cache_dir", "scratch_root"]


def cache_dir(*parts: str) -> Path:
    """``$DEPLOYSIM_CACHE`` (default ``~/.cache/deploysim``) joined with ``parts``, created."""
    base = Path(os.environ.get("DEPLOYSIM_CACHE") or Path.home() / ".cache" / "deploysim")
    p = base.joinpath(*parts)
    p.mkdir(parents=True, exist_ok=True)
    return p


def scratch_root() -> Path:
    """The folder holding pods' scratch folders (sockets, the exec server), created 0700.

    ``$DEPLOYSIM_SCRATCH``, default ``<tmp>/run-<euid>``. Its path shows in the pod's
    ``/proc/self/mountinfo``, so it must not name deploysim or a cache: a path like that is a
    stage light. It lies in a shared temporary folder, so it must be a real folder owned by us
    and closed to others: the exec server copied into it runs as root in the pod.

    Raises:
        InfrastructureError: the folder exists but is a symlink, someone else's, or open.
    """
    root = Path(
        os.environ.get("DEPLOYSIM_SCRATCH") or Path(tempfile.gettempdir()) / f"run-{os.geteuid()}"
    )
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = root.lstat()
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise InfrastructureError(
            f"pod scratch folder {root} is not a folder owned by uid {os.geteuid()} with mode "
            "0700; remove it or set DEPLOYSIM_SCRATCH"
        )
    return root
