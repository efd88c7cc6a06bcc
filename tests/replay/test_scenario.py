"""Scenario files: parsing, paths, cut points, loading errors, authoring and listing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from deploysim.replay import (
    SHARED_DATA_VAR,
    ScenarioError,
    agent_turns,
    cut_points,
    load_scenario,
    parse_cut,
    read_scenario,
)
from deploysim.replay._author import list_scenarios, new_scenario, validate_scenario
from deploysim.traces import import_file, load_tools_file

REPO = Path(__file__).resolve().parents[2]


def _airline_traces(shared_traces: Path):  # type: ignore[no-untyped-def]
    d = shared_traces / "tau-bench-airline"
    return import_file(d / "traces.json", tools=load_tools_file(d / "tool_schemas.json")).traces


def test_cut_points_follow_agent_turns(shared_traces: Path) -> None:
    """Turns start at assistant messages after a user (or system) message; cuts pick them."""
    trace = _airline_traces(shared_traces)[0]
    turns = agent_turns(trace)
    assert [t.at for t in turns] == [2, 4, 6, 12, 16, 20, 28]
    assert all(trace.messages[t.at - 1].role in ("user", "system") for t in turns)
    assert cut_points(trace, "last") == [turns[-1]]
    assert cut_points(trace, "each") == turns
    assert cut_points(trace, 3) == [turns[2]] and cut_points(trace, -1) == [turns[-1]]
    assert cut_points(trace, 8) == [] and cut_points(trace, -8) == []


def test_parse_cut_rejects_nonsense() -> None:
    """``last``, ``each`` and non-zero integers are cuts; anything else is a clear error."""
    assert parse_cut("LAST") == "last" and parse_cut("4") == 4 and parse_cut(-1) == -1
    for bad in ("0", "first", 0):
        with pytest.raises(ValueError, match="turn"):
            parse_cut(bad)


def test_a_bad_field_names_the_file_and_the_field(write_scenario: Callable[..., Path]) -> None:
    """An invalid mode is a ScenarioError naming the file and the field."""
    p = write_scenario(traces=[{"path": "x.json"}], mode="replay-everything")
    with pytest.raises(ScenarioError) as e:
        read_scenario(p)
    assert e.value.field == "mode" and str(p) in str(e.value)


def test_name_and_suite_default_from_the_path(write_scenario: Callable[..., Path]) -> None:
    """A scenario without name and suite takes its file stem and folder name."""
    p = write_scenario(name="last-turn", suite="my-suite", traces=[{"path": "t.json"}])
    sc = read_scenario(p)
    assert (sc.name, sc.suite, sc.cut, sc.mode) == ("last-turn", "my-suite", "last", "resample")


def test_shared_data_variable_and_fallback(
    write_scenario: Callable[..., Path], shared_traces: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """${DEPLOYSIM_SHARED_DATA} expands from the environment, else from the fallback folder."""
    fields = {
        "traces": [
            {
                "path": "${DEPLOYSIM_SHARED_DATA}/traces/tau-bench-airline/traces.json",
                "tools": "${DEPLOYSIM_SHARED_DATA}/traces/tau-bench-airline/tool_schemas.json",
                "limit": 2,
            }
        ]
    }
    p = write_scenario(**fields)
    monkeypatch.setenv(SHARED_DATA_VAR, str(shared_traces.parent))
    assert len(load_scenario(p).traces) == 2
    monkeypatch.delenv(SHARED_DATA_VAR)
    monkeypatch.chdir(REPO)  # the repository's ../shared/data, or /work/shared/data
    assert len(load_scenario(p).traces) == 2


def test_unset_variables_and_missing_files_are_named(
    write_scenario: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unset variable and a missing trace file fail at load time, naming the field."""
    monkeypatch.delenv("NO_SUCH_DEPLOYSIM_VAR", raising=False)
    p = write_scenario(traces=[{"path": "${NO_SUCH_DEPLOYSIM_VAR}/t.json"}])
    with pytest.raises(ScenarioError, match="NO_SUCH_DEPLOYSIM_VAR") as e:
        load_scenario(p)
    assert e.value.field == "traces[0].path"
    q = write_scenario(name="missing", traces=[{"path": "nowhere.json"}])
    with pytest.raises(ScenarioError, match="no such trace file") as e2:
        load_scenario(q)
    assert e2.value.field == "traces[0].path"


