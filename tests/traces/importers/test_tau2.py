import json
from pathlib import Path

import pytest

from deploysim._errors import DeploysimError
from deploysim.errors import TraceFormatError
from deploysim.traces import (
    Text,
    ToolCall,
    Trace,
    detect_importer,
    import_file,
    load_tools_file,
    pair_calls,
    read_document,
    trace_stats,
    validate,
    write_traces,
)


def _detected(path: Path) -> str | None:
    try:
        imp = detect_importer(read_document(path))
    except DeploysimError:
        return None
    return imp.name if imp else None


def test_real_tau2_retail_traces(shared_traces: Path) -> None:
    """The 40 real tau2 retail simulations import with 299 calls and 299 results, all paired."""
    d = shared_traces / "tau2-retail"
    f = import_file(d / "traces.json", tools=load_tools_file(d / "tool_schemas.json"))
    assert f.format == "tau2"
    s = trace_stats(f.traces)
    assert (s.traces, s.tool_calls, s.tool_results) == (40, 299, 299)
    assert (s.unpaired_calls, s.unpaired_results) == (0, 0)
    raw = json.loads((d / "traces.json").read_text())
    assert [t.id for t in f.traces] == [sim["id"] for sim in raw["simulations"]]
    # schemas from --tools fit every recorded call, and nothing is inconsistent
    assert [x for t in f.traces for x in validate(t) if x.level == "error"] == []
    assert [x for t in f.traces for x in validate(t) if x.code == "schema_mismatch"] == []


def test_real_tau2_metadata_requestor_and_errors(shared_traces: Path) -> None:
    """Trace metadata holds the simulation facts and its task; messages keep turn and time."""
    f = import_file(shared_traces / "tau2-retail" / "traces.json")
    raw = json.loads((shared_traces / "tau2-retail" / "traces.json").read_text())
    first, sim = f.traces[0], raw["simulations"][0]
    assert first.metadata["simulation_id"] == sim["id"]
    assert first.metadata["task_id"] == "40"
    assert first.metadata["task"]["id"] == "40"
    assert first.metadata["task"]["evaluation_criteria"]["actions"]
    assert first.metadata["reward"] == 1.0
    assert (first.metadata["domain"], first.metadata["model"]) == ("retail", "gpt-4.1")
    assert first.metadata["git_commit"].startswith("b02b509")
    assert first.metadata["reward_info"]["db_check"] == {"db_match": True, "db_reward": 1.0}
    assert {k: first.metadata[k] for k in ("trial", "seed", "termination_reason")} == {
        "trial": 0,
        "seed": 626729,
        "termination_reason": "user_stop",
    }
    assert first.source.locator == "simulations[0]" and f.traces[3].source.index == 3
    for t in f.traces:
        assert all({"turn_idx", "timestamp"} <= m.metadata.keys() for m in t.messages)
        assert [m.metadata["turn_idx"] for m in t.messages] == list(range(len(t.messages)))
        assert t.metadata["task"]["id"] == t.metadata["task_id"]
    # the retail agent makes every call itself
    assert {c.requestor for t in f.traces for c in t.tool_calls()} == {"assistant"}
    errors = [r for t in f.traces for r in t.tool_results() if r.is_error]
    assert len(errors) == 12
    assert all(r.output.startswith("Error: ") for r in errors)


def test_tool_effects_name_every_called_tool(shared_traces: Path) -> None:
    """tool_effects.json and tool_schemas.json name every tool the traces call (for later use)."""
    d = shared_traces / "tau2-retail"
    effects = json.loads((d / "tool_effects.json").read_text())
    schemas = {t.name for t in load_tools_file(d / "tool_schemas.json")}
    called = {c.name for t in import_file(d / "traces.json").traces for c in t.tool_calls()}
    assert called <= set(effects) and called <= schemas


