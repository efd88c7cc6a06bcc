"""Import trace files: find files, detect formats, convert records, collect what was skipped."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from deploysim._errors import ToolSchemaError, TraceFormatError, UnknownFormatError
from deploysim.traces._documents import TRACE_SUFFIXES, BadLine, Document, read_document
from deploysim.traces._limits import DEFAULT_LIMITS, ImportLimits
from deploysim.traces._model import ToolSpec, Trace
from deploysim.traces._nesting import nesting_error
from deploysim.traces._reader import Node, RecordError
from deploysim.traces._registry import (
    ImportContext,
    Importer,
    Record,
    detect_importer,
    get_importer,
    importer_names,
)
from deploysim.traces._walk import SkippedLink, list_folder

__all__ = [
    "FileImport",
    "IgnoredFile",
    "ImportResult",
    "SkippedRecord",
    "import_file",
    "import_traces",
]

# Importers are walking untrusted, loosely typed JSON; these are the errors such walking can
# raise when a shape was not foreseen. They become TraceFormatError naming the record, so a
# caller never sees a bare KeyError, and --skip-invalid can go on with the next record.
_SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError)

NOT_TRACE_SUFFIX = "not a trace file suffix"
"""Why a file in a directory was ignored unread: documentation, licences, archives."""
EMPTY_FILE = "empty file: no records"
"""Why a file was ignored (or, named directly, refused): it holds no record at all."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SkippedRecord(_Frozen):
    """A record left out under ``--skip-invalid``, with why."""

    path: str
    record: int | None
    field: str | None
    reason: str

    def __str__(self) -> str:
        return str(TraceFormatError(self.path, self.reason, record=self.record, field=self.field))


class IgnoredFile(_Frozen):
    """A file inside an imported directory that holds no traces we recognize."""

    path: str
    reason: str


class FileImport(_Frozen):
    """The result of importing one file."""

    path: str
    format: str
    traces: list[Trace] = Field(default_factory=list)
    skipped: list[SkippedRecord] = Field(default_factory=list)


class ImportResult(_Frozen):
    """The result of importing several inputs."""

    files: list[FileImport] = Field(default_factory=list)
    ignored: list[IgnoredFile] = Field(default_factory=list)
    skipped_links: list[SkippedLink] = Field(
        default_factory=list,
        description="Symlinks in an imported folder that lead outside it: never read.",
    )

    @property
    def traces(self) -> list[Trace]:
        """All imported traces, in input order."""
        return [t for f in self.files for t in f.traces]

    @property
    def skipped(self) -> list[SkippedRecord]:
        """All skipped records, in input order."""
        return [s for f in self.files for s in f.skipped]


def _with_tools(trace: Trace, tools: Sequence[ToolSpec]) -> Trace:
    """Add the given tool specs the trace does not declare itself."""
    have = {t.name for t in trace.tools}
    extra = [t for t in tools if t.name not in have]
    if not extra:
        return trace
    return trace.model_copy(update={"tools": [*trace.tools, *extra]})


def _convert_record(
    imp: Importer,
    doc: Document,
    record: Record,
    tools: Sequence[ToolSpec],
    limits: ImportLimits = DEFAULT_LIMITS,
) -> Trace:
    if isinstance(record.value, BadLine):
        raise TraceFormatError(doc.path, record.value.reason, record=record.index, format=imp.name)
    # Before the importer walks it: past this depth pydantic, jsonschema and the scrubber
    # would each fail their own way, naming nothing.
    limit = imp.max_nesting
    deep = nesting_error(record.value, limit=limit) or nesting_error(
        record.context, "(file context)", limit
    )
    if deep:
        raise TraceFormatError(
            doc.path, deep.reason, record=record.index, field=deep.field, format=imp.name
        )
    ctx = ImportContext(str(doc.path), imp.name, record, tuple(tools), limits)
    try:
        trace = imp.convert(Node(record.value), ctx)
    except RecordError as e:
        raise TraceFormatError(
            doc.path, e.reason, record=record.index, field=e.field, format=imp.name
        ) from e
    except ToolSchemaError as e:
        raise TraceFormatError(
            doc.path, str(e), record=record.index, field="tools", format=imp.name
        ) from e
    except _SHAPE_ERRORS as e:
        raise TraceFormatError(
            doc.path,
            f"unexpected shape: {type(e).__name__}: {e}",
            record=record.index,
            format=imp.name,
        ) from e
    return _with_tools(trace, tools) if tools else trace


