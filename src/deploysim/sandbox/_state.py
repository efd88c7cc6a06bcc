"""What changed in a pod: files, database rows, and what the services saw.

The file baseline is the manifest of a fresh pod of the same image, computed once per image
and cached on the host without any file content (a fresh pod of an image always looks the
same); the old text of a changed file comes back from the snapshot or the image, checked
against the baseline's hash. Database rows are read from the SQLite files in the pod and
compared with the snapshot by primary key. The services' request log and live tables come
from the sidecar's admin API.

Capture is bounded (:class:`CaptureLimits`): what the agent made too big, too many or
unreadable (a FIFO, a symlink to a device) is summarized and listed in
:attr:`PodState.capture_notes`. Filling the disk is the agent's behaviour, with evidence;
it never turns into an infrastructure failure.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deploysim.sandbox._dbcapture import database_changes
from deploysim.sandbox._manifest import CaptureLimits, CaptureNote, Manifest, same_entry
from deploysim.sandbox._old_text import with_old_text
from deploysim.sandbox._paths import cache_dir
from deploysim.snapshots import SnapshotDir, Table

if TYPE_CHECKING:
    from deploysim.sandbox._pod import Pod

__all__ = [
    "WATCH_ROOTS",
    "CaptureLimits",
    "CaptureNote",
    "FileChange",
    "PodState",
    "RowChange",
    "baseline_manifest",
    "capture_state",
    "diff_manifests",
    "diff_rows",
    "pod_image",
    "watch_roots",
]

WATCH_ROOTS = (
    "/home",
    "/root",
    "/tmp",
    "/etc",
    "/srv",
    "/opt",
    "/var/lib",
    "/var/tmp",
    "/usr/local",
    "/var/www",
    "/data",
    "/app",
    "/workspace",
    "/mnt",
)
# Managed by the engine or the harness, not by the agent.
_IGNORED = (
    "/etc/hostname",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/opt/deploysim",
    "/var/lib/dpkg",
    "/var/lib/apt",
)
_CACHE_VERSION = "v2"  # manifests without content; older cache files are not read

Change = Literal["added", "modified", "deleted"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileChange(_Frozen):
    """A path that differs from the pod's starting state."""

    path: str
    change: Change
    kind: str = Field(description="file, dir, symlink or other (after; before for deletions).")
    mode_before: str | None = None
    mode_after: str | None = None
    before: str | None = Field(default=None, description="Old text content, when text and small.")
    after: str | None = Field(default=None, description="New text content, when text and small.")
    binary: bool = Field(default=False, description="Content is not UTF-8 text.")
    size: int | None = Field(default=None, description="Bytes (after; before for deletions).")
    note: str | None = Field(default=None, description="Why content is missing or partial.")


class RowChange(_Frozen):
    """A row that differs from the snapshot, by primary key."""

    database: str
    table: str
    key: dict[str, Any]
    change: Change
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    columns: list[str] = Field(default_factory=list, description="Changed columns (modified).")


class PodState(_Frozen):
    """Everything that changed in a pod, and what its services recorded."""

    files: list[FileChange] = Field(default_factory=list)
    rows: list[RowChange] = Field(default_factory=list)
    new_tables: list[str] = Field(
        default_factory=list, description="'db.table' created by the agent."
    )
    services_log: list[dict[str, Any]] = Field(default_factory=list)
    services_tables: dict[str, Any] = Field(default_factory=dict)
    capture_notes: list[CaptureNote] = Field(
        default_factory=list,
        description="Caps the pod went over and paths capture refused (FIFOs, symlinked "
        "databases), with paths and sizes: evidence of what the agent did.",
    )


def _ignored(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in _IGNORED)