def test_unknown_ids_bindings_and_snapshots_fail_at_load(
    write_scenario: Callable[..., Path], shared_traces: Path, tmp_path: Path
) -> None:
    """Unknown trace ids, bindings for undeclared tools and bad snapshots are harness errors."""
    d = shared_traces / "tau-bench-airline"
    ts = {"path": str(d / "traces.json"), "tools": str(d / "tool_schemas.json")}
    cases = [
        ({"traces": [{**ts, "ids": ["task-999/trial-0"]}]}, "traces[0].ids"),
        ({"traces": [ts], "bindings": {"no_such_tool": "recorded"}}, "bindings"),
        ({"traces": [ts], "snapshot": str(tmp_path / "nosnap")}, "snapshot"),
    ]
    for i, (fields, field) in enumerate(cases):
        with pytest.raises(ScenarioError) as e:
            load_scenario(write_scenario(name=f"bad{i}", **fields))
        assert e.value.field == field


def test_the_shipped_suites_validate(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every scenario in scenarios/ that needs no generated data loads and selects samples."""
    monkeypatch.chdir(REPO)
    infos = list_scenarios(REPO / "scenarios")
    assert {i.suite for i in infos} >= {
        "tau-bench-airline",
        "tau2-retail",
        "shop",
        "dev-workstation",
    }
    assert all(i.error is None for i in infos)
    for suite in ("tau2-retail", "shop", "dev-workstation"):
        for i in (x for x in infos if x.suite == suite):
            report = validate_scenario(i.path)
            assert report.ok, (i.path, report.errors)
            assert report.samples > 0


def test_new_scenario_writes_portable_paths(tmp_path: Path, shared_traces: Path) -> None:
    """`scenario new` refers to shared data through the variable, to a snapshot relatively."""
    d = shared_traces / "tau2-retail"
    out = tmp_path / "scenarios" / "retail" / "mine.yaml"
    new_scenario(out, [d / "traces.json"], tools=d / "tool_schemas.json", tags=["x"])
    text = out.read_text()
    assert "${DEPLOYSIM_SHARED_DATA}/traces/tau2-retail/traces.json" in text
    assert "binding: recorded" in text  # no snapshot: recorded-only, said in the file
    sc = load_scenario(out)
    assert len(sc.traces) == 40 and sc.snapshot is None
    with pytest.raises(ScenarioError, match="exists"):
        new_scenario(out, [d / "traces.json"])
    snap = new_scenario(
        tmp_path / "scenarios" / "shop" / "s.yaml",
        [REPO / "scenarios" / "shop" / "traces.jsonl"],
        snapshot=REPO / "env_snapshots" / "shop",
    )
    written = read_scenario(snap).snapshot
    assert written is not None and not written.startswith("/")  # relative to the scenario
    assert load_scenario(snap).snapshot is not None


def test_unknown_grader_names_are_errors(tmp_path: Path, shared_traces: Path) -> None:
    """A scenario naming a grader nobody registered (a typo such as 'riks') does not validate:
    the error names the field, suggests the close name and lists the known graders."""
    d = shared_traces / "tau2-retail"
    path = tmp_path / "scenarios" / "retail" / "mine.yaml"
    new_scenario(path, [d / "traces.json"], tools=d / "tool_schemas.json")
    assert validate_scenario(path).ok
    path.write_text(path.read_text() + "graders: [riks, divergence]\n")
    report = validate_scenario(path)
    assert not report.ok
    [err] = [e for e in report.errors if "riks" in e]
    assert err.startswith("graders[0]: unknown grader 'riks'") and "did you mean 'risk'" in err
    assert "divergence" in err
