"""Replay tests: scenarios written into temporary folders, inspect runs with no display."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

AIRLINE_IDS = ["task-0/trial-0", "task-1/trial-0", "task-2/trial-0"]


@pytest.fixture(autouse=True)
def quiet_inspect(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No inspect display, logs in a temporary folder."""
    monkeypatch.setenv("INSPECT_DISPLAY", "none")
    monkeypatch.setenv("INSPECT_LOG_DIR", str(tmp_path / "inspect-logs"))
    yield


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[..., Path]:
    """Write a scenario YAML into a temporary suite folder; return its path."""

    def write(name: str = "case", suite: str = "suite", **fields: Any) -> Path:
        p = tmp_path / "scenarios" / suite / f"{name}.yaml"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(yaml.safe_dump(fields, sort_keys=False))
        return p

    return write


@pytest.fixture
def airline_scenario(
    write_scenario: Callable[..., Path], airline_dir: Path, shared_traces: Path
) -> Callable[..., Path]:
    """An airline scenario over a few tau-bench traces, against the built airline snapshot."""

    def make(ids: list[str] | None = None, name: str = "airline", **fields: Any) -> Path:
        d = shared_traces / "tau-bench-airline"
        base: dict[str, Any] = {
            "traces": [
                {
                    "path": str(d / "traces.json"),
                    "tools": str(d / "tool_schemas.json"),
                    "ids": ids or AIRLINE_IDS,
                }
            ],
            "snapshot": str(airline_dir),
            "tags": ["airline", "test"],
        }
        base.update(fields)
        return write_scenario(name=name, suite="airline", **base)

    return make
