"""`deploysim reconstruct` and `deploysim fidelity`, through typer's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deploysim._errors import InputError, SnapshotError, TraceFormatError
from deploysim.cli.reconstruct import app
from deploysim.traces import write_traces
from tests.reconstruct.test_function_tools import shop_traces

runner = CliRunner()


@pytest.fixture
def shop_file(tmp_path: Path) -> Path:
    """Two hand-made function-tool traces as canonical JSONL."""
    path = tmp_path / "shop.jsonl"
    write_traces(shop_traces(), path)
    return path


def test_reconstruct_json_prints_the_summary(shared_traces: Path, tmp_path: Path) -> None:
    """--json prints exactly the summary keys, with the counts of the written snapshot."""
    folder = shared_traces / "tau-bench-airline"
    out = tmp_path / "airline-rebuilt"
    r = runner.invoke(
        app,
        [
            "reconstruct",
            str(folder / "traces.json"),
            "--tools",
            str(folder / "tool_schemas.json"),
            "-o",
            str(out),
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert list(summary) == [
        "snapshot",
        "facts",
        "files",
        "tables",
        "rows",
        "services",
        "function_tools",
        "conflicts",
        "skipped",
    ]
    assert summary["snapshot"] == str(out) and (out / "snapshot.yaml").exists()
    assert summary["function_tools"] == 14 and summary["conflicts"] == 0 and summary["rows"] > 50


def test_fidelity_in_process_json(shop_file: Path, tmp_path: Path) -> None:
    """fidelity --in-process --json reports every call reproduced, per tool too."""
    assert (
        runner.invoke(app, ["reconstruct", str(shop_file), "-o", str(tmp_path / "shop")]).exit_code
        == 0
    )
    r = runner.invoke(
        app, ["fidelity", str(tmp_path / "shop"), str(shop_file), "--in-process", "--json"]
    )
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert list(report) == ["calls", "reproduced", "differs", "not_reproducible", "rate", "by_tool"]
    assert (report["calls"], report["reproduced"], report["rate"]) == (8, 8, 1.0)
    assert report["by_tool"]["cancel_order"] == {"calls": 3, "reproduced": 3}


def test_human_output_lists_tools_and_what_was_learned(shop_file: Path, tmp_path: Path) -> None:
    """Without --json, reconstruct prints a table of tools and how each is served."""
    args = ["reconstruct", str(shop_file), "-o", str(tmp_path / "shop")]
    r = runner.invoke(app, args, env={"COLUMNS": "240"})
    assert r.exit_code == 0, r.output
    assert "lookup orders by order_id" in r.stdout and "sets status='cancelled'" in r.stdout


def test_strict_stops_at_the_first_difference_and_exits_1(shop_file: Path, tmp_path: Path) -> None:
    """A snapshot whose row was altered: --strict stops at the first differing call, exit 1."""
    runner.invoke(app, ["reconstruct", str(shop_file), "-o", str(tmp_path / "shop")])
    rows = tmp_path / "shop" / "databases" / "shop" / "orders.jsonl"
    rows.write_text(rows.read_text().replace('"total": 10.5', '"total": 11.0', 1))
    args = ["fidelity", str(tmp_path / "shop"), str(shop_file), "--in-process", "--strict"]
    r = runner.invoke(app, args, env={"COLUMNS": "240"})
    assert r.exit_code == 1
    assert "1/2 calls reproduced" not in r.stdout and "stopped at the first difference" in r.stdout
    assert "-" in r.stdout and "total" in r.stdout  # the diff is shown


def test_input_errors_name_what_is_wrong(shop_file: Path, tmp_path: Path) -> None:
    """An existing output folder needs --force; a bad --volatile is an input error."""
    runner.invoke(app, ["reconstruct", str(shop_file), "-o", str(tmp_path / "shop")])
    again = runner.invoke(app, ["reconstruct", str(shop_file), "-o", str(tmp_path / "shop")])
    assert isinstance(again.exception, SnapshotError) and "--force" in str(again.exception)
    forced = runner.invoke(
        app, ["reconstruct", str(shop_file), "-o", str(tmp_path / "shop"), "--force"]
    )
    assert forced.exit_code == 0
    bad = runner.invoke(
        app,
        [
            "fidelity",
            str(tmp_path / "shop"),
            str(shop_file),
            "--in-process",
            "--volatile",
            "nocolon",
        ],
    )
    assert isinstance(bad.exception, InputError) and "--volatile" in str(bad.exception)


def test_every_command_has_an_example() -> None:
    """Both commands' help carries an `Example:` line (the docs contract of the CLI)."""
    for name in ("reconstruct", "fidelity"):
        r = runner.invoke(app, [name, "--help"])
        assert "Example:" in r.stdout


