import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from deploysim.cli import app
from deploysim.traces import import_file

runner = CliRunner()
COUNTERS = [
    "traces",
    "messages",
    "tool_calls",
    "tool_results",
    "unpaired_calls",
    "unpaired_results",
    "tools",
    "by_tool",
]


def test_stats_json_has_exactly_the_documented_shape(shared_traces: Path) -> None:
    """`traces stats --json` prints {"inputs": [...], "total": {...}} with exactly these keys."""
    d = shared_traces / "tau-bench-airline"
    res = runner.invoke(
        app,
        [
            "traces",
            "stats",
            str(d / "traces.json"),
            "--tools",
            str(d / "tool_schemas.json"),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert list(data) == ["inputs", "total"]
    (inp,) = data["inputs"]
    assert list(inp) == ["path", "format", *COUNTERS]
    assert list(data["total"]) == COUNTERS
    assert inp["format"] == "tau-bench" and inp["path"].endswith("traces.json")
    assert data["total"]["tool_calls"] == 282 and data["total"]["unpaired_calls"] == 0
    assert sum(data["total"]["by_tool"].values()) == 282


def test_import_writes_canonical_jsonl_that_reimports_equal(
    tmp_path: Path, shared_traces: Path
) -> None:
    """`traces import -o` writes one trace per line; importing that gives equal traces."""
    src = shared_traces / "tau-bench-airline" / "traces.json"
    out = tmp_path / "airline.jsonl"
    res = runner.invoke(app, ["traces", "import", str(src), "-o", str(out), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["traces"] == 50
    assert len(out.read_text().splitlines()) == 50
    assert import_file(out).traces == import_file(src).traces


def test_validate_exit_codes(tmp_path: Path, fixtures: Path) -> None:
    """validate exits 0 with only warnings, 1 on a malformed record or an error finding."""
    ok = runner.invoke(
        app, ["traces", "validate", str(fixtures / "openai-chat" / "requests.jsonl")]
    )
    assert ok.exit_code == 0, ok.output
    assert "invalid_arguments" in ok.stdout
    bad = runner.invoke(
        app, ["traces", "validate", "--json", str(fixtures / "openai-chat" / "malformed.jsonl")]
    )
    assert bad.exit_code == 1
    data = json.loads(bad.stdout)
    assert data["errors"] == 2 and data["traces"] == 2
    assert data["malformed_records"][0]["field"] == "messages[1].tool_calls[0].id"
    orphan = tmp_path / "orphan.json"
    orphan.write_text(
        json.dumps(
            [
                {"role": "user", "content": "x"},
                {"role": "tool", "tool_call_id": "nope", "content": "?"},
            ]
        )
    )
    res = runner.invoke(app, ["traces", "validate", str(orphan)])
    assert res.exit_code == 1 and "unpaired_result" in res.stdout


def test_show_renders_calls_and_results(shared_traces: Path) -> None:
    """show prints the chosen trace with tool calls and results visible."""
    res = runner.invoke(
        app,
        [
            "traces",
            "show",
            str(shared_traces / "tau-bench-airline" / "traces.json"),
            "--trace",
            "task-2/trial-0",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "task-2/trial-0" in res.stdout
    assert "→ get_user_details(" in res.stdout
    assert "←" in res.stdout
    missing = runner.invoke(
        app,
        [
            "traces",
            "show",
            str(shared_traces / "tau-bench-airline" / "traces.json"),
            "--trace",
            "nope",
        ],
    )
    assert missing.exit_code == 1


def test_formats_lists_registry() -> None:
    """formats --json lists every importer with a description."""
    res = runner.invoke(app, ["traces", "formats", "--json"])
    rows = json.loads(res.stdout)
    assert {"deploysim", "openai-chat", "tau-bench"} <= {r["name"] for r in rows}
    assert all(r["description"] for r in rows)


def test_our_errors_print_one_line_and_exit_2(tmp_path: Path) -> None:
    """The console script turns a DeploysimError into one clear line on stderr and exit code 2."""
    p = tmp_path / "weird.json"
    p.write_text('{"hello": 1}')
    out = subprocess.run(
        [sys.executable, "-m", "deploysim", "traces", "stats", str(p)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert "error:" in out.stderr and "weird.json" in out.stderr
    assert "Traceback" not in out.stderr
