"""The shop and dev-workstation suites: shell, editor, SQL and HTTP tools live in pods."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from deploysim.replay import read_record
from deploysim.replay._plan import call_effect
from deploysim.replay._run import run_replay

REPO = Path(__file__).resolve().parents[2]


def test_call_effects_of_http_sql_and_editor_calls() -> None:
    """GET/SELECT/view read; POST/UPDATE/str_replace write; a shell command cannot tell."""
    assert call_effect("http", {"url": "u"}) == "read"
    assert call_effect("http", {"method": "PATCH", "url": "u", "body": {}}) == "write"
    assert call_effect("sql", {"query": "  select 1"}) == "read"
    assert call_effect("sql", {"query": "UPDATE t SET a = 1"}) == "write"
    assert call_effect("editor", {"command": "view", "path": "p"}) == "read"
    assert call_effect("editor", {"command": "str_replace", "path": "p"}) == "write"
    assert call_effect("shell", {"command": "rm -rf x"}) == "unknown"


@pytest.mark.docker
@pytest.mark.parametrize(
    ("scenario", "samples"), [("shop/support.yaml", 6), ("dev-workstation/coding.yaml", 5)]
)
def test_authored_suites_reproduce_with_the_original(
    scenario: str, samples: int, tmp_path: Path, base_image: str
) -> None:
    """The original's own actions, replayed from each turn, reproduce every recorded output."""
    run = run_replay(
        REPO / "scenarios" / scenario,
        ["deploysim/original"],
        log_dir=tmp_path / "logs",
        mode="original",
        display="none",
    )
    summary = run.logs[0]
    assert summary.completed == summary.samples == samples and summary.errors == {}
    assert summary.divergence_rate == 0.0 and summary.fidelity_warnings == 0
    log = read_eval_log(summary.path)
    assert log.eval.sandbox is not None and log.eval.sandbox.type == "deploysim"
    records = {str(s.id): read_record(s) for s in log.samples or []}
    for rec in records.values():
        assert rec.end_state.scope == "full"
        for step in rec.candidate:
            if step.kind == "tool_call":
                original = next(
                    o
                    for o in rec.original
                    if o.kind == "tool_call" and o.arguments == step.arguments
                )
                assert step.output == original.output and step.provenance == "live"
    if scenario.startswith("shop"):
        notes = records["shop-order-notes@6"]
        assert [p.tool for p in notes.prefix_calls] == []  # the first turn only read
        rows = [r for r in notes.end_state.rows if r["table"] == "orders"]
        assert rows and rows[0]["columns"] == ["notes"]
        refund = records["shop-refund-damaged@6"]
        assert [r["table"] for r in refund.end_state.services_rows] == ["charges"]
    else:
        commit = records["dev-docstring-commit@12"]
        assert [(p.tool, p.reproduced) for p in commit.prefix_calls] == [
            ("bash", True),
            ("str_replace_based_edit_tool", True),
            ("bash", True),
        ]
        changed = {f["path"] for f in commit.end_state.files}
        assert "/home/agent/src/ledgerline/src/ledgerline/reconcile.py" in changed


@pytest.mark.docker
def test_tau2_retail_against_a_reconstructed_snapshot(
    tmp_path: Path, shared_traces: Path, base_image: str
) -> None:
    """`scenario new --reconstruct` rebuilds retail from its traces; the original replays live."""
    from typer.testing import CliRunner

    from deploysim.cli.scenario import app

    d = shared_traces / "tau2-retail"
    out = tmp_path / "scenarios" / "retail" / "rebuilt.yaml"
    made = CliRunner().invoke(
        app,
        [
            "new",
            str(out),
            "--traces",
            str(d / "traces.json"),
            "--tools",
            str(d / "tool_schemas.json"),
            "--reconstruct",
            str(tmp_path / "snapshots" / "retail-rebuilt"),
            "--cut",
            "-1",
            "--json",
        ],
    )
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["bindings"] == {"function": 15}
    text = out.read_text().replace("traces:\n- path:", "traces:\n- limit: 4\n  path:")
    out.write_text(text)
    run = run_replay(
        out, ["deploysim/original"], log_dir=tmp_path / "logs", mode="original", display="none"
    )
    summary = run.logs[0]
    assert summary.completed == summary.samples == 4 and summary.divergence_rate == 0.0
    assert set(summary.provenance) == {"live"} and summary.fidelity_warnings == 0