@pytest.mark.docker
def test_fidelity_starts_a_real_pod_by_default(
    shop_file: Path, tmp_path: Path, base_image: str
) -> None:
    """Without --in-process the calls go to the snapshot's services sidecar in a pod, which
    loads the generated handler module: every call reproduces."""
    runner.invoke(app, ["reconstruct", str(shop_file), "-o", str(tmp_path / "shop")])
    r = runner.invoke(app, ["fidelity", str(tmp_path / "shop"), str(shop_file), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["rate"] == 1.0


def test_reconstruct_json_counts_skipped_system_paths(tmp_path: Path) -> None:
    """--json says how many observed system paths (/etc/passwd, /etc/sudoers.d/...) were
    left out of the snapshot, matching ReconstructResult.skipped, so a script sees them."""
    from deploysim.reconstruct import reconstruct
    from deploysim.traces import import_traces
    from tests.reconstruct.test_system_files import _hostile_trace_file

    source = _hostile_trace_file(tmp_path)
    r = runner.invoke(app, ["reconstruct", str(source), "-o", str(tmp_path / "cli"), "--json"])
    assert r.exit_code == 0, r.output
    result = reconstruct(import_traces([source]).traces, tmp_path / "lib")
    assert {"/etc/passwd", "/etc/sudoers.d/agent"} <= {s.path for s in result.skipped}
    assert json.loads(r.stdout)["skipped"] == len(result.skipped)


def test_reconstruct_warns_about_symlinks_leaving_the_trace_folder(
    shop_file: Path, tmp_path: Path
) -> None:
    """A link inside the trace folder that leads out of it is not read, and reconstruct says
    so on stderr as `traces import` does (`warning: skipped symlink LINK -> TARGET`)."""
    folder = tmp_path / "traces"
    folder.mkdir()
    (folder / "shop.jsonl").write_bytes(shop_file.read_bytes())
    outside = tmp_path / "elsewhere" / "host.jsonl"
    outside.parent.mkdir()
    outside.write_bytes(shop_file.read_bytes())
    (folder / "escape.jsonl").symlink_to(outside)
    r = runner.invoke(app, ["reconstruct", str(folder), "-o", str(tmp_path / "snap"), "--json"])
    assert r.exit_code == 0, r.output
    assert f"warning: skipped symlink {folder / 'escape.jsonl'} -> {outside}" in r.stderr
    assert json.loads(r.stdout)["function_tools"] > 0


def test_reconstruct_and_fidelity_take_the_import_limits(shop_file: Path, tmp_path: Path) -> None:
    """reconstruct and fidelity read traces under the same bounds as `traces import`: a file
    past --max-uncompressed is an input error naming it, and raising the cap lets it through."""
    size = shop_file.stat().st_size
    snap = tmp_path / "snap"
    r = runner.invoke(
        app, ["reconstruct", str(shop_file), "-o", str(snap), "--max-uncompressed", str(size - 1)]
    )
    assert isinstance(r.exception, TraceFormatError) and r.exception.path == str(shop_file)
    assert not snap.exists()
    r = runner.invoke(
        app, ["reconstruct", str(shop_file), "-o", str(snap), "--max-uncompressed", str(size)]
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app, ["fidelity", str(snap), str(shop_file), "--in-process", "--max-uncompressed", "1"]
    )
    assert isinstance(r.exception, TraceFormatError) and "larger than" in str(r.exception)
