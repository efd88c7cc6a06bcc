"""Traces: the normalized Trace model, format importers, validation, stats, canonical JSONL.

::

    from deploysim.traces import import_traces, load_tools_file, trace_stats, validate

    result = import_traces(["traces.json"], tools=load_tools_file("tool_schemas.json"))
    for trace in result.traces:
        for finding in validate(trace):
            print(finding)
"""

from deploysim.traces._canonical import dump_trace, write_traces
from deploysim.traces._documents import Document, read_document
from deploysim.traces._import import (
    FileImport,
    IgnoredFile,
    ImportResult,
    SkippedRecord,
    import_file,
    import_traces,
)
from deploysim.traces._limits import DEFAULT_LIMITS, ImportLimits, parse_size
from deploysim.traces._model import (
    Message,
    Part,
    Reasoning,
    Role,
    Text,
    ToolCall,
    ToolEffect,
    ToolKind,
    ToolResult,
    ToolSpec,
    Trace,
    TraceSource,
)
from deploysim.traces._nesting import MAX_NESTING, BoundedYamlLoader, nesting_error
from deploysim.traces._nesting import loads as loads_bounded
from deploysim.traces._pairing import CallRef, Pair, Pairing, ResultRef, pair_calls
from deploysim.traces._registry import (
    ImportContext,
    Importer,
    Record,
    detect_importer,
    get_importer,
    importer,
    importer_names,
)
from deploysim.traces._stats import TraceStats, trace_stats
from deploysim.traces._toolspecs import load_tools_file, toolspec_from_definition
from deploysim.traces._validate import Finding, duplicate_ids, validate
from deploysim.traces._walk import SkippedLink

__all__ = [
    "DEFAULT_LIMITS",
    "MAX_NESTING",
    "BoundedYamlLoader",
    "CallRef",
    "Document",
    "FileImport",
    "Finding",
    "IgnoredFile",
    "ImportContext",
    "ImportLimits",
    "ImportResult",
    "Importer",
    "Message",
    "Pair",
    "Pairing",
    "Part",
    "Reasoning",
    "Record",
    "ResultRef",
    "Role",
    "SkippedLink",
    "SkippedRecord",
    "Text",
    "ToolCall",
    "ToolEffect",
    "ToolKind",
    "ToolResult",
    "ToolSpec",
    "Trace",
    "TraceSource",
    "TraceStats",
    "detect_importer",
    "dump_trace",
    "duplicate_ids",
    "get_importer",
    "import_file",
    "import_traces",
    "importer",
    "importer_names",
    "load_tools_file",
    "loads_bounded",
    "nesting_error",
    "pair_calls",
    "parse_size",
    "read_document",
    "toolspec_from_definition",
    "trace_stats",
    "validate",
    "write_traces",
]
