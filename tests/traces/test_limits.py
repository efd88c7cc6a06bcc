"""Compressed and oversized trace files are bounded while read (issue 11, #13)."""

import os
import threading
import time
import tracemalloc
from pathlib import Path

import pytest

from deploysim.errors import DeploysimError, TraceFormatError
from deploysim.traces import ImportLimits, import_file, parse_size
from tests.traces.hostile import GOOD, Member, MiB, dumps, inspect_members, padded_sample, write_zip

GiB = 1 << 30


@pytest.fixture(scope="module")
def eval_members(shared_traces: Path) -> list[Member]:
    """The members of a real inspect log, to hide a hostile sample among."""
    return inspect_members(shared_traces / "inspect-ai" / "log_message_deduplication.eval")


def _measured(path: Path, limits: ImportLimits | None = None) -> tuple[str, float, int]:
    """The error an import raises, its time in seconds and its peak traced memory."""
    tracemalloc.start()
    t = time.perf_counter()
    try:
        with pytest.raises(TraceFormatError) as e:
            import_file(path, **({"limits": limits} if limits else {}))
        return str(e.value), time.perf_counter() - t, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_an_eval_with_a_1_gib_member_stops_early_with_default_limits(
    tmp_path: Path, eval_members: list[Member]
) -> None:
    """A 1 MB .eval holding a 1 GiB sample stops, under the default limits, within 2 s and
    256 MiB of memory (today: 7 s and 2 GB), naming the file and the member."""
    bomb = write_zip(
        tmp_path / "bomb.eval", [*eval_members, padded_sample("samples/9_epoch_1.json", GiB)]
    )
    assert bomb.stat().st_size < 2 * MiB
    message, seconds, peak = _measured(bomb)
    assert str(bomb) in message and "zip member samples/9_epoch_1.json" in message
    assert "inflates more than 100 times" in message and "--max-ratio" in message
    assert seconds < 2 and peak < 256 * MiB, (seconds, peak)


def test_header_sizes_are_not_trusted(tmp_path: Path, eval_members: list[Member]) -> None:
    """Members whose headers claim a tiny or a huge size are measured as they inflate: a
    lying 1 GiB member stops within the same bounds as an honest one."""
    for claimed in (100, 4 * GiB - 1):
        bomb = write_zip(
            tmp_path / f"lie-{claimed}.eval",
            [padded_sample("samples/1_epoch_1.json", GiB)],
            claimed_size=claimed,
        )
        message, seconds, peak = _measured(bomb)
        assert "samples/1_epoch_1.json" in message
        assert seconds < 2 and peak < 256 * MiB, (claimed, seconds, peak)


