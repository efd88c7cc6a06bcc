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


def _deep_jsonl(tmp_path: Path) -> Path:
    good = json.dumps({"messages": [{"role": "user", "content": "hi"}]})
    deep = '{"messages": ' + "[" * 200_000 + "]" * 200_000 + "}"
    p = tmp_path / "deep.jsonl"
    p.write_text("\n".join([good, deep, good]) + "\n")
    return p


def test_a_deeply_nested_record_exits_2_naming_it(tmp_path: Path) -> None:
    """A record nested 200k levels deep exits 2 (bad input) with one line naming the file,
    the record and the field; no RecursionError traceback. --skip-invalid keeps the rest."""
    p = _deep_jsonl(tmp_path)
    out = subprocess.run(
        [sys.executable, "-m", "deploysim", "traces", "import", str(p), "-o", str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2, out.stderr
    assert f"{p}, record 1, field messages[0][0]" in out.stderr
    assert "nested deeper than 100 levels" in out.stderr and "Traceback" not in out.stderr
    res = runner.invoke(
        app, ["traces", "import", str(p), "-o", str(tmp_path / "o.jsonl"), "--skip-invalid"]
    )
    assert res.exit_code == 0, res.output
    assert len((tmp_path / "o.jsonl").read_text().splitlines()) == 2
    assert "record 1, field messages[0]" in res.stderr


def _bomb(tmp_path: Path, shared_traces: Path) -> Path:
    from tests.traces.hostile import MiB, inspect_members, padded_sample, write_zip

    members = inspect_members(shared_traces / "inspect-ai" / "log_message_deduplication.eval")
    return write_zip(
        tmp_path / "big.eval", [*members, padded_sample("samples/2_epoch_1.json", 8 * MiB)]
    )


def test_max_ratio_and_max_uncompressed_flags_override_the_limits(
    tmp_path: Path, shared_traces: Path
) -> None:
    """A highly compressible member fails by default naming the member; --max-ratio lets it
    through; a --max-uncompressed under its size stops it again; a bad SIZE is a usage error."""
    bomb = _bomb(tmp_path, shared_traces)
    res = runner.invoke(app, ["traces", "stats", str(bomb), "--json"])
    assert res.exit_code != 0 and "samples/2_epoch_1.json" in str(res.exception)
    res = runner.invoke(app, ["traces", "stats", str(bomb), "--json", "--max-ratio", "10000"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["total"]["traces"] == 2
    args = ["traces", "stats", str(bomb), "--max-ratio", "10000", "--max-uncompressed", "4MiB"]
    res = runner.invoke(app, args)
    assert "inflates past 4.0 MiB" in str(res.exception)
    res = runner.invoke(app, ["traces", "stats", str(bomb), "--max-uncompressed", "lots"])
    assert res.exit_code == 2 and "not a size" in res.output


def test_symlinks_leaving_a_folder_warn_and_follow_symlinks_reads_them(tmp_path: Path) -> None:
    """`traces import DIR` warns on stderr about each link leading outside DIR, lists it in
    --json as skipped_links, and reads it only with --follow-symlinks."""
    good = json.dumps({"messages": [{"role": "user", "content": "hi"}]}) + "\n"
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "host.jsonl").write_text(good)
    root = tmp_path / "in"
    root.mkdir()
    (root / "own.jsonl").write_text(good)
    (root / "escape.jsonl").symlink_to(tmp_path / "outside" / "host.jsonl")
    out = tmp_path / "o.jsonl"
    res = runner.invoke(app, ["traces", "import", str(root), "-o", str(out), "--json"])
    assert res.exit_code == 0, res.output
    assert f"warning: skipped symlink {root / 'escape.jsonl'}" in res.stderr
    data = json.loads(res.stdout)
    assert data["traces"] == 1
    assert [link["path"] for link in data["skipped_links"]] == [str(root / "escape.jsonl")]
    res = runner.invoke(app, ["traces", "import", str(root), "-o", str(out), "--follow-symlinks"])
    assert res.exit_code == 0 and len(out.read_text().splitlines()) == 2


def test_the_input_limit_flags_are_documented_with_examples() -> None:
    """docs/cli.md shows each reading-limit flag in a `deploysim traces` example."""
    docs = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()
    examples = [ln for ln in docs.splitlines() if ln.startswith("deploysim traces ")]
    for flag in ("--max-uncompressed", "--max-ratio", "--follow-symlinks"):
        assert any(flag in ln for ln in examples), flag


def test_validate_reports_trace_ids_shared_across_inputs(tmp_path: Path, fixtures: Path) -> None:
    """Two inputs holding the same trace ids (a file imported twice, two exports of one run)
    are an error naming every place each id comes from: later stages key by trace id."""
    src = fixtures / "openai-chat" / "requests.jsonl"
    copy = tmp_path / "again.jsonl"
    copy.write_bytes(src.read_bytes())
    one = runner.invoke(app, ["traces", "validate", "--json", str(src)])
    assert json.loads(one.stdout)["errors"] == 0, one.output
    both = runner.invoke(app, ["traces", "validate", "--json", str(src), str(copy)])
    assert both.exit_code == 1
    data = json.loads(both.stdout)
    dups = [f for f in data["findings"] if f["code"] == "duplicate_trace_id"]
    assert len(dups) == data["traces"] // 2 and data["errors"] == len(dups)
    assert all(str(src) in f["message"] and str(copy) in f["message"] for f in dups)
