"""Every path a snapshot names resolves inside the snapshot folder.

A snapshot is untrusted input: ``files[3].source: ../../etc/shadow`` or a symlink
``files/key -> /root/.ssh/id_rsa`` must not copy a host file into the pod. Content paths
(``files[].source``, ``repos[].commits[].changes[].source``, ``rows_file``, handler modules)
are relative, hold no ``..``, and once every symlink is followed still lie inside their
folder (``files/``, ``databases/``, ``services/``) of the layer that declares them. The
folder itself may not be a symlink that leads elsewhere.

One rule, used by the model (syntax), by loading and ``snapshot validate`` (containment of
every named path), and by :class:`~deploysim.snapshots.SnapshotDir`'s readers, through which
the image build reads (containment again, then a regular file opened without blocking).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["MAX_CONTENT_FILE", "contained_path", "read_contained", "relative_path_problem"]

MAX_CONTENT_FILE = 1 << 30
"""Content files are read whole (to hash them and to build images): larger ones are refused."""


def relative_path_problem(rel: str) -> str | None:
    """Why ``rel`` is not a plain relative path (absolute, '..' or NUL), or None."""
    if not rel:
        return "must not be empty"
    if "\x00" in rel:
        return "must not hold NUL characters"
    if rel.startswith(("/", "\\")) or (len(rel) > 1 and rel[1] == ":"):
        return "must be a path relative to its folder, not an absolute path"
    if ".." in rel.replace("\\", "/").split("/"):
        return "must not hold '..' segments (it would lead out of its folder)"
    return None


def contained_path(layer_root: Path, folder: str, rel: str) -> Path:
    """``layer_root/folder/rel`` with symlinks resolved, checked to lie inside that folder.

    The snapshot folder itself may sit behind symlinks (it is resolved first); what lies
    inside it may not lead out. A missing file is returned as is (reading it reports it).

    Raises:
        ValueError: the path is not relative, or it (or the folder) leads outside.
    """
    problem = relative_path_problem(rel)
    if problem:
        raise ValueError(problem)
    base = layer_root.resolve() / folder
    real = (base / rel).resolve()
    if not real.is_relative_to(base):
        raise ValueError(
            f"leads outside the snapshot's {folder}/ folder (to {real}); "
            "a snapshot may only name its own content"
        )
    return real


def read_contained(layer_root: Path, folder: str, rel: str) -> bytes:
    """The bytes of a content file, after :func:`contained_path`; only a regular file is read.

    Opened without following a last symlink and without blocking, so a FIFO or a device
    swapped in after the check is refused rather than read (or waited on) forever; a file
    over :data:`MAX_CONTENT_FILE` is refused rather than read into memory.

    Raises:
        ValueError: the path leads outside its folder, is not a regular file, or is too big.
        OSError: the file cannot be read.
    """
    real = contained_path(layer_root, folder, rel)
    fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError("is not a regular file")
        if st.st_size > MAX_CONTENT_FILE:
            raise ValueError(
                f"is larger than {MAX_CONTENT_FILE >> 20} MiB (content files are read whole)"
            )
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(MAX_CONTENT_FILE + 1)  # a file that grew since fstat is still bounded
        if len(data) > MAX_CONTENT_FILE:
            raise ValueError(
                f"is larger than {MAX_CONTENT_FILE >> 20} MiB (content files are read whole)"
            )
        return data
    finally:
        os.close(fd)