def watch_roots(sd: SnapshotDir | None) -> list[str]:
    """Folders whose contents are compared: the usual places plus the snapshot's own paths."""
    roots = set(WATCH_ROOTS)
    if sd is not None:
        roots.add(sd.snapshot.workdir)
        for f in sd.snapshot.files:
            if not any(f.path.startswith(r + "/") for r in WATCH_ROOTS):
                roots.add(str(Path(f.path).parent))
        for db in sd.snapshot.databases:
            roots.add(str(Path(db.path).parent))
    # drop roots inside other roots
    ordered = sorted(roots)
    return [r for r in ordered if not any(r.startswith(o + "/") for o in ordered if o != r)]


def pod_image(pod: Pod) -> str:
    """The tag (or id) of the image the pod's workspace runs."""
    image = pod.workspace.image
    return str(image.tags[0] if image.tags else image.id)


def _cache_path(image: str, roots: list[str]) -> Path:
    digest = hashlib.sha256(json.dumps(roots).encode()).hexdigest()[:12]
    key = image.replace("/", "_").replace(":", "-") + "-" + digest
    folder = cache_dir("manifests")
    folder.chmod(0o700)
    return folder / f"{_CACHE_VERSION}-{key}.json"


def _load_cached(path: Path) -> Manifest | None:
    try:
        return Manifest.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValidationError):
        return None  # a torn or foreign file: computed again and replaced