def test_user_side_tool_calls_keep_their_requestor(fixtures: Path) -> None:
    """Telecom: the simulated user's own tool calls are requestor='user' and pair with results."""
    f = import_file(fixtures / "tau2" / "telecom.json")
    assert f.format == "tau2"
    (t,) = f.traces
    calls = {c.name: c for c in t.tool_calls()}
    assert calls["check_status_bar"].requestor == "user"
    assert calls["toggle_airplane_mode"].requestor == "user"
    assert calls["get_customer_by_phone"].requestor == "assistant"
    assert calls["get_customer_by_phone"].arguments == {"phone_number": "555-123-2002"}
    pairing = pair_calls(t)
    assert len(pairing.pairs) == 3 and not pairing.unpaired_calls and not pairing.unpaired_results
    by_call = {p.call.call.name: t.messages[p.result.message_index] for p in pairing.pairs}
    assert by_call["check_status_bar"].metadata["requestor"] == "user"
    assert by_call["get_customer_by_phone"].metadata["requestor"] == "assistant"
    # a user message carrying both text and a tool call keeps both, in order
    user_call = t.messages[3]
    assert user_call.role == "user"
    assert [type(p) for p in user_call.parts] == [Text, ToolCall]
    assert user_call.text == "Let me check my status bar."


def test_tool_error_flag_becomes_is_error(fixtures: Path) -> None:
    """tau2's error=true marks the result as an error; other results are not errors."""
    (t,) = import_file(fixtures / "tau2" / "telecom.json").traces
    flags = {r.call_id: r.is_error for r in t.tool_results()}
    assert flags == {
        "call_Ut4qkN0pVYfBz2mE8aRZgH1c": False,
        "call_a8Jd2LwQm5sXo0TnVb7eHkPr": True,
        "call_Zr7bVh3Nq6cYx1LmPo9WsEtA": False,
    }
    assert t.metadata["task"]["user_scenario"]["instructions"]["domain"] == "telecom"
    assert t.metadata["domain"] == "telecom"
    assert t.metadata["reward"] == 1.0


def test_detection_claims_only_tau2_files(fixtures: Path, shared_traces: Path) -> None:
    """tau2 results are detected by content; no other format's file is read as tau2."""
    assert _detected(fixtures / "tau2" / "telecom.json") == "tau2"
    assert _detected(shared_traces / "tau2-retail" / "traces.json") == "tau2"
    others = [p for p in fixtures.rglob("*") if p.is_file() and p.parent.name != "tau2"]
    others += [p for p in shared_traces.rglob("*") if p.is_file() and "tau2" not in p.parts[-2]]
    assert others
    assert [p for p in others if _detected(p) == "tau2"] == []


def test_malformed_simulation_names_record_and_field(fixtures: Path) -> None:
    """A call without a name fails naming simulation 1 and the field path inside it."""
    with pytest.raises(TraceFormatError) as e:
        import_file(fixtures / "tau2" / "malformed.json")
    assert (e.value.record, e.value.field) == (1, "messages[6].tool_calls[0].name")
    assert "record 1" in str(e.value) and "malformed.json" in str(e.value)


def test_skip_invalid_keeps_good_simulations(fixtures: Path) -> None:
    """With skip_invalid the good simulations import; each bad one is listed with its field."""
    f = import_file(fixtures / "tau2" / "malformed.json", skip_invalid=True)
    assert [t.id for t in f.traces] == ["sim-ok", "sim-ok-2"]
    assert [(s.record, s.field) for s in f.skipped] == [
        (1, "messages[6].tool_calls[0].name"),
        (2, "messages[7].error"),
    ]
    assert "boolean" in f.skipped[1].reason


def test_canonical_round_trip(tmp_path: Path, fixtures: Path, shared_traces: Path) -> None:
    """tau2 traces survive JSON and canonical JSONL round trips unchanged."""
    traces = import_file(shared_traces / "tau2-retail" / "traces.json").traces
    traces += import_file(fixtures / "tau2" / "telecom.json").traces
    for t in traces:
        assert Trace.model_validate_json(t.model_dump_json()) == t
    out = tmp_path / "tau2.jsonl"
    assert write_traces(traces, out) == 41
    again = import_file(out)
    assert again.format == "deploysim" and again.traces == traces
