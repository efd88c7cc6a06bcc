"""Read trace files from disk into parsed documents that importers sniff and split."""

from __future__ import annotations

import csv
import json
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from deploysim._errors import TraceFormatError
from deploysim.traces._limits import DEFAULT_LIMITS, ImportLimits, ZipBudget, read_bounded
from deploysim.traces._nesting import BoundedYamlLoader, loads

__all__ = ["TRACE_SUFFIXES", "BadLine", "CsvTable", "Document", "ZipJson", "read_document"]

TRACE_SUFFIXES = frozenset(
    {".json", ".jsonl", ".ndjson", ".eval", ".traj", ".yaml", ".yml", ".csv"}
)

DocumentKind = Literal["json", "jsonl", "yaml", "zip", "csv"]

# The csv module's cell limit (128 KiB) is below what a real agent run can hold in one cell (a
# serialized run with large observations); it is module-global, so it is only ever raised.
_CSV_CELL_LIMIT = 64 * 1024 * 1024
_CSV_SAMPLE_ROWS = 20


@dataclass(frozen=True)
class BadLine:
    """A JSONL line that is not JSON; it becomes a record error, not a file error."""

    line: int
    reason: str


@dataclass(frozen=True)
class ZipJson:
    """The JSON members of a zip archive (an inspect ``.eval`` log)."""

    members: dict[str, Any]


@dataclass(frozen=True)
class CsvTable:
    """A CSV file: its header and first rows, read eagerly; all rows are read on demand.

    Most CSV files beside traces are state tables, not runs, so detection looks at the
    header and a few rows only, and a table no importer claims is never read in full.
    """

    path: Path
    header: list[str]
    sample: list[dict[str, str]]
    problem: str | None = None
    """Why the sample stopped early (not UTF-8, not CSV); rows() reports it on its line."""

    def rows(self) -> Iterator[dict[str, str] | BadLine]:
        """Every data row as ``{column: cell}``; a row the csv module rejects is a BadLine."""
        yield from _csv_rows(self.path, self.header)


def _csv_rows(path: Path, header: list[str]) -> Iterator[dict[str, str] | BadLine]:
    csv.field_size_limit(max(csv.field_size_limit(), _CSV_CELL_LIMIT))
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            next(reader, None)  # the header, already read
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as e:
                    yield BadLine(reader.line_num, f"line {reader.line_num} is not CSV: {e}")
                    continue
                if not cells:
                    continue
                if len(cells) > len(header):
                    yield BadLine(
                        reader.line_num,
                        f"line {reader.line_num} has {len(cells)} cells, the header {len(header)}",
                    )
                    continue
                yield dict(zip(header, cells + [""] * (len(header) - len(cells)), strict=True))
    except UnicodeDecodeError as e:
        yield BadLine(0, f"not UTF-8 text: {e.reason} at byte {e.start}")


def _read_csv(path: Path) -> CsvTable:
    """The header and first rows; what cannot be read is left for rows() to report.

    A CSV that is not text or not CSV from its first lines gets an empty sample (no importer
    claims it, so a directory import lists it as ignored instead of failing on a stray table).
    """
    csv.field_size_limit(max(csv.field_size_limit(), _CSV_CELL_LIMIT))
    header: list[str] = []
    sample: list[dict[str, str]] = []
    problem: str | None = None
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            header = next(reader, [])
            for cells in reader:
                if cells:
                    sample.append(dict(zip(header, cells, strict=False)))
                if len(sample) >= _CSV_SAMPLE_ROWS:
                    break
    except UnicodeDecodeError as e:
        problem = f"not UTF-8 text: {e.reason} at byte {e.start}"
    except csv.Error as e:
        problem = f"not CSV: {e}"
    except OSError as e:
        raise TraceFormatError(path, f"cannot read: {e.strerror or e}") from e
    return CsvTable(path, header, sample, problem)