def _incompressible(name: str, size: int) -> Member:
    return Member(name, b'{"pad": "' + os.urandom(size // 2).hex().encode() + b'"}')


def test_member_and_total_caps_name_the_member(tmp_path: Path) -> None:
    """Past the per-member cap, or the archive's total cap, the error names the member and
    the --max-uncompressed flag, even when the data barely compresses."""
    one = write_zip(tmp_path / "one.eval", [_incompressible("samples/1.json", 3 * MiB)])
    with pytest.raises(
        TraceFormatError,
        match=r"zip member samples/1\.json: inflates past 1\.0 MiB \(per member\); "
        r"pass --max-uncompressed",
    ):
        import_file(one, limits=ImportLimits(max_bytes=MiB))
    three = write_zip(
        tmp_path / "three.eval", [_incompressible(f"samples/{i}.json", 700 << 10) for i in range(3)]
    )
    with pytest.raises(
        TraceFormatError,
        match=r"zip member samples/2\.json: the archive inflates past 1\.5 MiB in total",
    ):
        import_file(three, limits=ImportLimits(max_bytes=MiB, max_total_bytes=3 * MiB // 2))


def test_many_small_members_are_bounded_by_the_archive_ratio(tmp_path: Path) -> None:
    """Members each too small for the per-member ratio check (under 4 MiB) still add up
    against the archive's own size: twenty 1 MiB members in 30 KB stop at the fifth or so."""
    members = [padded_sample(f"samples/{i}.json", MiB) for i in range(20)]
    archive = write_zip(tmp_path / "many.eval", members)
    assert archive.stat().st_size < 64 << 10
    with pytest.raises(TraceFormatError, match="inflates more than 100 times the archive's size"):
        import_file(archive)


def test_raising_the_limits_lets_a_big_member_through(
    tmp_path: Path, eval_members: list[Member]
) -> None:
    """--max-ratio (ImportLimits.max_ratio) is the override: the same highly compressible
    8 MiB sample that fails by default imports when allowed."""
    archive = write_zip(
        tmp_path / "big.eval", [*eval_members, padded_sample("samples/2_epoch_1.json", 8 * MiB)]
    )
    with pytest.raises(TraceFormatError, match="inflates more than"):
        import_file(archive)
    result = import_file(archive, limits=ImportLimits.with_overrides(max_ratio=10_000))
    assert len(result.traces) == 2


def test_a_sparse_1_gib_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """A plain file past the per-file cap (a sparse 1 GiB file) is refused naming the file
    and the flag, without reading it into memory."""
    p = tmp_path / "huge.jsonl"
    p.write_text(dumps(GOOD) + "\n")
    os.truncate(p, GiB)
    message, seconds, peak = _measured(p)
    assert str(p) in message and "larger than 256.0 MiB" in message
    assert "--max-uncompressed" in message
    assert seconds < 1 and peak < 16 * MiB, (seconds, peak)


def test_a_fifo_named_as_input_is_refused_not_waited_on(tmp_path: Path) -> None:
    """A FIFO (or device) given as a trace file is refused at once; reading it would block."""
    fifo = tmp_path / "trap.jsonl"
    os.mkfifo(fifo)
    outcome: list[DeploysimError | None] = []

    def run() -> None:
        try:
            import_file(fifo)
            outcome.append(None)
        except DeploysimError as e:  # handed to the test thread below
            outcome.append(e)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=5)
    if worker.is_alive():  # release the blocked reader, then fail
        with open(fifo, "w"):
            pass
        worker.join(timeout=5)
        pytest.fail("import_file blocked on a FIFO")
    assert isinstance(outcome[0], TraceFormatError)
    assert "not a regular file" in str(outcome[0])


def test_parse_size_reads_the_documented_forms() -> None:
    """--max-uncompressed takes bytes, decimal units (MB, GB) and binary units (MiB, GiB)."""
    assert parse_size("1048576") == MiB
    assert parse_size("512MiB") == 512 * MiB and parse_size("2GiB") == 2 * GiB
    # one rule with pod limits and snapshot unpacking: units are binary, as in Docker
    assert parse_size("2GB") == 2 * GiB and parse_size("1.5g") == GiB + GiB // 2
    with pytest.raises(ValueError, match="not a size"):
        parse_size("lots")


def test_attachment_references_cannot_multiply_a_sample(
    tmp_path: Path, eval_members: list[Member]
) -> None:
    """A sample that references one 1 MiB attachment 300 times would resolve to 300 MiB:
    resolving stops at the per-file limit naming sample.attachments; within the limit the
    references resolve as before."""
    refs = " ".join(["attachment://0123abcd"] * 300)
    sample = {
        "id": 1,
        "epoch": 1,
        "input": "x",
        "messages": [{"role": "user", "content": refs}],
        "attachments": {"0123abcd": "x" * MiB},
    }
    header = [m for m in eval_members if not m.name.startswith("samples/")]
    archive = write_zip(
        tmp_path / "refs.eval", [*header, Member("samples/1_epoch_1.json", dumps(sample).encode())]
    )
    with pytest.raises(TraceFormatError) as e:
        import_file(archive)
    assert e.value.field == "sample.attachments" and "expand the sample past 256.0 MiB" in str(
        e.value
    )
    sample["messages"] = [{"role": "user", "content": "see attachment://0123abcd"}]
    archive.unlink()
    write_zip(archive, [*header, Member("samples/1_epoch_1.json", dumps(sample).encode())])
    (trace,) = import_file(archive).traces
    assert trace.messages[0].parts[0].text == "see " + "x" * MiB  # type: ignore[union-attr]


def test_an_encrypted_member_is_a_format_error(tmp_path: Path) -> None:
    """An archive whose member claims encryption is a TraceFormatError naming the file, not
    zipfile's RuntimeError."""
    archive = write_zip(tmp_path / "locked.eval", [Member("header.json", b"{}")], flags=1)
    with pytest.raises(TraceFormatError, match=r"locked\.eval: not a readable zip archive"):
        import_file(archive)
