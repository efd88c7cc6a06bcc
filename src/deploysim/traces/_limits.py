"""Byte limits on reading trace files, so a small hostile file cannot exhaust memory.

An inspect ``.eval`` log is a zip archive: 1 MB of it can inflate to 1 GiB. Sizes are measured
while inflating (the sizes a zip header claims are never trusted), per member, for the whole
archive, and as a compression ratio, so a zip bomb stops after its first megabytes. Plain
files are held to the same per-file byte limit (a sparse file can claim any size).
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import IO

from pydantic import BaseModel, ConfigDict, Field

from deploysim._errors import TraceFormatError
from deploysim._sizes import format_size, parse_size

__all__ = ["DEFAULT_LIMITS", "ImportLimits", "format_size", "parse_size", "read_bounded"]

_MiB = 1 << 20
_CHUNK = _MiB
# Below this a member may compress as well as it likes: tiny JSON files of repeated keys
# reach high ratios and can do no harm.
_RATIO_FLOOR = 4 * _MiB


class ImportLimits(BaseModel):
    """How much a trace file may hold once read and inflated.

    The defaults are far above real traces (the largest file in ``../shared/data`` is 3 MB;
    inspect compresses its logs 2 to 20 times) and far below what exhausts a laptop.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_bytes: int = Field(
        default=256 * _MiB,
        gt=0,
        description="Most bytes one file, or one member of an archive, may hold uncompressed.",
    )
    max_total_bytes: int = Field(
        default=1024 * _MiB,
        gt=0,
        description="Most bytes all members of one archive may inflate to together.",
    )
    max_ratio: float = Field(
        default=100.0,
        ge=1,
        description="Most a member (past 4 MiB inflated) or a whole archive may be inflated "
        "relative to its compressed size.",
    )

    @classmethod
    def with_overrides(
        cls, max_uncompressed: int | None = None, max_ratio: float | None = None
    ) -> ImportLimits:
        """The defaults, with ``--max-uncompressed`` raising or lowering both byte limits."""
        update: dict[str, float] = {}
        if max_uncompressed is not None:
            update |= {"max_bytes": max_uncompressed, "max_total_bytes": max_uncompressed}
        if max_ratio is not None:
            update["max_ratio"] = max_ratio
        return cls.model_validate(update)


DEFAULT_LIMITS = ImportLimits()

_OVERRIDE = "pass --max-uncompressed SIZE to allow more"


def read_bounded(path: Path, limits: ImportLimits) -> bytes:
    """The bytes of a plain file, refusing files past ``limits.max_bytes``."""
    too_big = TraceFormatError(
        path, f"file is larger than {format_size(limits.max_bytes)}; {_OVERRIDE}"
    )
    try:
        with path.open("rb") as f:
            if os.fstat(f.fileno()).st_size > limits.max_bytes:
                raise too_big
            # The size on disk can be wrong (a file still growing): the read is bounded too.
            data = f.read(limits.max_bytes + 1)
    except OSError as e:
        raise TraceFormatError(path, f"cannot read: {e.strerror or e}") from e
    if len(data) > limits.max_bytes:
        raise too_big
    return data


class ZipBudget:
    """Counts what the members of one archive inflate to, and stops a bomb early."""

    def __init__(self, path: Path, limits: ImportLimits) -> None:
        self.path = path
        self.limits = limits
        self.archive_size = max(1, path.stat().st_size)
        self.total = 0

    def _fail(self, member: str, reason: str) -> TraceFormatError:
        return TraceFormatError(self.path, f"zip member {member}: {reason}")

    def read(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytearray:
        """Inflate one member, checking every limit after each chunk."""
        # The header's compressed size may lie; the archive's own size cannot.
        compressed = max(1, min(info.compress_size, self.archive_size))
        data = bytearray()
        with zf.open(info) as f:
            while chunk := _read_chunk(f):
                data += chunk
                self.total += len(chunk)
                self._check(info.filename, len(data), compressed)
        return data

    def _check(self, member: str, size: int, compressed: int) -> None:
        lim = self.limits
        if size > lim.max_bytes:
            raise self._fail(
                member, f"inflates past {format_size(lim.max_bytes)} (per member); {_OVERRIDE}"
            )
        if self.total > lim.max_total_bytes:
            raise self._fail(
                member,
                f"the archive inflates past {format_size(lim.max_total_bytes)} in total; "
                f"{_OVERRIDE}",
            )
        if size > _RATIO_FLOOR and size / compressed > lim.max_ratio:
            raise self._fail(member, self._ratio_reason("its compressed size"))
        # Members may share compressed bytes (overlapping-entry bombs): bound the whole too.
        if self.total > _RATIO_FLOOR and self.total / self.archive_size > lim.max_ratio:
            raise self._fail(member, self._ratio_reason("the archive's size"))

    def _ratio_reason(self, of: str) -> str:
        return (
            f"inflates more than {self.limits.max_ratio:g} times {of} (a zip bomb?); "
            "pass --max-ratio N to allow more"
        )


def _read_chunk(f: IO[bytes]) -> bytes:
    return f.read(_CHUNK)