def import_file(
    path: str | Path,
    *,
    format: str | None = None,
    tools: Sequence[ToolSpec] = (),
    skip_invalid: bool = False,
    on_record: Callable[[], None] | None = None,
    limits: ImportLimits = DEFAULT_LIMITS,
) -> FileImport:
    """Import every trace of one file.

    Args:
        path: the file.
        format: importer name; detected from content when None.
        tools: tool specs to add to traces that do not declare them (``--tools``).
        skip_invalid: skip malformed records (listed in ``skipped``) instead of raising.
        on_record: called after each record, for progress bars.
        limits: how many bytes the file (or an archive's members) may hold uncompressed.

    Raises:
        TraceFormatError: the file or a record is malformed or nested too deep (without
            ``skip_invalid``), or the file as a whole is unreadable or past ``limits``.
        UnknownFormatError: no importer recognizes the file.
    """
    p = Path(path)
    doc = read_document(p, limits)
    imp = get_importer(format) if format else detect_importer(doc)
    if imp is None and doc.kind == "jsonl" and not doc.data:
        raise UnknownFormatError(f"{p}: {EMPTY_FILE}")
    if imp is None:
        raise UnknownFormatError(
            f"{p}: no importer recognizes this file; pass --format, one of: "
            + ", ".join(importer_names())
        )
    traces: list[Trace] = []
    skipped: list[SkippedRecord] = []
    try:
        records = list(imp.records(doc))
    except RecordError as e:
        raise TraceFormatError(p, e.reason, field=e.field, format=imp.name) from e
    for record in records:
        try:
            traces.append(_convert_record(imp, doc, record, tools, limits))
        except TraceFormatError as e:
            if not skip_invalid:
                raise
            skipped.append(
                SkippedRecord(path=str(p), record=e.record, field=e.field, reason=e.reason)
            )
        if on_record:
            on_record()
    return FileImport(path=str(p), format=imp.name, traces=traces, skipped=skipped)


class _Expanded(NamedTuple):
    files: list[Path]
    ignored: list[IgnoredFile]
    links: list[SkippedLink]


def _expand(inputs: Iterable[str | Path], follow_symlinks: bool) -> _Expanded:
    out = _Expanded([], [], [])
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            listing = list_folder(p, follow_symlinks=follow_symlinks)
            for f in listing.files:
                if f.suffix.lower() in TRACE_SUFFIXES:
                    out.files.append(f)
                else:
                    out.ignored.append(IgnoredFile(path=str(f), reason=NOT_TRACE_SUFFIX))
            out.ignored.extend(
                IgnoredFile(path=str(u.path), reason=u.reason) for u in listing.unread
            )
            out.links.extend(listing.links)
        elif p.exists():
            out.files.append(p)
        else:
            raise TraceFormatError(p, "no such file or directory")
    return out


def import_traces(
    inputs: Iterable[str | Path],
    *,
    format: str | None = None,
    tools: Sequence[ToolSpec] = (),
    skip_invalid: bool = False,
    on_record: Callable[[], None] | None = None,
    limits: ImportLimits = DEFAULT_LIMITS,
    follow_symlinks: bool = False,
) -> ImportResult:
    """Import files and directories.

    Files named directly must be recognized. Files found inside a directory that no importer
    recognizes (a LICENSE, a tool-schema file) are listed in ``ignored``, not raised.
    Symlinks inside a directory are followed only while they stay inside it (each file once,
    so loops end); links leading outside are listed in ``skipped_links`` and never read,
    unless ``follow_symlinks``. ``limits`` bounds what each file may hold uncompressed.
    """
    inputs = list(inputs)
    explicit = {Path(i) for i in inputs if not Path(i).is_dir()}
    files, ignored, links = _expand(inputs, follow_symlinks)
    result: list[FileImport] = []
    for f in files:
        try:
            result.append(
                import_file(
                    f,
                    format=format,
                    tools=tools,
                    skip_invalid=skip_invalid,
                    on_record=on_record,
                    limits=limits,
                )
            )
        except UnknownFormatError as e:
            if f in explicit or format:
                raise
            ignored.append(IgnoredFile(path=str(f), reason=str(e).split(": ", 1)[-1]))
    return ImportResult(files=result, ignored=ignored, skipped_links=links)