@dataclass(frozen=True)
class Document:
    """A parsed input file.

    ``data`` is the JSON value for json/yaml files, a list of values (or :class:`BadLine`)
    for jsonl files, a :class:`ZipJson` for zip archives and a :class:`CsvTable` for CSV.
    """

    path: Path
    kind: DocumentKind
    data: Any

    def first(self) -> Any:
        """The first record-like value: the first good JSONL line or list item, else data."""
        if self.kind == "jsonl" or (self.kind == "json" and isinstance(self.data, list)):
            return next((v for v in self.data if not isinstance(v, BadLine)), None)
        return self.data


def _read_jsonl(path: Path, text: str) -> list[Any]:
    values: list[Any] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            values.append(loads(line))
        except json.JSONDecodeError as e:
            values.append(BadLine(lineno, f"line {lineno} is not JSON: {e.msg} (char {e.pos})"))
    return values


def _read_zip(path: Path, limits: ImportLimits) -> ZipJson:
    budget = ZipBudget(path, limits)
    try:
        with zipfile.ZipFile(path) as zf:
            members: dict[str, Any] = {}
            for info in zf.infolist():
                if info.filename.endswith(".json"):
                    try:
                        members[info.filename] = loads(budget.read(zf, info))
                    except json.JSONDecodeError as e:
                        raise TraceFormatError(
                            path, f"zip member {info.filename} is not JSON: {e.msg}"
                        ) from e
            return ZipJson(members)
    # RuntimeError: an encrypted member; NotImplementedError: an unknown compression method.
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as e:
        raise TraceFormatError(path, f"not a readable zip archive: {e}") from e


def _regular_file(path: Path) -> None:
    """Refuse FIFOs, devices and sockets: reading one can block forever or never end."""
    try:
        mode = path.stat().st_mode
    except OSError as e:
        raise TraceFormatError(path, f"cannot read: {e.strerror or e}") from e
    if not stat.S_ISREG(mode):
        raise TraceFormatError(path, "not a regular file (a FIFO, device or socket)")


def _parse_text(path: Path, text: str) -> Document:
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        try:
            return Document(path, "yaml", yaml.load(text, Loader=BoundedYamlLoader))
        except yaml.YAMLError as e:
            raise TraceFormatError(path, f"not YAML: {e}") from e
    if suffix in (".jsonl", ".ndjson"):
        return Document(path, "jsonl", _read_jsonl(path, text))
    try:
        return Document(path, "json", loads(text))
    except json.JSONDecodeError as e:
        # A .json file holding one JSON value per line is JSONL in disguise.
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if len(lines) > 1 and all(ln.lstrip().startswith("{") for ln in lines):
            values = _read_jsonl(path, text)
            if any(not isinstance(v, BadLine) for v in values):
                return Document(path, "jsonl", values)
        raise TraceFormatError(
            path, f"not JSON: {e.msg} at line {e.lineno}, column {e.colno}"
        ) from e


def read_document(path: Path, limits: ImportLimits = DEFAULT_LIMITS) -> Document:
    """Read and parse one file; raise TraceFormatError when it is not JSON, JSONL, YAML or CSV.

    Raises:
        TraceFormatError: the file is unreadable, not a regular file, past ``limits``
            (uncompressed size, or inflation ratio of an archive), or not JSON, JSONL or YAML.
    """
    _regular_file(path)
    if zipfile.is_zipfile(path):
        return Document(path, "zip", _read_zip(path, limits))
    if path.suffix.lower() == ".csv":
        # Read lazily (state tables beside runs are never read whole), so the byte cap is
        # checked on the size up front; a CSV is stored as it reads, uncompressed.
        if path.stat().st_size > limits.max_bytes:
            read_bounded(path, limits)  # raises the same error as any other file
        return Document(path, "csv", _read_csv(path))
    data = read_bounded(path, limits)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise TraceFormatError(path, f"not UTF-8 text: {e.reason} at byte {e.start}") from e
    del data  # the text is the copy we keep; do not hold both
    return _parse_text(path, text)
