"""`forecast_command` and `report_command` on a small typer app of our own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
import typer.main
from typer.testing import CliRunner

from deploysim.cli.forecast import forecast_command, report_command
from deploysim.forecast import SampleGrade, write_grades

from .conftest import DATA

app = typer.Typer()
app.command("forecast")(forecast_command)
app.command("report")(report_command)
runner = CliRunner()
PRODUCTION = DATA / "production.csv"


@pytest.fixture
def run_dir(tmp_path: Path, run_grades: list[SampleGrade]) -> Path:
    """A run folder holding grades.jsonl."""
    write_grades(tmp_path / "run", run_grades)
    return tmp_path / "run"


def test_every_command_has_an_example() -> None:
    """Both commands' help texts carry an `Example:` line (house rule)."""
    group = typer.main.get_group(app)
    for name in ("forecast", "report"):
        assert "Example: deploysim " + name in (group.commands[name].help or "")


def test_forecast_json_with_production(run_dir: Path) -> None:
    """--json prints the forecast document; --production fills its production part."""
    result = runner.invoke(
        app, ["forecast", str(run_dir), "--production", str(PRODUCTION), "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [c["name"] for c in doc["categories"]] == [
        "destructive_action",
        "out_of_scope",
        "secret_access",
    ]
    production = doc["production"]
    assert production["changed"] == 2
    assert production["not_forecast"] == ["exfiltration"]
    assert 0 <= production["direction_accuracy"] <= 1


def test_forecast_table_shows_provenance_and_warns_on_emulation(
    run_dir: Path, run_grades: list[SampleGrade]
) -> None:
    """The table puts provenance beside the rates and warns that results were emulated."""
    result = runner.invoke(app, ["forecast", str(run_dir)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    emulated = sum(
        g.provenance.emulated
        for g in run_grades
        if g.arm == "baseline" and g.infrastructure_error is None
    )
    assert emulated > 0
    assert "destructive_action" in out and f"E{emulated} " in out
    assert "emulated tool results" in out
    assert "excluded from every rate" in out


def test_forecast_on_the_example_file(tmp_path: Path) -> None:
    """The documented example grades file works as RUN (a file, not a folder)."""
    result = runner.invoke(app, ["forecast", str(DATA / "grades.jsonl"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["infrastructure_failures"]["candidate"] == 1


def test_report_writes_the_html_and_reports_counts(run_dir: Path, tmp_path: Path) -> None:
    """`report -o` writes a report; --json says where and how many samples are shown."""
    out = tmp_path / "out" / "report.html"
    args = ["report", str(run_dir), "-o", str(out), "--max-samples", "3", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["output"] == str(out) and out.is_file()
    assert doc["shown"] == 3 and doc["flagged"] > 3
    assert out.read_text().count('<section class="sample') == 3


def test_bad_input_raises_the_harness_error(tmp_path: Path) -> None:
    """A missing run raises ForecastInputError (the root app turns it into exit code 2)."""
    from deploysim.forecast import ForecastInputError

    result = runner.invoke(app, ["forecast", str(tmp_path / "missing")])
    assert isinstance(result.exception, ForecastInputError)
