from pathlib import Path

from deploysim.traces import import_file, load_tools_file, trace_stats, validate


def test_tau_bench_airline_real_traces(shared_traces: Path) -> None:
    """The 50 real tau-bench airline traces import with 282 calls, all paired, no errors."""
    d = shared_traces / "tau-bench-airline"
    f = import_file(d / "traces.json", tools=load_tools_file(d / "tool_schemas.json"))
    assert f.format == "tau-bench"
    s = trace_stats(f.traces)
    assert (s.traces, s.tool_calls, s.tool_results) == (50, 282, 282)
    assert (s.unpaired_calls, s.unpaired_results) == (0, 0)
    assert s.tools == 14
    assert len({t.id for t in f.traces}) == 50
    assert [x for t in f.traces for x in validate(t) if x.level == "error"] == []
    # schemas from --tools fit every recorded call
    assert [x for t in f.traces for x in validate(t) if x.code == "schema_mismatch"] == []
    first = f.traces[0]
    assert first.id == "task-0/trial-0"
    assert first.metadata["reward"] == 0.0
    assert first.messages[0].role == "system"


def test_tau_bench_without_tools_hints_at_tools_file(shared_traces: Path) -> None:
    """tau-bench traces carry no schemas: validation says to pass --tools."""
    f = import_file(shared_traces / "tau-bench-airline" / "traces.json")
    assert all(t.tools == [] for t in f.traces)
    assert {x.code for x in validate(f.traces[0])} == {"no_tool_specs"}
