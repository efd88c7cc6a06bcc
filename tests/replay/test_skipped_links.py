"""Scenario loading reports symlinks that leave a trace folder, as `traces import` does.

A scenario's trace folder is untrusted: a link in it to a host file is never read, and the
commands that load scenarios (`scenario validate`, `scenario new`, `replay`) say so on stderr
(`warning: skipped symlink LINK -> TARGET: why`) instead of dropping it silently.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from deploysim.cli.scenario import app as scenario_app
from deploysim.replay import load_scenario
from deploysim.traces import write_traces
from tests.reconstruct.test_function_tools import shop_traces

runner = CliRunner()


def _folder_with_escaping_link(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A trace folder holding one trace file and a link to a trace file outside it."""
    folder = tmp_path / "traces"
    folder.mkdir()
    write_traces(shop_traces(), folder / "shop.jsonl")
    outside = tmp_path / "host" / "other.jsonl"
    outside.parent.mkdir()
    write_traces(shop_traces(), outside)
    link = folder / "escape.jsonl"
    link.symlink_to(outside)
    return folder, link, outside


def test_load_scenario_lists_links_leaving_the_trace_folder(
    tmp_path: Path, write_scenario: Callable[..., Path]
) -> None:
    """load_scenario reads only the folder's own file and lists the escaping link with its
    resolved target; `scenario validate` warns about it on stderr and keeps it in --json."""
    folder, link, outside = _folder_with_escaping_link(tmp_path)
    scenario = write_scenario(traces=[{"path": str(folder)}])
    loaded = load_scenario(scenario)
    assert len(loaded.traces) == len(shop_traces())
    assert [(s.path, s.target) for s in loaded.skipped_links] == [(str(link), str(outside))]
    r = runner.invoke(scenario_app, ["validate", str(scenario), "--json"])
    assert r.exit_code == 0, r.output
    assert f"warning: skipped symlink {link} -> {outside}" in r.stderr
    [report] = json.loads(r.stdout)
    assert [s["path"] for s in report["skipped_links"]] == [str(link)]
