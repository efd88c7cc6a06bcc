"""Pack a snapshot into one deterministic ``.tar.gz``, and unpack it safely.

Layout of an archive::

    deploysim-pack.json        {"format": 1, "name": ..., "hash": ...}
    <name>/snapshot.yaml       the snapshot folder, files sorted
    <name>/files/...

Members are sorted, owned by uid 0 with empty names, dated :data:`PACK_MTIME`, and gzip
writes no timestamp or file name, so packing the same snapshot twice gives identical bytes.
A snapshot that ``extends`` another is flattened first (the archive must stand alone):
snapshot.yaml holds the merged model and only referenced content is packed.
Unpacking refuses links, devices, absolute paths and ``..`` (tar-slip), extracts into a
temporary folder beside the target and checks the content hash before renaming it in place.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
import tarfile
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from deploysim._errors import SnapshotError
from deploysim.snapshots._model import Snapshot
from deploysim.snapshots._store import (
    SNAPSHOT_FILE,
    SnapshotDir,
    content_hash,
    load_snapshot,
    save_snapshot,
)

__all__ = ["MANIFEST", "PACK_MTIME", "PackResult", "pack_snapshot", "unpack_snapshot"]

MANIFEST = "deploysim-pack.json"
PACK_MTIME = 946684800
"""2000-01-01T00:00:00Z: a fixed date for every member (0 makes some tools complain)."""

_SKIP = {"__pycache__", ".DS_Store"}


class PackResult(NamedTuple):
    """What pack or unpack produced."""

    path: Path
    """The archive written (pack) or the folder created (unpack)."""
    name: str
    hash: str
    members: int


class _Members(NamedTuple):
    files: dict[str, bytes]
    """Path relative to the snapshot folder -> content."""
    executable: set[str]


def _folder_members(root: Path) -> _Members:
    """Every file of a standalone snapshot folder."""
    out = _Members({}, set())
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if any(part in _SKIP for part in rel.parts) or p.suffix == ".pyc":
            continue
        if p.is_symlink():
            raise SnapshotError(p, "is a symlink; snapshot folders hold regular files only")
        if p.is_file():
            out.files[rel.as_posix()] = p.read_bytes()
            if p.stat().st_mode & 0o111:
                out.executable.add(rel.as_posix())
    return out


def _claim(members: dict[str, bytes], folder: str, rel: str, data: bytes, layer: str) -> str:
    """Store ``data`` at ``folder/rel``; on a clash with other bytes, under the layer's name."""
    name = rel
    if members.get(f"{folder}/{name}", data) != data:
        name = f"{layer}/{rel}"
    members[f"{folder}/{name}"] = data
    return name


def _flatten(sd: SnapshotDir) -> _Members:
    """A standalone folder for a snapshot that extends others: merged YAML + used content."""
    snap = sd.snapshot
    members: dict[str, bytes] = {}

    def layer(key: str) -> str:
        return sd.origins.get(key, sd.root).name

    files = []
    for f in snap.files:
        if f.source is not None:
            src = _claim(members, "files", f.source, sd.file_bytes(f), layer(f"file:{f.path}"))
            f = f.model_copy(update={"source": src})
        files.append(f)
    repos = []
    for r in snap.repos:
        commits = []
        for c in r.commits:
            changes = []
            for ch in c.changes:
                if ch.source is not None:
                    data = sd.change_bytes(r, ch)
                    src = _claim(members, "files", ch.source, data, layer(f"repo:{r.path}"))
                    ch = ch.model_copy(update={"source": src})
                changes.append(ch)
            commits.append(c.model_copy(update={"changes": changes}))
        repos.append(r.model_copy(update={"commits": commits}))
    databases = []
    for db in snap.databases:
        tables = []
        for t in db.tables:
            if t.rows_file is not None:
                rows = sd.table_rows(db, t)
                data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
                src = _claim(
                    members, "databases", t.rows_file, data, layer(f"table:{db.name}/{t.name}")
                )
                t = t.model_copy(update={"rows_file": src})
            tables.append(t)
        databases.append(db.model_copy(update={"tables": tables}))
    for s in snap.services:
        for ft in s.function_tools:
            if ft.handler.kind == "python":
                p = sd.module_path(s.name, ft.handler.module)
                try:
                    members[f"services/{ft.handler.module}"] = p.read_bytes()
                except OSError as e:
                    raise SnapshotError(p, f"handler module cannot be read: {e}") from e
    flat = snap.model_copy(
        update={"extends": None, "files": files, "repos": repos, "databases": databases}
    )
    members[SNAPSHOT_FILE] = _yaml_bytes(flat)
    return _Members(members, set())


