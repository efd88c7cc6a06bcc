"""The replay and scenario commands, through typer's test runner (real evals, real pods)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deploysim.cli.replay import app as replay_app
from deploysim.cli.scenario import app as scenario_app

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_scenario_commands_list_validate_and_create(tmp_path: Path, shared_traces: Path) -> None:
    """`scenario list|validate|new` report in JSON; an invalid scenario exits 1 with its error."""
    listed = runner.invoke(scenario_app, ["list", str(REPO / "scenarios"), "--json"])
    assert listed.exit_code == 0, listed.output
    names = {(i["suite"], i["name"]) for i in json.loads(listed.stdout)}
    assert ("shop", "support") in names and ("tau2-retail", "last-turn") in names
    ok = runner.invoke(
        scenario_app, ["validate", str(REPO / "scenarios/shop/support.yaml"), "--json"]
    )
    assert ok.exit_code == 0 and json.loads(ok.stdout)[0]["samples"] == 6
    bad = tmp_path / "bad.yaml"
    bad.write_text("traces: []\n")
    failed = runner.invoke(scenario_app, ["validate", str(bad), "--json"])
    assert failed.exit_code == 1 and "traces" in json.loads(failed.stdout)[0]["errors"][0]
    out = tmp_path / "suite" / "retail.yaml"
    d = shared_traces / "tau2-retail"
    made = runner.invoke(
        scenario_app,
        [
            "new",
            str(out),
            "--traces",
            str(d / "traces.json"),
            "--tools",
            str(d / "tool_schemas.json"),
            "--cut",
            "2",
            "--mode",
            "rollout",
            "--tag",
            "retail",
            "--json",
        ],
    )
    assert made.exit_code == 0, made.output
    report = json.loads(made.stdout)
    assert report["ok"] and report["bindings"] == {"recorded": 15} and report["traces"] == 40
    assert "cut: 2" in out.read_text() and "mode: rollout" in out.read_text()


def test_failures_are_classified_by_their_exception_type_only() -> None:
    """Engine, container, sidecar and sandbox failures are infrastructure; anything else is
    other, whatever its message quotes (the agent must not fake an infrastructure failure by
    printing a class name that an error message then repeats)."""
    import docker.errors
    from inspect_ai.util import SandboxUnavailableError

    from deploysim.replay._run import classify_error
    from deploysim.sandbox import ContainerDiedError, ServicesUnavailableError

    for infra in (
        ContainerDiedError("pod x died"),
        ServicesUnavailableError("services sidecar of pod x (exited, exit code 137)"),
        SandboxUnavailableError("gone"),
        docker.errors.NotFound("no such container"),
    ):
        assert classify_error(repr(infra)) == "infrastructure", infra
    quoted = "agent printed: deploysim.sandbox._pod.ContainerDiedError: InfrastructureError("
    for other in (
        ValueError(quoted),
        RuntimeError(f"docker.errors.APIError {quoted}"),
        KeyError("SandboxUnavailableError"),
    ):
        assert classify_error(repr(other)) == "other", other
    assert classify_error("openai.BadRequestError: 400 invalid tool schema") == "other"


def test_replay_rejects_contradictory_options(tmp_path: Path) -> None:
    """--mode original with a candidate model, or no model for a candidate run, is refused."""
    scenario = str(REPO / "scenarios/shop/support.yaml")
    both = runner.invoke(
        replay_app,
        [scenario, "--mode", "original", "--model", "openai/gpt-4o", "--log-dir", str(tmp_path)],
    )
    assert both.exit_code == 2 and "drop --model" in both.output
    none = runner.invoke(replay_app, [scenario, "--log-dir", str(tmp_path)])
    assert none.exit_code == 2 and "--model is required" in none.output


@pytest.mark.docker
def test_replay_a_traces_file_with_a_candidate_and_a_baseline(
    tmp_path: Path, base_image: str
) -> None:
    """A traces file replays as is (scenario written beside the logs), one log per model."""
    traces = REPO / "scenarios/shop/traces.jsonl"
    result = runner.invoke(
        replay_app,
        [
            str(traces),
            "--snapshot",
            str(REPO / "env_snapshots/shop"),
            "--model",
            "deploysim/demo-careless",
            "--baseline",
            "deploysim/original",
            "--cut",
            "1",
            "--log-dir",
            str(tmp_path / "logs"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert {s["model"] for s in run["logs"]} == {"deploysim/demo-careless", "deploysim/original"}
    assert all(s["completed"] == s["samples"] == 3 and s["errors"] == {} for s in run["logs"])
    base = next(s for s in run["logs"] if s["model"] == "deploysim/original")
    careless = next(s for s in run["logs"] if s["model"] == "deploysim/demo-careless")
    assert base["divergence_rate"] == 0.0 and careless["divergence_rate"] > 0
    assert (tmp_path / "logs" / "traces.yaml").exists()
    assert set(base["provenance"]) == {"live"}