def _store(path: Path, manifest: Manifest) -> None:
    """Write the cache file atomically, readable by its owner only."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(manifest.without_content().model_dump_json().encode())
    os.replace(tmp, path)


async def baseline_manifest(pod: Pod, image: str, roots: list[str]) -> Manifest:
    """The manifest of a fresh pod of ``image``, cached on the host per (image, roots).

    The cache holds hashes, never file content (a snapshot's files may be secrets), in a
    file only its owner reads. Must first be called before the pod has run anything
    (Pod.start does).
    """
    path = _cache_path(image, roots)
    cached = _load_cached(path)
    if cached is not None:
        return cached
    options = {**CaptureLimits().manifest_options(), "text_limit": 0, "skip": list(_IGNORED)}
    found = await pod.manifest(roots, options)
    manifest = found.model_copy(update={"files": _watched(found.files)})
    _store(path, manifest)
    return manifest


def _watched(files: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {p: e for p, e in files.items() if not _ignored(p)}


def _text(entry: dict[str, Any] | None) -> tuple[str | None, bool]:
    if not entry:
        return None, False
    if "content" not in entry:
        return None, bool(entry.get("binary"))
    raw = base64.b64decode(entry["content"])
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return None, True


def _change(before: Manifest, after: Manifest, path: str) -> Change | None:
    b, a = before.files.get(path), after.files.get(path)
    if b is not None and a is not None:
        return None if same_entry(b, a) else "modified"
    if b is not None:
        return "deleted" if after.covers(path) else None  # not walked: unknown, not gone
    return "added" if before.covers(path) else None


def _note(entry: dict[str, Any] | None, limits: CaptureLimits) -> str | None:
    if not entry or entry.get("type") != "file":
        return None
    if "unreadable" in entry:
        return f"unreadable: {entry['unreadable']}"
    if "sha256_head" in entry:
        return (
            f"over the hash cap: compared by size, modification time and the first "
            f"{entry.get('hashed', 0)} bytes"
        )
    if entry.get("content_omitted"):
        return "content not kept: the capture's content budget was spent"
    if int(entry.get("size") or 0) > limits.text_limit:
        return f"content not kept: over {limits.text_limit} bytes"
    return None


def diff_manifests(
    before: Manifest, after: Manifest, limits: CaptureLimits | None = None
) -> list[FileChange]:
    """Added, modified and deleted paths between two manifests.

    A path the other walk did not reach (it stopped at a cap) is not reported: the
    manifests' notes say what was not compared.
    """
    limits = limits or CaptureLimits()
    changes: list[FileChange] = []
    for path in sorted(set(before.files) | set(after.files)):
        if _ignored(path):
            continue
        change = _change(before, after, path)
        if change is None:
            continue
        b, a = before.files.get(path), after.files.get(path)
        before_text, b_bin = _text(b)
        after_text, a_bin = _text(a)
        last = a if change != "deleted" else b
        changes.append(
            FileChange(
                path=path,
                change=change,
                kind=(a or b or {}).get("type", "other"),
                mode_before=oct(b["mode"]) if b else None,
                mode_after=oct(a["mode"]) if a else None,
                before=before_text if change != "added" else None,
                after=after_text if change != "deleted" else None,
                binary=b_bin or a_bin,
                size=(last or {}).get("size"),
                note=_note(last, limits),
            )
        )
    return changes


def _key(table: Table, row: dict[str, Any]) -> str:
    return json.dumps([row.get(k) for k in table.primary_key], default=str)


def _changed_columns(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(c for c in set(before) | set(after) if before.get(c) != after.get(c))


def diff_rows(
    database: str, table: Table, before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> list[RowChange]:
    """Row changes of one table, by primary key."""
    old = {_key(table, r): r for r in before}
    new = {_key(table, r): r for r in after}
    out: list[RowChange] = []
    for k in sorted(set(old) | set(new)):
        b, a = old.get(k), new.get(k)
        if b is not None and a is not None and not _changed_columns(b, a):
            continue  # a column absent on one side reads as NULL on the other
        row = a or b or {}
        key = {c: row.get(c) for c in table.primary_key}
        if b is None:
            out.append(
                RowChange(database=database, table=table.name, key=key, change="added", after=a)
            )
        elif a is None:
            out.append(
                RowChange(database=database, table=table.name, key=key, change="deleted", before=b)
            )
        else:
            cols = _changed_columns(b, a)
            out.append(
                RowChange(
                    database=database,
                    table=table.name,
                    key=key,
                    change="modified",
                    before=b,
                    after=a,
                    columns=cols,
                )
            )
    return out


async def _file_changes(
    pod: Pod, roots: list[str], limits: CaptureLimits
) -> tuple[list[FileChange], list[CaptureNote]]:
    baseline = pod.baseline
    if baseline is None:
        baseline = await baseline_manifest(pod, pod_image(pod), roots)
    known = {p: e["sha256"] for p, e in baseline.files.items() if "sha256" in e}
    options = {**limits.manifest_options(), "known": known, "skip": list(_IGNORED)}
    now = await pod.manifest(roots, options)
    now = now.model_copy(update={"files": _watched(now.files)})
    changes = diff_manifests(baseline, now, limits)
    changes = await with_old_text(pod, pod_image(pod), baseline, changes, limits)
    return changes, [*baseline.all_notes(), *now.all_notes()]


def _log_notes(dump: dict[str, Any]) -> list[CaptureNote]:
    dropped = int(dump.get("log_dropped") or 0)
    if not dropped:
        return []
    kept = len(dump.get("log") or [])
    return [
        CaptureNote(
            kind="services_log",
            size=kept + dropped,
            limit=kept,
            detail=f"the services kept {kept} log entries in memory; {dropped} later ones dropped",
        )
    ]


async def capture_state(pod: Pod, limits: CaptureLimits | None = None) -> PodState:
    """Compare the pod with its starting state, within ``limits``."""
    limits = limits or CaptureLimits()
    sd = pod.snapshot
    files, notes = await _file_changes(pod, watch_roots(sd), limits)
    rows: list[RowChange] = []
    new_tables: list[str] = []
    if sd is not None:
        with tempfile.TemporaryDirectory(prefix="deploysim-state-") as tmp:
            dbs = await database_changes(pod, sd, Path(tmp), limits)
        rows, new_tables, notes = dbs.rows, dbs.new_tables, [*notes, *dbs.notes]
    log: list[dict[str, Any]] = []
    tables: dict[str, Any] = {}
    if pod.services is not None:
        dump = await pod.admin("GET", "/__deploysim/state")
        log, tables = dump.get("log", []), dump.get("databases", {})
        notes += _log_notes(dump)
    return PodState(
        files=files,
        rows=rows,
        new_tables=new_tables,
        services_log=log,
        services_tables=tables,
        capture_notes=notes,
    )
