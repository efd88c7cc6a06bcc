"""Reconstruction: rebuild, from recorded traces alone, the state the agent saw; then prove it.

::

    from deploysim.reconstruct import fidelity, reconstruct
    from deploysim.traces import import_traces, load_tools_file

    traces = import_traces(["traces.json"], tools=load_tools_file("tool_schemas.json")).traces
    result = reconstruct(traces, "env_snapshots/airline-rebuilt")
    report = fidelity("env_snapshots/airline-rebuilt", traces, in_process=True)
    print(result.summary(), report.summary())

Extractors (one per tool family) are a registry: ``@extractor`` on an :class:`Extractor`
subclass adds one, the same way the built-ins register.

The names below load on first use: the services sidecar imports
:mod:`deploysim.reconstruct.runtime` for rebuilt snapshots, and has only the sidecar's
libraries, so importing this package must not import the trace machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deploysim.reconstruct._accuracy import EntityAccuracy, TableAccuracy, entity_accuracy
    from deploysim.reconstruct._compare import Verdict, compare, parse_volatile
    from deploysim.reconstruct._fidelity import afidelity, call_keys, fidelity
    from deploysim.reconstruct._model import (
        Conflict,
        FileEffect,
        ReconstructResult,
        SkippedObservation,
        ToolReport,
    )
    from deploysim.reconstruct._pure import pure_function, pure_function_names
    from deploysim.reconstruct._reconstruct import load_effects_file, reconstruct
    from deploysim.reconstruct._registry import (
        ExtractContext,
        Extractor,
        ReconstructOptions,
        extractor,
        extractor_names,
    )
    from deploysim.reconstruct._report import CallResult, FidelityReport, ToolStats, TraceResult

_EXPORTS = {
    "CallResult": "_report",
    "Conflict": "_model",
    "EntityAccuracy": "_accuracy",
    "ExtractContext": "_registry",
    "Extractor": "_registry",
    "FidelityReport": "_report",
    "FileEffect": "_model",
    "ReconstructOptions": "_registry",
    "ReconstructResult": "_model",
    "SkippedObservation": "_model",
    "TableAccuracy": "_accuracy",
    "ToolReport": "_model",
    "ToolStats": "_report",
    "TraceResult": "_report",
    "Verdict": "_compare",
    "afidelity": "_fidelity",
    "call_keys": "_fidelity",
    "compare": "_compare",
    "entity_accuracy": "_accuracy",
    "extractor": "_registry",
    "extractor_names": "_reconstruct",
    "fidelity": "_fidelity",
    "load_effects_file": "_reconstruct",
    "parse_volatile": "_compare",
    "pure_function": "_pure",
    "pure_function_names": "_pure",
    "reconstruct": "_reconstruct",
}

__all__ = [
    "CallResult",
    "Conflict",
    "EntityAccuracy",
    "ExtractContext",
    "Extractor",
    "FidelityReport",
    "FileEffect",
    "ReconstructOptions",
    "ReconstructResult",
    "SkippedObservation",
    "TableAccuracy",
    "ToolReport",
    "ToolStats",
    "TraceResult",
    "Verdict",
    "afidelity",
    "call_keys",
    "compare",
    "entity_accuracy",
    "extractor",
    "extractor_names",
    "fidelity",
    "load_effects_file",
    "parse_volatile",
    "pure_function",
    "pure_function_names",
    "reconstruct",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'deploysim.reconstruct' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"deploysim.reconstruct.{module}"), name)
    globals()[name] = value
    return value
