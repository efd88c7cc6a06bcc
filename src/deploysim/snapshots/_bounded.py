"""Read a gzip stream with caps on what it inflates to, counted while streaming.

A 2 MB archive can hold gigabytes of zeros. The caps count the bytes actually produced by
inflating (never the sizes an archive's headers claim): the total, and the ratio of
produced to consumed bytes once enough was produced for the ratio to mean something.

::

    with open("shop.tar.gz", "rb") as fh:
        stream = BoundedGunzip(fh, "shop.tar.gz", UnpackLimits(max_size=4 << 30))
        tar = tarfile.open(fileobj=stream, mode="r|")
"""

from __future__ import annotations

import io
import zlib
from typing import BinaryIO

from pydantic import BaseModel, ConfigDict, Field

from deploysim._errors import SnapshotError
from deploysim._sizes import format_size, parse_size

__all__ = ["BoundedGunzip", "UnpackLimits", "format_size", "parse_size"]

_IN_CHUNK = 64 * 1024
_OUT_CHUNK = 1024 * 1024


class UnpackLimits(BaseModel):
    """Caps on what unpacking an archive may produce (``--max-size`` and friends)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_size: int = Field(default=1 << 30, gt=0, description="Uncompressed bytes, in all.")
    max_members: int = Field(default=100_000, gt=0, description="Members of the archive.")
    max_ratio: float = Field(
        default=200.0, gt=0, description="Uncompressed / compressed bytes, at most."
    )
    ratio_floor: int = Field(
        default=16 << 20,
        ge=0,
        description="The ratio is checked once this many bytes were produced (small archives "
        "of empty lines compress far better and are harmless).",
    )


class BoundedGunzip(io.RawIOBase):
    """The inflated bytes of a gzip file (one or more members), within :class:`UnpackLimits`."""

    def __init__(self, fh: BinaryIO, name: str, limits: UnpackLimits) -> None:
        super().__init__()
        self._fh, self._name, self._limits = fh, name, limits
        self._z = zlib.decompressobj(wbits=31)
        self._pending = b""
        self._done = False
        self.consumed = 0
        """Compressed bytes read so far."""
        self.produced = 0
        """Uncompressed bytes produced so far."""

    def readable(self) -> bool:
        """Always: this is a reader."""
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        """Fill ``buffer`` with inflated bytes; 0 at the end of the stream."""
        while not self._pending and not self._done:
            self._step()
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def _read_in(self) -> bytes:
        chunk = self._fh.read(_IN_CHUNK)
        self.consumed += len(chunk)
        return chunk

    def _step(self) -> None:
        try:
            if self._z.eof:
                rest = self._z.unused_data or self._read_in()
                if not rest:
                    self._done = True
                    return
                self._z = zlib.decompressobj(wbits=31)  # the next gzip member
                data = self._z.decompress(rest, _OUT_CHUNK)
            elif self._z.unconsumed_tail:
                data = self._z.decompress(self._z.unconsumed_tail, _OUT_CHUNK)
            else:
                chunk = self._read_in()
                if not chunk:
                    raise SnapshotError(self._name, "the archive is truncated (gzip ends early)")
                data = self._z.decompress(chunk, _OUT_CHUNK)
        except zlib.error as e:
            raise SnapshotError(self._name, f"not a gzip archive or corrupt: {e}") from e
        self._count(len(data))
        self._pending = data

    def _count(self, n: int) -> None:
        self.produced += n
        lim = self._limits
        if self.produced > lim.max_size:
            raise SnapshotError(
                self._name,
                f"unpacks to more than {format_size(lim.max_size)} (the cap; stopped after "
                f"{format_size(self.consumed)} of the archive); if you trust it, raise the "
                "cap with --max-size",
            )
        ratio = self.produced / max(self.consumed, 1)
        if self.produced > lim.ratio_floor and ratio > lim.max_ratio:
            raise SnapshotError(
                self._name,
                f"inflates {ratio:.0f}:1, above the cap of {lim.max_ratio:.0f}:1 (a compression "
                "bomb?); if you trust it, raise the cap with --max-ratio",
            )
