"""Pack a snapshot into one deterministic ``.tar.gz``, and unpack it safely.

Layout of an archive::

    deploysim-pack.json        the manifest, always the first member:
                               {"format": 2, "name", "hash", "members": [{"name", "type",
                                "size", "sha256"}, ...]}  (every other member, listed)
    <name>/snapshot.yaml       the snapshot folder, files sorted
    <name>/files/...

Members are sorted, owned by uid 0 with empty names, dated :data:`PACK_MTIME`, and gzip
writes no timestamp or file name, so packing the same snapshot twice gives identical bytes.
A snapshot that ``extends`` another is flattened first (the archive must stand alone):
snapshot.yaml holds the merged model and only referenced content is packed.

An archive is untrusted input. Unpacking streams it once, member by member, within
:class:`~deploysim.snapshots.UnpackLimits` (uncompressed total, member count, compression
ratio, all counted on the inflated bytes, not on header sizes). It refuses links, devices,
sparse members, absolute paths and ``..`` (tar-slip); without a manifest it refuses the
archive unless trusted. With one, every member must be listed with its size (checked
before its data is read) and SHA-256 (checked after), and every listed member must be
there. The manifest is integrity, not authenticity (whoever made the archive wrote it), so
the unpacked folder is then loaded with every snapshot check (system paths, paths leading
out, root agent) and its content hash compared with the manifest's before it is renamed
into place.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from deploysim._errors import SnapshotError
from deploysim.snapshots._model import Snapshot
from deploysim.snapshots._store import (
    SNAPSHOT_FILE,
    SnapshotDir,
    content_hash,
    load_snapshot,
    save_snapshot,
)

__all__ = [
    "MANIFEST",
    "PACK_MTIME",
    "ManifestMember",
    "PackManifest",
    "PackResult",
    "pack_snapshot",
]

MANIFEST = "deploysim-pack.json"
MANIFEST_FORMAT = 2

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


class ManifestMember(BaseModel):
    """One member of an archive, as the manifest lists it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    type: Literal["file", "dir"]
    size: int = Field(default=0, ge=0)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class PackManifest(BaseModel):
    """``deploysim-pack.json``: what the archive holds, member by member."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: int
    name: str
    hash: str = Field(description="Content hash of the snapshot (see content_hash).")
    members: list[ManifestMember] | None = Field(
        default=None, description="Every other member; absent in format 1 archives."
    )


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
                for rel, data in sd.module_files(s.name, ft.handler.module).items():
                    members.setdefault(f"services/{rel}", data)
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


def _manifest_bytes(name: str, digest: str, files: dict[str, bytes], dirs: set[str]) -> bytes:
    listed = [ManifestMember(name=name, type="dir")]
    listed += [ManifestMember(name=f"{name}/{d}", type="dir") for d in dirs]
    listed += [
        ManifestMember(
            name=f"{name}/{rel}",
            type="file",
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )
        for rel, data in files.items()
    ]
    m = PackManifest(
        format=MANIFEST_FORMAT,
        name=name,
        hash=digest,
        members=sorted(listed, key=lambda x: x.name),
    )
    return json.dumps(m.model_dump(mode="json", exclude_none=True), sort_keys=True).encode()


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
    files = members.files
    dirs = {str(p) for k in files for p in PurePosixPath(k).parents} - {"."}
    manifest = _manifest_bytes(name, digest, files, dirs)
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
