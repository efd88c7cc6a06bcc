"""Hostile trace files, made in a test's tmp_path in well under a second each.

A 1 GiB zip member is not inflated through zipfile (seconds of deflate): one 1 MiB block is
compressed once after a full flush, which makes it independent of what came before, and its
bytes are repeated. The result is an ordinary deflate stream, with a correct CRC.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GOOD = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hi!"}]}
"""A record every importer run agrees is one openai-chat trace."""

MiB = 1 << 20


def deep_array(levels: int) -> str:
    """JSON text of ``levels`` nested arrays."""
    return "[" * levels + "]" * levels


def jsonl(path: Path, lines: list[str]) -> Path:
    """Write JSONL lines (already JSON text) to ``path``."""
    path.write_text("\n".join(lines) + "\n")
    return path


def call_record(arguments: str) -> dict[str, Any]:
    """An openai-chat record whose one tool call has the given raw arguments string."""
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": arguments}}
    return {
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "c1", "content": "ok"},
        ]
    }


@dataclass(frozen=True)
class Member:
    """A zip member: ``head`` + ``block`` * ``repeats`` + ``tail``."""

    name: str
    head: bytes
    block: bytes = b""
    repeats: int = 0
    tail: bytes = b""

    @property
    def size(self) -> int:
        """Its real uncompressed size."""
        return len(self.head) + len(self.block) * self.repeats + len(self.tail)


def padded_sample(name: str, size: int) -> Member:
    """A JSON member of about ``size`` bytes: an object with one long string of ``a``."""
    head, tail = b'{"id": 1, "epoch": 1, "pad": "', b'"}'
    block = b"a" * MiB
    return Member(name, head, block, max(0, -(-(size - len(head) - len(tail)) // MiB)), tail)


def _deflate(m: Member) -> tuple[bytes, int]:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    parts = [c.compress(m.head), c.flush(zlib.Z_FULL_FLUSH)]
    crc = zlib.crc32(m.head)
    if m.repeats:
        block = c.compress(m.block) + c.flush(zlib.Z_FULL_FLUSH)
        parts.append(block * m.repeats)
        for _ in range(m.repeats):
            crc = zlib.crc32(m.block, crc)
    parts += [c.compress(m.tail), c.flush()]
    return b"".join(parts), zlib.crc32(m.tail, crc)


def write_zip(
    path: Path, members: list[Member], *, claimed_size: int | None = None, flags: int = 0
) -> Path:
    """A deflated zip archive of ``members``; ``claimed_size`` makes every header lie, and
    ``flags`` sets the general-purpose bits (1: encrypted)."""
    local, central = bytearray(), bytearray()
    for m in members:
        data, crc = _deflate(m)
        size = m.size if claimed_size is None else claimed_size
        name = m.name.encode()
        offset = len(local)
        local += struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, flags, 8, 0, 0x21, crc, len(data), size, len(name), 0
        )
        local += name + data
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            flags,
            8,
            0,
            0x21,
            crc,
            len(data),
            size,
            len(name),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += name
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(local), 0
    )
    path.write_bytes(bytes(local + central + end))
    return path


def inspect_members(shared_eval: Path) -> list[Member]:
    """The members of a real inspect ``.eval`` log, to build hostile ones around."""
    import zipfile

    with zipfile.ZipFile(shared_eval) as zf:
        return [Member(i.filename, zf.read(i)) for i in zf.infolist()]


def dumps(value: Any) -> str:
    """Compact JSON."""
    return json.dumps(value, separators=(",", ":"))
