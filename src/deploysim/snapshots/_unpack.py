"""Unpack an archive made by ``snapshot pack``: untrusted input, one bounded streaming pass.

See :mod:`deploysim.snapshots._pack` for the layout and what unpacking checks.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import tarfile
import tempfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO, NamedTuple

from pydantic import ValidationError

from deploysim._errors import SnapshotError
from deploysim.snapshots._bounded import BoundedGunzip, UnpackLimits, format_size
from deploysim.snapshots._pack import MANIFEST, ManifestMember, PackManifest, PackResult
from deploysim.snapshots._store import SNAPSHOT_FILE, content_hash, load_snapshot

__all__ = ["unpack_snapshot"]

_MANIFEST_MAX = 64 << 20
"""A manifest larger than this is refused before it is read (100k members take ~15 MB)."""
_HEADER_MAX = 1 << 20
"""Long-name and PAX headers larger than this are refused before tarfile reads them whole."""

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
