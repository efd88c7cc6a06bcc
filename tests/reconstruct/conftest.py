"""Fixtures: the real tau traces, rebuilt once per session, and their true initial states."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from deploysim.reconstruct import ReconstructResult, load_effects_file, reconstruct
from deploysim.traces import ToolSpec, Trace, import_traces, load_tools_file


class Source(NamedTuple):
    """A source of real traces with everything needed to rebuild and judge it."""

    traces: list[Trace]
    tools: list[ToolSpec]
    effects: dict[str, str] | None
    truth: dict[str, dict[str, Any]]


class Rebuilt(NamedTuple):
    """A source rebuilt from all its traces."""

    source: Source
    result: ReconstructResult
    folder: Path


def _source(shared: Path, name: str) -> Source:
    folder = shared / name
    tools = load_tools_file(folder / "tool_schemas.json")
    traces = import_traces([folder / "traces.json"], tools=tools).traces
    effects_file = folder / "tool_effects.json"
    effects = load_effects_file(effects_file) if effects_file.exists() else None
    state = folder / "initial_state"
    if (state / "db.json").exists():
        truth = json.loads((state / "db.json").read_text())
    else:
        truth = {p.stem: json.loads(p.read_text()) for p in sorted(state.glob("*.json"))}
    return Source(traces, tools, effects, truth)


@pytest.fixture(scope="session")
def airline_source(shared_traces: Path) -> Source:
    """tau-bench airline: 50 traces, tool schemas, the true initial state."""
    return _source(shared_traces, "tau-bench-airline")


@pytest.fixture(scope="session")
def retail_source(shared_traces: Path) -> Source:
    """tau2 retail: 40 traces, tool schemas and types, the true initial state."""
    return _source(shared_traces, "tau2-retail")


def _rebuild(source: Source, folder: Path) -> Rebuilt:
    result = reconstruct(source.traces, folder, effects=source.effects)
    return Rebuilt(source, result, folder)


@pytest.fixture(scope="session")
def airline_rebuilt(airline_source: Source, tmp_path_factory: pytest.TempPathFactory) -> Rebuilt:
    """The airline snapshot rebuilt from all 50 traces."""
    return _rebuild(airline_source, tmp_path_factory.mktemp("rebuilt") / "airline")


@pytest.fixture(scope="session")
def retail_rebuilt(retail_source: Source, tmp_path_factory: pytest.TempPathFactory) -> Rebuilt:
    """The retail snapshot rebuilt from all 40 traces (tool types from tool_effects.json)."""
    return _rebuild(retail_source, tmp_path_factory.mktemp("rebuilt") / "retail")
