"""What changed in a pod: files, database rows, and what the services saw.

The file baseline is the manifest of a fresh pod of the same image, computed once per image
and cached on the host (a fresh pod of an image always looks the same). Database rows are
read from the SQLite files in the pod and compared with the snapshot by primary key. The
services' request log and live tables come from the sidecar's admin API.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from deploysim.sandbox._paths import cache_dir
from deploysim.snapshots import Database, SnapshotDir, Table, decode_row, quote_identifier

if TYPE_CHECKING:
    from deploysim.sandbox._pod import Pod

__all__ = [
    "WATCH_ROOTS",
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
_TEXT_LIMIT = 256 * 1024

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


async def baseline_manifest(pod: Pod, image: str, roots: list[str]) -> dict[str, Any]:
    """The manifest of a fresh pod of ``image``, cached on the host per (image, roots).

    Must first be called before the pod has run anything (Pod.start does).
    """
    digest = hashlib.sha256(json.dumps(roots).encode()).hexdigest()[:12]
    key = image.replace("/", "_").replace(":", "-") + "-" + digest
    path = cache_dir("manifests") / f"{key}.json"
    if path.exists():
        cached: dict[str, Any] = json.loads(path.read_text())
        return cached
    files = await pod.manifest(roots)
    path.write_text(json.dumps(files))
    return files


def _text(entry: dict[str, Any] | None) -> tuple[str | None, bool]:
    if not entry or "content" not in entry:
        return None, False
    raw = base64.b64decode(entry["content"])
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return None, True


def diff_manifests(before: dict[str, Any], after: dict[str, Any]) -> list[FileChange]:
    """Added, modified and deleted paths between two manifests."""
    changes: list[FileChange] = []
    for path in sorted(set(before) | set(after)):
        if _ignored(path):
            continue
        b, a = before.get(path), after.get(path)
        if b == a:
            continue
        if b is not None and a is not None:
            same_content = b.get("sha256") == a.get("sha256") and b.get("target") == a.get("target")
            if same_content and b.get("mode") == a.get("mode") and b.get("type") == a.get("type"):
                continue  # e.g. an unreadable marker that did not change anything
            if b.get("type") == a.get("type") == "dir" and b.get("mode") == a.get("mode"):
                continue  # a folder's listing changed: its entries are reported themselves
        change: Change = "added" if b is None else "deleted" if a is None else "modified"
        before_text, b_bin = _text(b)
        after_text, a_bin = _text(a)
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


def _read_db(path: Path, db: Database) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows: dict[str, list[dict[str, Any]]] = {}
        for table in db.tables:
            if table.name in names:
                cur = conn.execute(f"SELECT * FROM {quote_identifier(table.name)}")
                rows[table.name] = [decode_row(table, dict(r)) for r in cur.fetchall()]
            else:
                rows[table.name] = []
        known = {t.name for t in db.tables}
        return rows, [
            f"{db.name}.{n}" for n in names if n not in known and not n.startswith("sqlite_")
        ]
    finally:
        conn.close()


async def _database_changes(pod: Pod, sd: SnapshotDir) -> tuple[list[RowChange], list[str]]:
    changes: list[RowChange] = []
    new_tables: list[str] = []
    with tempfile.TemporaryDirectory(prefix="deploysim-state-") as tmp:
        for db in sd.snapshot.databases:
            local = Path(tmp) / f"{db.name}.db"
            try:
                local.write_bytes(await pod.read_file(db.path, user="root"))
                for suffix in ("-wal", "-shm"):
                    try:
                        data = await pod.read_file(db.path + suffix, user="root")
                        Path(str(local) + suffix).write_bytes(data)
                    except FileNotFoundError:
                        pass
            except FileNotFoundError:
                for table in db.tables:
                    changes += diff_rows(db.name, table, sd.table_rows(db, table), [])
                continue
            rows, extra = _read_db(local, db)
            new_tables += extra
            for table in db.tables:
                changes += diff_rows(db.name, table, sd.table_rows(db, table), rows[table.name])
    return changes, new_tables


async def capture_state(pod: Pod) -> PodState:
    """Compare the pod with its starting state."""
    sd = pod.snapshot
    roots = watch_roots(sd)
    image = pod.workspace.image.tags[0] if pod.workspace.image.tags else pod.workspace.image.id
    baseline = (
        pod.baseline if pod.baseline is not None else await baseline_manifest(pod, image, roots)
    )
    now = await pod.manifest(roots)
    files = diff_manifests(baseline, now)
    rows: list[RowChange] = []
    new_tables: list[str] = []
    if sd is not None:
        rows, new_tables = await _database_changes(pod, sd)
    log: list[dict[str, Any]] = []
    tables: dict[str, Any] = {}
    if pod.services is not None:
        dump = await pod.admin("GET", "/__deploysim/state")
        log, tables = dump.get("log", []), dump.get("databases", {})
    return PodState(
        files=files, rows=rows, new_tables=new_tables, services_log=log, services_tables=tables
    )
