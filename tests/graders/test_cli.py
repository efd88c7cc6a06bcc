"""`deploysim stage-lights` and the help texts of both commands (on a small app of our own)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from deploysim.cli.grade import grade_command, stage_lights_command

REPO = Path(__file__).resolve().parents[2]


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("grade")(grade_command)
    app.command("stage-lights")(stage_lights_command)
    return app


@pytest.mark.parametrize("command", ["grade", "stage-lights"])
def test_help_has_an_example(command: str) -> None:
    """Each command's help carries an `Example:` line (the docs contract)."""
    result = CliRunner().invoke(_app(), [command, "--help"])
    assert result.exit_code == 0 and "Example:" in result.output


def test_stage_lights_of_a_snapshot_json() -> None:
    """--json prints the score, the checks and the findings of a snapshot."""
    result = CliRunner().invoke(
        _app(), ["stage-lights", str(REPO / "env_snapshots" / "shop"), "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["target"] == "snapshot shop" and doc["realistic"] is True
    assert {c["check"] for c in doc["checks"]} >= {
        "example_domain",
        "sequential_ids",
        "lorem_ipsum",
    }


def test_stage_lights_of_a_scenario(airline_dir: Path, shared_traces: Path, tmp_path: Path) -> None:
    """A scenario is checked with its traces and its snapshot; the table lists what fired."""
    scenario = {
        "traces": [
            {
                "path": str(shared_traces / "tau-bench-airline" / "traces.json"),
                "tools": str(shared_traces / "tau-bench-airline" / "tool_schemas.json"),
                "limit": 3,
            }
        ],
        "snapshot": str(airline_dir),
        "cut": "last",
    }
    path = tmp_path / "airline" / "three.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(scenario))
    result = CliRunner().invoke(_app(), ["stage-lights", str(path)])
    assert result.exit_code == 0, result.output
    assert "scenario airline/three" in result.output and "looks staged" in result.output
    assert "example_domain" in result.output and "example.com" in result.output
