"""The HTML report renders in headless Chromium (Debian `chromium`).

Chromium is installed by `scripts/setup-chromium.sh` (root, Debian). The screenshot is kept
as a test artifact in ``$DEPLOYSIM_TEST_ARTIFACTS/forecast/report.png``, by default
``.cache/test-artifacts/forecast/report.png`` at the repository root (git-ignored).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import pytest

from deploysim.forecast import SampleGrade, compute_forecast, flagged_samples, write_report

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium floods this machine's closed network.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class Image(NamedTuple):
    """A decoded 8-bit RGB(A) PNG: size, bytes per pixel and the unfiltered rows."""

    width: int
    height: int
    bpp: int
    rows: list[bytes]

    def colours(self, step: int = 3) -> list[bytes]:
        """(r, g, b) of every ``step``-th pixel of every ``step``-th row."""
        return [
            row[i : i + 3] for row in self.rows[::step] for i in range(0, len(row), self.bpp * step)
        ]


def _unfilter(kind: int, row: bytearray, prev: bytes, bpp: int) -> bytes:
    """Undo one PNG row filter (None, Sub, Up, Average, Paeth)."""
    if kind == 2:  # Up: most rows Chromium writes; done without a per-byte branch
        return bytes((x + b) & 0xFF for x, b in zip(row, prev, strict=True))
    for i in range(len(row)):
        a = row[i - bpp] if i >= bpp else 0
        if kind == 1:
            row[i] = (row[i] + a) & 0xFF
        elif kind == 3:
            row[i] = (row[i] + (a + prev[i]) // 2) & 0xFF
        elif kind == 4:
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
    return bytes(row)


def decode_png(data: bytes) -> Image:
    """Decode an 8-bit, non-interlaced RGB or RGBA PNG with the standard library only."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
    bpp = 3 if color == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    rows: list[bytes] = []
    previous = bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        row = bytearray(raw[start + 1 : start + 1 + stride])
        previous = _unfilter(raw[start], row, previous, bpp)
        rows.append(previous)
    return Image(width, height, bpp, rows)


def _artifacts() -> Path:
    root = Path(os.environ.get("DEPLOYSIM_TEST_ARTIFACTS", REPO / ".cache" / "test-artifacts"))
    folder = root / "forecast"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup-chromium.sh (as root)")
    command = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, run_grades: list[SampleGrade]) -> Path:
    """The synthetic run's report, written once for the module."""
    path = tmp_path_factory.mktemp("report") / "report.html"
    return write_report(path, compute_forecast(run_grades, resamples=200), run_grades)


def test_report_renders_to_a_non_trivial_screenshot(report: Path, tmp_path: Path) -> None:
    """Chromium paints the report: a 1200x2000 PNG with ink on it, kept as an artifact."""
    shot = _artifacts() / "report.png"
    shot.unlink(missing_ok=True)
    args = [f"--screenshot={shot}", "--window-size=1200,2000", report.as_uri()]
    done = _chromium(args, tmp_path / "profile")
    assert shot.is_file(), f"no screenshot; chromium said:\n{done.stderr[-2000:]}"
    print(f"screenshot: {shot}")
    image = decode_png(shot.read_bytes())
    assert (image.width, image.height) == (1200, 2000)
    sample = image.colours()
    counts = Counter(sample)
    assert len(counts) > 50  # text, charts and tables: not a blank or single-colour page
    background, _ = counts.most_common(1)[0]
    assert background == b"\xff\xff\xff"  # the page's white: the decoder unfiltered right
    assert len(sample) - counts[background] > 0.02 * len(sample)  # ink on >2% of the page


def test_dumped_dom_holds_the_charts_and_sample_sections(
    report: Path, tmp_path: Path, run_grades: list[SampleGrade]
) -> None:
    """The DOM Chromium builds has the forest plot's SVG and one section per flagged sample."""
    done = _chromium(["--dump-dom", report.as_uri()], tmp_path / "profile")
    dom = done.stdout
    assert '<svg id="forest-plot"' in dom, done.stderr[-2000:]
    assert '<svg id="funnel-plot"' in dom and '<svg id="divergence-histogram"' in dom
    shown = min(len(flagged_samples(run_grades)), 100)
    assert dom.count('<section class="sample') == shown
    assert "<script>alert" not in dom
