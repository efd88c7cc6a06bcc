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
import os
import re
import shutil
import tarfile
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deploysim._errors import SnapshotError
from deploysim.snapshots._bounded import BoundedGunzip, UnpackLimits, format_size
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
    "PackManifest",
    "PackResult",
    "UnpackLimits",
    "pack_snapshot",
    "unpack_snapshot",
]

MANIFEST = "deploysim-pack.json"
MANIFEST_FORMAT = 2
_MANIFEST_MAX = 64 << 20
"""A manifest larger than this is refused before it is read (100k members take ~15 MB)."""
_HEADER_MAX = 1 << 20
"""Long-name and PAX headers larger than this are refused before tarfile reads them whole."""
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


# --------------------------------------------------------------------------- unpack

_TOP = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class _CappedInfo(tarfile.TarInfo):
    """A TarInfo that refuses huge long-name and PAX headers before tarfile reads them."""

    def _proc_member(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
        headers = (
            tarfile.GNUTYPE_LONGNAME,
            tarfile.GNUTYPE_LONGLINK,
            tarfile.XHDTYPE,
            tarfile.XGLTYPE,
            tarfile.SOLARIS_XHDTYPE,
        )
        if self.type in headers and self.size > _HEADER_MAX:
            raise SnapshotError(
                str(tarfile_.name or "archive"),
                f"an extended header of {format_size(self.size)} (refused; at most "
                f"{format_size(_HEADER_MAX)})",
            )
        return super()._proc_member(tarfile_)  # type: ignore[misc, no-any-return]


class _Unpacked(NamedTuple):
    top: str
    manifest: PackManifest | None
    files: int


class _Extractor:
    """One streaming pass over the members, written under ``tmp``; every check on the way."""

    def __init__(self, src: Path, tmp: Path, trust: bool, limits: UnpackLimits) -> None:
        self.src, self.tmp, self.trust, self.limits = src, tmp, trust, limits
        self.manifest: PackManifest | None = None
        self.expected: dict[str, ManifestMember] = {}
        self.seen: set[str] = set()
        self.top: str | None = None
        self.count = 0
        self.files = 0
        self.written = 0

    def refuse(self, reason: str) -> SnapshotError:
        return SnapshotError(self.src, reason)

    def run(self, tar: tarfile.TarFile) -> _Unpacked:
        for i, m in enumerate(tar):
            self.count += 1
            if self.count > self.limits.max_members:
                raise self.refuse(
                    f"holds more than {self.limits.max_members} members (the cap); if you "
                    "trust it, raise the cap with --max-members"
                )
            self._name(m)
            if i == 0 and m.name == MANIFEST:
                self._read_manifest(tar, m)
                continue
            if i == 0:
                self._no_manifest()
            self._member(tar, m)
        return self._finish()

    def _no_manifest(self) -> None:
        if not self.trust:
            raise self.refuse(
                f"has no manifest ({MANIFEST} listing every member, first in the archive): "
                "it was not made by `deploysim snapshot pack`; pass --trust to unpack it anyway"
            )

    def _name(self, m: tarfile.TarInfo) -> None:
        p = PurePosixPath(m.name)
        if (
            not p.parts
            or m.name.startswith(("/", "\\"))
            or p.is_absolute()
            or ".." in p.parts
            or "\\" in m.name
            or "\x00" in m.name
        ):
            raise self.refuse(f"member {m.name!r} escapes the target folder (refused)")
        if not (m.isfile() or m.isdir()) or m.islnk() or m.issym():
            raise self.refuse(f"member {m.name!r} is a link or device (refused)")
        if m.type == tarfile.GNUTYPE_SPARSE or m.sparse is not None:
            raise self.refuse(f"member {m.name!r} is a sparse file (refused)")

    def _read_manifest(self, tar: tarfile.TarFile, m: tarfile.TarInfo) -> None:
        if not m.isfile() or m.size > _MANIFEST_MAX:
            raise self.refuse(f"{MANIFEST} is not a file of at most {format_size(_MANIFEST_MAX)}")
        fh = tar.extractfile(m)
        raw = fh.read() if fh is not None else b""
        try:
            manifest = PackManifest.model_validate_json(raw)
        except (ValidationError, ValueError, RecursionError) as e:
            raise self.refuse(f"{MANIFEST} is not a pack manifest: {e}") from e
        if manifest.members is None:
            if not self.trust:
                raise self.refuse(
                    f"{MANIFEST} lists no members (format {manifest.format}, an older "
                    "deploysim): repack it, or pass --trust to unpack it anyway"
                )
        else:
            names = [x.name for x in manifest.members]
            if len(set(names)) != len(names):
                raise self.refuse(f"{MANIFEST} lists a member twice")
            self.expected = {x.name: x for x in manifest.members}
        self.manifest = manifest

    def _member(self, tar: tarfile.TarFile, m: tarfile.TarInfo) -> None:
        name = m.name.rstrip("/")
        if name == MANIFEST:
            raise self.refuse(f"{MANIFEST} must be the first member, once")
        if name in self.seen:
            raise self.refuse(f"member {name!r} appears twice (refused)")
        self.seen.add(name)
        top = PurePosixPath(name).parts[0]
        if self.top is None:
            if not _TOP.match(top):
                raise self.refuse(f"{top!r} is not a snapshot folder name")
            self.top = top
        elif top != self.top:
            raise self.refuse(f"expected one snapshot folder, found {self.top!r} and {top!r}")
        listed = self._listed(name, m)
        if m.isdir():
            (self.tmp / name).mkdir(parents=True, exist_ok=True)
            return
        self._write(tar, m, name, listed)

    def _listed(self, name: str, m: tarfile.TarInfo) -> ManifestMember | None:
        if self.manifest is None or self.manifest.members is None:
            return None
        listed = self.expected.get(name)
        kind = "dir" if m.isdir() else "file"
        if listed is None or listed.type != kind:
            raise self.refuse(f"member {name!r} ({kind}) is not listed in {MANIFEST} (refused)")
        if kind == "file" and m.size != listed.size:
            raise self.refuse(
                f"member {name!r} claims {m.size} bytes, the manifest lists {listed.size}"
            )
        return listed

    def _write(
        self, tar: tarfile.TarFile, m: tarfile.TarInfo, name: str, listed: ManifestMember | None
    ) -> None:
        dest = self.tmp / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        mode = 0o755 if m.mode & 0o111 else 0o644  # never setuid, whatever the header says
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        src = tar.extractfile(m)
        h = hashlib.sha256()
        with os.fdopen(os.open(dest, flags, mode), "wb") as out:
            while src is not None and (chunk := src.read(1 << 20)):
                self.written += len(chunk)
                if self.written > self.limits.max_size:
                    raise self.refuse(
                        f"unpacks to more than {format_size(self.limits.max_size)} (the cap); "
                        "if you trust it, raise the cap with --max-size"
                    )
                h.update(chunk)
                out.write(chunk)
        self.files += 1
        if listed is not None and h.hexdigest() != listed.sha256:
            raise self.refuse(f"member {name!r} does not match its SHA-256 in {MANIFEST}")

    def _finish(self) -> _Unpacked:
        if self.count == 0:
            raise self.refuse("is empty")
        if self.manifest is None:
            self._no_manifest()
        missing = sorted(set(self.expected) - self.seen)
        if missing:
            raise self.refuse(
                f"{len(missing)} members listed in {MANIFEST} are missing: {missing[:5]}"
            )
        if self.top is None or not (self.tmp / self.top / SNAPSHOT_FILE).is_file():
            raise self.refuse(f"{self.top or '<name>'}/{SNAPSHOT_FILE} is missing")
        return _Unpacked(self.top, self.manifest, self.files)


def unpack_snapshot(
    archive: str | Path,
    out: str | Path | None = None,
    *,
    trust: bool = False,
    limits: UnpackLimits | None = None,
) -> PackResult:
    """Extract an archive made by :func:`pack_snapshot` into ``out`` (default ``./<name>``).

    Args:
        archive: the ``.tar.gz``.
        out: the folder to create; it must not exist.
        trust: unpack an archive without a manifest (or with a format 1 one, which lists no
            members). Every other check still applies.
        limits: caps on the uncompressed size, the member count and the compression ratio.

    Raises:
        SnapshotError: the archive is unreadable, unsafe, over a cap, has no manifest (and
            ``trust`` is off) or does not match it, the snapshot inside does not load, the
            target exists, or the content hash differs from the one recorded when packing.
    """
    src = Path(archive)
    lim = limits or UnpackLimits()
    try:
        with src.open("rb") as fh:
            return _unpack(src, fh, out, trust, lim)
    except OSError as e:
        raise SnapshotError(src, f"cannot read the archive: {e.strerror or e}") from e


def _unpack(
    src: Path, fh: BinaryIO, out: str | Path | None, trust: bool, lim: UnpackLimits
) -> PackResult:
    if out is not None and Path(out).exists():
        raise SnapshotError(out, "already exists; unpack into a new folder")
    stage = Path(out).parent if out is not None else Path.cwd()
    stage.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=stage))
    try:
        stream = io.BufferedReader(BoundedGunzip(fh, str(src), lim), 1 << 16)
        try:
            with tarfile.open(fileobj=stream, mode="r|", tarinfo=_CappedInfo) as tar:
                got = _Extractor(src, tmp, trust, lim).run(tar)
        except (EOFError, tarfile.TarError) as e:
            raise SnapshotError(src, f"cannot read the archive: {e}") from e
        target = Path(out) if out is not None else Path(got.top)
        if target.exists():
            raise SnapshotError(target, "already exists; unpack into a new folder")
        sd = load_snapshot(tmp / got.top)
        if sd.snapshot.extends is not None:
            raise SnapshotError(src, "the snapshot inside extends another; archives stand alone")
        digest = content_hash(sd)
        if got.manifest is not None and digest != got.manifest.hash:
            raise SnapshotError(
                src, f"content hash {digest[:12]} differs from the packed {got.manifest.hash[:12]}"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        (tmp / got.top).rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return PackResult(target, sd.snapshot.name, digest, got.files)
