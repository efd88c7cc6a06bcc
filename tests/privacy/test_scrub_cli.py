from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deploysim.cli.scrub import EXIT_GATE_FAILED, EXIT_INPUT_ERROR, app
from deploysim.privacy import load_key, load_vault
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


def test_gate_failure_writes_nothing_and_exits_3(tmp_path: Path) -> None:
    """A value scrubbing may not rewrite (base64 of an email inside the trace id, which is
    protocol) fails the gate: exit code 3, which no crash can give, no output file, and the
    report on stderr names the field but neither the value nor the id that holds it."""
    blob = base64.b64encode(PRIVATE["email"].encode()).decode()
    trace = make_trace().model_copy(update={"id": f"conv-{blob}"})
    write_traces([trace], tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    code, stdout, stderr = _run(tmp_path / "in.jsonl", "-o", out, "--json")
    assert code == EXIT_GATE_FAILED == 3
    assert json.loads(stdout) == {
        "traces": 1,
        "replaced": json.loads(stdout)["replaced"],
        "gate": "fail",
        "leaks": 1,
    }
    assert not out.exists() and not list(tmp_path.glob(".out.jsonl*"))
    assert "line 1: id" in stderr and "(base64)" in stderr
    assert PRIVATE["email"] not in stderr + stdout and blob not in stderr + stdout


def test_vault_needs_a_key_file(traces_file: Path, tmp_path: Path) -> None:
    """--vault without --key-file is bad input (exit 2) refused before anything is written."""
    code, _, stderr = _run(traces_file, "-o", tmp_path / "o.jsonl", "--vault", tmp_path / "v.vault")
    assert code == EXIT_INPUT_ERROR == 2 and "needs a key file" in stderr
    assert not (tmp_path / "o.jsonl").exists()


def test_deep_nesting_is_an_input_error_not_a_failed_gate(tmp_path: Path) -> None:
    """A trace file nested 200,000 levels deep in tool arguments exits 2 (bad input) with
    one line naming the file, never 3 (gate failed) or a crash; nothing is written."""
    deep = "[" * 200_000 + "]" * 200_000
    trace = make_trace()
    path = tmp_path / "in.jsonl"
    write_traces([trace], path)
    doc = json.loads(path.read_text())
    doc["metadata"] = {"payload": "x"}
    path.write_text(json.dumps(doc).replace('"x"', deep) + "\n")
    out = tmp_path / "out.jsonl"
    code, _, stderr = _run(path, "-o", out)
    assert code == EXIT_INPUT_ERROR, stderr
    assert str(path) in stderr.replace("\n", "") and "gate" not in stderr
    assert not out.exists()


def test_human_output_and_help(traces_file: Path, tmp_path: Path) -> None:
    """Without --json a one-line summary goes to stderr; the help carries an example."""
    code, stdout, stderr = _run(traces_file, "-o", tmp_path / "o.jsonl")
    assert code == 0 and stdout == ""
    assert "scrubbed 2 traces to" in stderr and "gate: pass" in stderr and "opaque" in stderr
    help_text = runner.invoke(app, ["--help"]).stdout
    assert "Example: deploysim scrub" in help_text


def test_scrub_takes_the_import_limits_and_link_flags(traces_file: Path, tmp_path: Path) -> None:
    """scrub reads inputs under the same bounds as `traces import`: past --max-uncompressed it
    is an input error naming the file (exit 2, nothing written); links leaving a folder are
    warned about and not read, unless --follow-symlinks."""
    out = tmp_path / "out.jsonl"
    size = traces_file.stat().st_size
    code, _, stderr = _run(traces_file, "-o", out, "--max-uncompressed", str(size - 1))
    unwrapped = stderr.replace("\n", "")  # the console wraps long paths
    assert code == EXIT_INPUT_ERROR and str(traces_file) in unwrapped and not out.exists()
    code, _, stderr = _run(traces_file, "-o", out, "--max-uncompressed", str(size))
    assert code == 0, stderr
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "in.jsonl").symlink_to(traces_file)  # leads out of the folder
    code, _, stderr = _run(folder, "-o", tmp_path / "linked.jsonl")
    assert f"skipped symlink {folder / 'in.jsonl'} -> {traces_file}" in stderr.replace("\n", "")
    code, stdout, stderr = _run(
        folder, "-o", tmp_path / "linked.jsonl", "--follow-symlinks", "--json"
    )
    assert code == 0 and json.loads(stdout)["traces"] == 2, stderr
