from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deploysim.cli.scrub import app
from deploysim.privacy import VaultError, load_key, load_vault
from deploysim.traces import write_traces

from .conftest import PRIVATE, make_trace

runner = CliRunner()


@pytest.fixture
def traces_file(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    write_traces([make_trace(0), make_trace(1)], path)
    return path


def _run(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_scrub_json_report_key_and_vault(traces_file: Path, tmp_path: Path) -> None:
    """`scrub --json` prints exactly traces/replaced/gate/leaks, writes a scrubbed file with
    no planted value, creates the key file and seals a vault that holds the map."""
    out, key, vault = tmp_path / "out.jsonl", tmp_path / "k.key", tmp_path / "v.vault"
    code, stdout, stderr = _run(
        traces_file, "-o", out, "--key-file", key, "--vault", vault, "--json"
    )
    assert code == 0, stderr
    report = json.loads(stdout)
    assert list(report) == ["traces", "replaced", "gate", "leaks"]
    assert report["traces"] == 2 and report["gate"] == "pass" and report["leaks"] == 0
    assert report["replaced"]["PERSON"] > 0 and report["replaced"]["SECRET"] > 0
    text = out.read_text().lower()
    assert [k for k, v in PRIVATE.items() if v.lower() in text] == []
    assert "created key file" in stderr
    entries = load_vault(vault, load_key(key))
    assert any(e.real == PRIVATE["email"] for e in entries)
    assert PRIVATE["email"] not in vault.read_text() and PRIVATE["email"] not in stdout + stderr


def test_rerun_with_key_and_vault_is_identical(traces_file: Path, tmp_path: Path) -> None:
    """Two runs with the same key file and vault write byte-identical output."""
    key, vault = tmp_path / "k.key", tmp_path / "v.vault"
    assert (
        _run(traces_file, "-o", tmp_path / "a.jsonl", "--key-file", key, "--vault", vault)[0] == 0
    )
    assert (
        _run(traces_file, "-o", tmp_path / "b.jsonl", "--key-file", key, "--vault", vault)[0] == 0
    )
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_gate_failure_writes_nothing_and_exits_1(tmp_path: Path) -> None:
    """A value hidden in base64 survives scrubbing: the gate fails, exit code 1, no output
    file, and the leak report on stderr names the place but not the value."""
    trace = make_trace()
    msg = trace.messages[5]
    part = msg.parts[0]
    blob = base64.b64encode(json.dumps({"contact": PRIVATE["email"]}).encode()).decode()
    hidden = part.model_copy(update={"output": part.output + "\nattachment " + blob})  # type: ignore[union-attr]
    trace = trace.model_copy(
        update={
            "messages": [
                *trace.messages[:5],
                msg.model_copy(update={"parts": [hidden]}),
                *trace.messages[6:],
            ]
        }
    )
    write_traces([trace], tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    code, stdout, stderr = _run(tmp_path / "in.jsonl", "-o", out, "--json")
    assert code == 1
    assert json.loads(stdout) == {
        "traces": 1,
        "replaced": json.loads(stdout)["replaced"],
        "gate": "fail",
        "leaks": 1,
    }
    assert not out.exists() and not list(tmp_path.glob(".out.jsonl*"))
    assert "messages[5].parts[0].output" in stderr and "(base64)" in stderr
    assert PRIVATE["email"] not in stderr + stdout


def test_vault_needs_a_key_file(traces_file: Path, tmp_path: Path) -> None:
    """--vault without --key-file is refused before anything is written."""
    with pytest.raises(VaultError, match="needs a key file"):
        _run(traces_file, "-o", tmp_path / "o.jsonl", "--vault", tmp_path / "v.vault")
    assert not (tmp_path / "o.jsonl").exists()


def test_human_output_and_help(traces_file: Path, tmp_path: Path) -> None:
    """Without --json a one-line summary goes to stderr; the help carries an example."""
    code, stdout, stderr = _run(traces_file, "-o", tmp_path / "o.jsonl")
    assert code == 0 and stdout == ""
    assert "scrubbed 2 traces to" in stderr and "gate: pass" in stderr and "opaque" in stderr
    help_text = runner.invoke(app, ["--help"]).stdout
    assert "Example: deploysim scrub" in help_text
