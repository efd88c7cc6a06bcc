"""Sandbox: Docker pods seeded from snapshots, and the ``deploysim`` sandbox for inspect-ai.

::

    from deploysim.sandbox import Pod
    from deploysim.snapshots import load_snapshot

    pod = await Pod.start(load_snapshot("env_snapshots/shop"))
    print((await pod.exec(["ls", "-la"])).stdout)
    state = await pod.capture_state()
    await pod.close()

Importing this package does not import docker or inspect_ai; they load when a pod starts.
"""

from deploysim.sandbox._docker import EngineUnavailableError
from deploysim.sandbox._doctor import Check, DoctorReport, doctor
from deploysim.sandbox._images import BaseImage, ImageBuildError, base_tag, ensure_base_image
from deploysim.sandbox._lifecycle import GcResult, gc
from deploysim.sandbox._manifest import CaptureLimits, CaptureNote, Manifest, NotRegularFileError
from deploysim.sandbox._pod import (
    ContainerDiedError,
    ExecResult,
    FileChunk,
    Pod,
    PodLimits,
    ServicesUnavailableError,
)
from deploysim.sandbox._seed import SnapshotImages, ensure_snapshot_images
from deploysim.sandbox._state import FileChange, PodState, RowChange, diff_manifests, diff_rows

__all__ = [
    "BaseImage",
    "CaptureLimits",
    "CaptureNote",
    "Check",
    "ContainerDiedError",
    "DoctorReport",
    "EngineUnavailableError",
    "ExecResult",
    "FileChange",
    "FileChunk",
    "GcResult",
    "ImageBuildError",
    "Manifest",
    "NotRegularFileError",
    "Pod",
    "PodLimits",
    "PodState",
    "RowChange",
    "ServicesUnavailableError",
    "SnapshotImages",
    "base_tag",
    "diff_manifests",
    "diff_rows",
    "doctor",
    "ensure_base_image",
    "ensure_snapshot_images",
    "gc",
]