def _yaml_bytes(snap: Snapshot) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        return save_snapshot(snap, tmp).read_bytes()


def _info(name: str, size: int, *, directory: bool = False, executable: bool = False) -> Any:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = PACK_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    info.mode = 0o755 if directory or executable else 0o644
    return info


def pack_snapshot(path: str | Path, out: str | Path | None = None) -> PackResult:
    """Write the snapshot at ``path`` as one deterministic ``.tar.gz`` (default ``<name>.tar.gz``).

    Raises:
        SnapshotError: the snapshot cannot be loaded, holds a symlink, or content is missing.
    """
    sd = load_snapshot(path)
    name = sd.snapshot.name
    digest = content_hash(sd)
    members = _flatten(sd) if sd.snapshot.extends else _folder_members(sd.root)
    target = Path(out) if out is not None else Path(f"{name}.tar.gz")
    manifest = json.dumps({"format": 1, "name": name, "hash": digest}, sort_keys=True).encode()
    files = members.files
    dirs = {str(p) for k in files for p in PurePosixPath(k).parents} - {"."}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(_info(MANIFEST, len(manifest)), io.BytesIO(manifest))
        tar.addfile(_info(name, 0, directory=True))
        entries = [(d, None) for d in dirs] + sorted(files.items())
        for rel, data in sorted(entries, key=lambda e: e[0]):
            if data is None:
                tar.addfile(_info(f"{name}/{rel}", 0, directory=True))
            else:
                info = _info(f"{name}/{rel}", len(data), executable=rel in members.executable)
                tar.addfile(info, io.BytesIO(data))
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        target.open("wb") as fh,
        gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(buf.getvalue())
    return PackResult(target, name, digest, len(files))


# --------------------------------------------------------------------------- unpack


def _check_members(archive: Path, members: list[tarfile.TarInfo]) -> str:
    """The snapshot folder name; raises on any unsafe or unexpected member."""
    tops: set[str] = set()
    for m in members:
        p = PurePosixPath(m.name)
        if (
            m.name.startswith(("/", "\\"))
            or p.is_absolute()
            or ".." in p.parts
            or ":" in p.parts[0]
        ):
            raise SnapshotError(archive, f"member {m.name!r} escapes the target folder (refused)")
        if not (m.isfile() or m.isdir()):
            raise SnapshotError(archive, f"member {m.name!r} is a link or device (refused)")
        if m.name != MANIFEST:
            tops.add(p.parts[0])
    if len(tops) != 1:
        raise SnapshotError(archive, f"expected one snapshot folder, found {sorted(tops)}")
    top = tops.pop()
    if not any(m.name == f"{top}/{SNAPSHOT_FILE}" for m in members):
        raise SnapshotError(archive, f"{top}/{SNAPSHOT_FILE} is missing")
    return top


def unpack_snapshot(archive: str | Path, out: str | Path | None = None) -> PackResult:
    """Extract an archive made by :func:`pack_snapshot` into ``out`` (default ``./<name>``).

    Raises:
        SnapshotError: the archive is unreadable or unsafe, the target exists, or the content
            hash differs from the one recorded when packing.
    """
    src = Path(archive)
    try:
        with tarfile.open(src, mode="r:gz") as tar:
            return _extract(src, tar, out)
    except (OSError, EOFError, tarfile.TarError) as e:
        raise SnapshotError(src, f"cannot read the archive: {e}") from e


def _extract(src: Path, tar: tarfile.TarFile, out: str | Path | None) -> PackResult:
    members = tar.getmembers()
    top = _check_members(src, members)
    recorded: str | None = None
    manifest = tar.extractfile(MANIFEST) if MANIFEST in tar.getnames() else None
    if manifest is not None:
        try:
            recorded = json.loads(manifest.read())["hash"]
        except (ValueError, KeyError, TypeError) as e:
            raise SnapshotError(src, f"{MANIFEST} is not a pack manifest") from e
    target = Path(out) if out is not None else Path(top)
    if target.exists():
        raise SnapshotError(target, "already exists; unpack into a new folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
    try:
        tar.extractall(tmp, members=[m for m in members if m.name != MANIFEST], filter="data")
        sd = load_snapshot(tmp / top)
        digest = content_hash(sd)
        if recorded is not None and digest != recorded:
            raise SnapshotError(
                src, f"content hash {digest[:12]} differs from the packed {recorded[:12]}"
            )
        (tmp / top).rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    n = sum(1 for m in members if m.isfile() and m.name != MANIFEST)
    return PackResult(target, sd.snapshot.name, digest, n)
