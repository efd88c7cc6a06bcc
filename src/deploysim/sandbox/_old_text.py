"""The old text of files the agent changed, now that the baseline cache keeps no content.

A modified or deleted text file's old content comes from where it came from: the
snapshot's own file, or the image (read from a container of it that never runs). Either is
used only when its sha256 is the baseline's, so what is shown is what the pod started with.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import tarfile
from typing import TYPE_CHECKING, Any

from deploysim.sandbox._manifest import CaptureLimits, Manifest
from deploysim.snapshots import SnapshotDir

if TYPE_CHECKING:
    from deploysim.sandbox._pod import Pod
    from deploysim.sandbox._state import FileChange

__all__ = ["with_old_text"]


def _wanted(change: FileChange, entry: dict[str, Any] | None, limits: CaptureLimits) -> bool:
    return (
        change.change != "added"
        and change.kind == "file"
        and change.before is None
        and entry is not None
        and "sha256" in entry
        and int(entry.get("size") or 0) <= limits.text_limit
    )


def _from_snapshot(sd: SnapshotDir | None, wanted: dict[str, str]) -> dict[str, bytes]:
    """Contents of the snapshot's own files whose hash is the baseline's."""
    out: dict[str, bytes] = {}
    if sd is None:
        return out
    for f in sd.snapshot.files:
        if f.path in wanted and f.kind == "file":
            data = sd.file_bytes(f)
            if hashlib.sha256(data).hexdigest() == wanted[f.path]:
                out[f.path] = data
    return out


def _from_image(
    image: str, wanted: dict[str, str], budget: int, labels: dict[str, str]
) -> dict[str, bytes]:
    """Contents of image files, read from a container of ``image`` that never runs."""
    from deploysim.sandbox._docker import client

    out: dict[str, bytes] = {}
    # The pod's labels: if this process dies here, gc reaps the container with its pod.
    container = client().containers.create(
        image, command=["true"], network_disabled=True, labels=labels
    )
    try:
        for path, sha in wanted.items():
            data = _archived(container, path, budget)
            if data is not None and hashlib.sha256(data).hexdigest() == sha:
                out[path] = data
                budget -= len(data)
    finally:
        container.remove(force=True)
    return out


def _archived(container: Any, path: str, budget: int) -> bytes | None:
    """The file at ``path`` in the container, or None (gone, not a file, over ``budget``).

    None leaves the change's old text unknown (``before`` is None), which is what it is.
    """
    import docker.errors

    try:
        bits, info = container.get_archive(path)
    except docker.errors.NotFound:
        return None
    if int(info.get("size", 0)) > budget:
        return None
    with tarfile.open(fileobj=io.BytesIO(b"".join(bits))) as tar:
        member = tar.next()
        handle = tar.extractfile(member) if member is not None and member.isfile() else None
        return handle.read(budget + 1) if handle is not None else None


def _labels(pod: Pod) -> dict[str, str]:
    labels = dict(pod.workspace.labels or {})
    labels["deploysim.role"] = "old-text"
    return labels


async def with_old_text(
    pod: Pod, image: str, baseline: Manifest, changes: list[FileChange], limits: CaptureLimits
) -> list[FileChange]:
    """Fill in the old text of modified and deleted files (the cache keeps no content)."""
    wanted = {
        c.path: baseline.files[c.path]["sha256"]
        for c in changes
        if _wanted(c, baseline.files.get(c.path), limits)
    }
    if not wanted:
        return changes
    found = _from_snapshot(pod.snapshot, wanted)
    rest = {p: s for p, s in wanted.items() if p not in found}
    if rest:
        found |= await asyncio.to_thread(
            _from_image, image, rest, limits.content_total, _labels(pod)
        )
    out: list[FileChange] = []
    for c in changes:
        data = found.get(c.path)
        if data is None:
            out.append(c)
            continue
        try:
            out.append(c.model_copy(update={"before": data.decode("utf-8")}))
        except UnicodeDecodeError:
            out.append(c.model_copy(update={"binary": True}))
    return out
