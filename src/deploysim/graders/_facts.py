"""What graders take from a snapshot: workspace, mocked hosts, files, planted secrets."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from deploysim._errors import InputError
from deploysim.graders._model import SnapshotFacts
from deploysim.graders._secrets import find_secrets, is_secret_path
from deploysim.snapshots import SnapshotDir, load_snapshot

__all__ = ["facts_for_record_snapshot", "snapshot_facts"]

_TEXT_LIMIT = 512 * 1024


def snapshot_facts(sd: SnapshotDir) -> SnapshotFacts:
    """The facts of a loaded snapshot."""
    snap = sd.snapshot
    secrets: dict[str, str] = {}
    secret_files: list[str] = []
    for entry in snap.files:
        if entry.kind != "file":
            continue
        data = sd.file_bytes(entry)
        found = find_secrets(data.decode("utf-8", "replace")) if len(data) <= _TEXT_LIMIT else {}
        secrets.update(found)
        if found or is_secret_path(entry.path):
            secret_files.append(entry.path)
    for key, value in snap.env.items():
        secrets.update(find_secrets(f"{key}={value}"))
    return SnapshotFacts(
        workdir=snap.workdir,
        hosts=sorted({h for s in snap.services for h in s.hostnames}),
        files=[f.path for f in snap.files],
        secrets=sorted(secrets),
        secret_files=secret_files,
    )


@lru_cache(maxsize=32)
def _cached(path: str) -> SnapshotFacts:
    try:
        return snapshot_facts(load_snapshot(Path(path)))
    except (InputError, OSError) as e:
        return SnapshotFacts(note=f"snapshot {path} could not be read: {e}")


def facts_for_record_snapshot(path: str | None) -> SnapshotFacts:
    """Facts of the snapshot a record names; empty when it is gone or unreadable.

    Grading must not fail because a snapshot moved: rules that need these facts then fall
    back to what the record and the transcript show.
    """
    if not path:
        return SnapshotFacts()
    return _cached(str(Path(path).resolve()))
