"""Archives are untrusted: a manifest is required and checked, and unpacking is bounded.

Issue 11, findings 2 (an archive without a manifest is refused unless trusted; the manifest
lists every member with size and hash) and 13 (a 2 MB archive unpacked to 2.1 GB: the
uncompressed size, the member count and the compression ratio are capped while streaming).
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import time
import zlib
from pathlib import Path

import pytest

from deploysim.errors import SnapshotError
from deploysim.snapshots import UnpackLimits, pack_snapshot, parse_size, unpack_snapshot

_ZEROS_MEMBER = 64 << 20


def _tar_bytes(members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            info.size = len(data) if info.isfile() else 0
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return buf.getvalue()


def _file(name: str) -> tarfile.TarInfo:
    return tarfile.TarInfo(name)


def _bomb(path: Path, size: int) -> Path:
    """A gzip whose tar holds one file of ``size`` zero bytes, written in ~size/1000 bytes.

    gzip members concatenate, so one compressed block of 64 MiB of zeros is repeated: the
    archive is built in a fraction of a second and inflates to ``size``.
    """
    head = tarfile.TarInfo("bomb/big.bin")
    head.size = size
    block = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = block.compress(bytes(_ZEROS_MEMBER)) + block.flush()
    with path.open("wb") as fh:
        fh.write(gzip.compress(head.tobuf(tarfile.PAX_FORMAT)))
        for _ in range(size // _ZEROS_MEMBER):
            fh.write(zeros)
    return path


def _gz(path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    path.write_bytes(gzip.compress(_tar_bytes(members)))
    return path


def test_an_archive_without_a_manifest_is_refused_unless_trusted(
    mini: Path, tmp_path: Path
) -> None:
    """A plain tar.gz of a valid snapshot folder is refused; with trust it unpacks (and is
    still loaded with every check)."""
    members = []
    for p in sorted(mini.rglob("*")):
        info = tarfile.TarInfo(f"mini/{p.relative_to(mini).as_posix()}")
        if p.is_dir():
            info.type = tarfile.DIRTYPE
        members.append((info, p.read_bytes() if p.is_file() else b""))
    archive = _gz(tmp_path / "plain.tar.gz", members)
    with pytest.raises(SnapshotError, match=r"no manifest.*--trust"):
        unpack_snapshot(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert unpack_snapshot(archive, tmp_path / "out", trust=True).name == "mini"


def test_a_format_1_manifest_lists_no_members_and_needs_trust(tmp_path: Path) -> None:
    """The old manifest (name and hash only) proves nothing about the members: refused."""
    manifest = json.dumps({"format": 1, "name": "x", "hash": "0" * 64}).encode()
    archive = _gz(
        tmp_path / "old.tar.gz",
        [(_file("deploysim-pack.json"), manifest), (_file("x/snapshot.yaml"), b"name: x\n")],
    )
    with pytest.raises(SnapshotError, match="lists no members"):
        unpack_snapshot(archive, tmp_path / "out")


def test_the_manifest_lists_every_member_with_size_and_hash(mini: Path, tmp_path: Path) -> None:
    """pack writes a manifest entry for every member; a member it does not list, or one of
    another size than listed, is refused before its data is read."""
    packed = pack_snapshot(mini, tmp_path / "a.tar.gz")
    with tarfile.open(packed.path) as tar:
        names = [m.name for m in tar.getmembers()]
        manifest = json.loads(tar.extractfile(names[0]).read())  # type: ignore[union-attr]
        members = [(m, tar.extractfile(m).read() if m.isfile() else b"") for m in tar]  # type: ignore[union-attr]
    assert names[0] == "deploysim-pack.json"
    listed = {m["name"]: m for m in manifest["members"]}
    assert set(listed) == set(names[1:])
    assert all(
        len(m["sha256"]) == 64 and m["size"] >= 0 for m in listed.values() if m["type"] == "file"
    )
    extra = _gz(tmp_path / "extra.tar.gz", [*members, (_file("mini/files/extra"), b"x")])
    with pytest.raises(SnapshotError, match="not listed"):
        unpack_snapshot(extra, tmp_path / "o1")
    grown = [(i, d + b"!" if i.name.endswith("logo.bin") else d) for i, d in members]
    with pytest.raises(SnapshotError, match="claims"):
        unpack_snapshot(_gz(tmp_path / "grown.tar.gz", grown), tmp_path / "o2")
    missing = [(i, d) for i, d in members if not i.name.endswith("logo.bin")]
    with pytest.raises(SnapshotError, match="missing"):
        unpack_snapshot(_gz(tmp_path / "missing.tar.gz", missing), tmp_path / "o3")
    assert not any((tmp_path / o).exists() for o in ("o1", "o2", "o3"))


def test_a_compression_bomb_stops_early_on_the_ratio(tmp_path: Path) -> None:
    """A ~2 MB archive that inflates to 2 GiB (the repro) is refused by the default caps after
    inflating little (the ratio cap, past its floor), quickly, and leaves nothing behind."""
    bomb = _bomb(tmp_path / "bomb.tar.gz", 2 << 30)
    assert bomb.stat().st_size < 3 << 20
    start = time.monotonic()
    with pytest.raises(SnapshotError, match=r"inflates .* above the cap.*--max-ratio"):
        unpack_snapshot(bomb, tmp_path / "out", trust=True)
    assert time.monotonic() - start < 10
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bomb.tar.gz"]  # no temporary left


def test_the_size_cap_counts_inflated_bytes_and_can_be_raised(tmp_path: Path) -> None:
    """With the ratio allowed, the total size cap stops the same kind of archive; the error
    names --max-size; a raised cap lets a legitimately large archive through."""
    bomb = _bomb(tmp_path / "bomb.tar.gz", 128 << 20)
    lim = UnpackLimits(max_size=64 << 20, max_ratio=1e9)
    with pytest.raises(SnapshotError, match=r"more than 64.0 MiB.*--max-size"):
        unpack_snapshot(bomb, tmp_path / "out", trust=True, limits=lim)
    assert parse_size("64M") == 64 << 20 and parse_size("4G") == 4 << 30


def test_the_member_count_is_capped(tmp_path: Path) -> None:
    """An archive of many tiny members is refused past --max-members."""
    members = [(_file(f"x/f{i}"), b"") for i in range(50)]
    archive = _gz(tmp_path / "many.tar.gz", [(_file("x/snapshot.yaml"), b"name: x\n"), *members])
    with pytest.raises(SnapshotError, match=r"more than 20 members.*--max-members"):
        unpack_snapshot(archive, tmp_path / "out", trust=True, limits=UnpackLimits(max_members=20))


def test_a_huge_extended_header_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """A PAX header claiming 512 MiB is refused at its header, not read into memory."""
    pax = tarfile.TarInfo("././@PaxHeader")
    pax.type = tarfile.XHDTYPE
    pax.size = 512 << 20
    raw = pax.tobuf(tarfile.USTAR_FORMAT) + bytes(4096)
    archive = tmp_path / "pax.tar.gz"
    archive.write_bytes(gzip.compress(raw))
    with pytest.raises(SnapshotError, match="extended header"):
        unpack_snapshot(archive, tmp_path / "out", trust=True)


def test_the_cli_takes_trust_and_caps(mini: Path, tmp_path: Path) -> None:
    """`snapshot unpack` refuses without --trust (exit 1, the reason printed) and accepts
    --max-size with units."""
    from typer.testing import CliRunner

    from deploysim.cli import app

    runner = CliRunner()
    archive = _gz(tmp_path / "plain.tar.gz", [(_file("mini/snapshot.yaml"), b"name: mini\n")])
    r = runner.invoke(app, ["snapshot", "unpack", str(archive), "-o", str(tmp_path / "a")])
    assert r.exit_code != 0 and "--trust" in str(r.exception)
    r = runner.invoke(
        app,
        [
            "snapshot",
            "unpack",
            str(archive),
            "-o",
            str(tmp_path / "b"),
            "--trust",
            "--max-size",
            "8M",
        ],
    )
    assert r.exit_code == 0, r.output
    assert (tmp_path / "b" / "snapshot.yaml").exists()
