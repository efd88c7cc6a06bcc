import json
from pathlib import Path
from typing import Any

import pytest

from deploysim.errors import TraceFormatError
from deploysim.traces import (
    Reasoning,
    Text,
    ToolCall,
    Trace,
    import_file,
    validate,
)
from tests.traces.detection import assert_claims_no_other_format


def _atif(fixtures: Path, name: str) -> Path:
    return fixtures / "atif" / name


def _trajectory(session: str, steps: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "schema_version": "ATIF-v1.7",
        "session_id": session,
        "agent": {"name": "tiny", "version": "0.1"},
        "steps": steps,
        **extra,
    }


def test_detected_by_content(fixtures: Path, shared_traces: Path) -> None:
    """ATIF files are detected; the sniffer claims no other fixture or real trace file."""
    for name in ("terminal_task.json", "trajectories.jsonl", "malformed.jsonl"):
        assert import_file(_atif(fixtures, name), skip_invalid=True).format == "atif"
    assert_claims_no_other_format("atif", fixtures, shared_traces)


def test_agent_steps_become_calls_and_results(fixtures: Path) -> None:
    """Agent steps give reasoning, text and calls; linked observation results follow as tools."""
    main = import_file(_atif(fixtures, "terminal_task.json")).traces[0]
    assert main.id == "traj-main-7c1e" and main.source.locator is None
    assert [m.role for m in main.messages] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
    ]
    assert main.messages[1].text.startswith("The nightly backup job fails.")
    assert main.messages[1].metadata["omitted_content"] == ["image"]
    reasoning, text, call = main.messages[2].parts
    assert reasoning == Reasoning(text="The script probably references a missing directory.")
    assert text == Text(text="Let me look at the script first.")
    assert isinstance(call, ToolCall) and call.arguments == {
        "keystrokes": "cat /opt/backup/run.sh\n",
        "duration": 1.0,
    }
    assert main.messages[2].metadata == {
        "step_id": 3,
        "timestamp": "2026-01-14T09:00:06+00:00",
        "model": "anthropic/claude-sonnet-4-5",
    }
    assert main.messages[3].tool_results[0].name == "bash_command"
    assert [s.name for s in main.tools] == ["bash_command", "task_complete"]
    assert main.metadata["agent"] == {"name": "terminus-2", "version": "2.0.3"}
    assert main.metadata["model"] == "anthropic/claude-sonnet-4-5"
    assert main.metadata["extra"] == {"task_id": "fix-backup-script", "reward": 1.0}
    assert main.metadata["final_metrics"]["total_steps"] == 7


def test_errors_unlinked_observations_and_raw_arguments(fixtures: Path) -> None:
    """extra.is_error flags a result; an unlinked observation is user feedback; raw args kept."""
    main = import_file(_atif(fixtures, "terminal_task.json")).traces[0]
    failed = main.messages[5].tool_results[0]
    assert failed.is_error and failed.call_id == "call_4_1"
    assert failed.output.startswith("ls: cannot access '/mnt/backups'")
    feedback = main.messages[7]
    assert feedback.role == "user" and feedback.metadata == {"step_id": 5, "observation": True}
    assert feedback.text.endswith("rc=0\n")
    raw = main.messages[8].tool_calls[0]
    assert raw.arguments is None and raw.raw_arguments == '{"keystrokes": "history | tail -3\\n"'
    assert raw.parse_error and raw.parse_error.startswith("invalid JSON")
    assert main.messages[9].metadata["subagent_trajectory_ref"] == [
        {"trajectory_id": "traj-summary-01"}
    ]
    assert main.messages[11].tool_results[0].output == ""
    findings = [(f.code, f.call_id) for f in validate(main)]
    assert findings == [
        ("unpaired_call", "call_5_1"),
        ("unpaired_call", "call_5_2"),
        ("invalid_arguments", "call_6_1"),
    ]


def test_subagents_are_their_own_traces(fixtures: Path) -> None:
    """An embedded subagent trajectory is a trace after its parent, linked both ways."""
    main, sub = import_file(_atif(fixtures, "terminal_task.json")).traces
    assert sub.id == "traj-main-7c1e/traj-summary-01"
    assert (sub.source.index, sub.source.locator) == (0, "subagent_trajectories[0]")
    assert main.metadata["subagents"] == [sub.id] and sub.metadata["parent"] == main.id
    assert [m.role for m in sub.messages] == ["user", "assistant"]
    assert sub.metadata["model"] == "anthropic/claude-haiku-4-5"
    assert sub.raw["trajectory_id"] == "traj-summary-01"
    assert main.raw["subagent_trajectories"][0] == sub.raw


def test_jsonl_of_trajectories(fixtures: Path) -> None:
    """Each line is a trajectory; ids from session_id, else content-derived and stable."""
    first, second = import_file(_atif(fixtures, "trajectories.jsonl")).traces
    assert first.id == "sess-aa01" and first.metadata["schema_version"] == "ATIF-v1.2"
    assert first.tool_calls()[0].arguments == {"code": "print(17 * 23)"}
    assert first.tool_results()[0].output == "391\n"
    assert second.id.startswith("atif-")
    assert import_file(_atif(fixtures, "trajectories.jsonl")).traces[1].id == second.id
    (denied,) = second.tool_results()
    assert denied.is_error and denied.output == "Permission denied"


def test_json_list_and_nested_subagent_errors(tmp_path: Path) -> None:
    """A JSON list holds many trajectories; a bad subagent step names its full path."""
    ok = _trajectory("s-1", [{"step_id": 1, "source": "user", "message": "hi"}])
    bad_sub = _trajectory(
        "s-2",
        [{"step_id": 1, "source": "user", "message": "go"}],
        subagent_trajectories=[
            {
                **_trajectory("s-2", [{"step_id": 1, "source": "robot", "message": "beep"}]),
                "trajectory_id": "sub-a",
            }
        ],
    )
    path = tmp_path / "list.json"
    path.write_text(json.dumps([ok, bad_sub]))
    with pytest.raises(TraceFormatError) as e:
        import_file(path)
    assert e.value.record == 1
    assert e.value.field == "subagent_trajectories[0].steps[0].source"
    f = import_file(path, skip_invalid=True)
    assert [t.id for t in f.traces] == ["s-1", "s-2"]
    assert f.traces[1].metadata["subagents"] == ["s-2/sub-a"]


def test_malformed_record_names_record_and_field(fixtures: Path) -> None:
    """A tool call without function_name fails naming record 1 and the field path."""
    with pytest.raises(TraceFormatError) as e:
        import_file(_atif(fixtures, "malformed.jsonl"))
    assert e.value.record == 1
    assert e.value.field == "steps[1].tool_calls[0].function_name"
    assert "malformed.jsonl" in str(e.value)


def test_skip_invalid_keeps_good_records(fixtures: Path) -> None:
    """With skip_invalid the good trajectories import and each bad one is listed."""
    f = import_file(_atif(fixtures, "malformed.jsonl"), skip_invalid=True)
    assert [t.id for t in f.traces] == ["ok-0", "ok-3"]
    assert [(s.record, s.field) for s in f.skipped] == [
        (1, "steps[1].tool_calls[0].function_name"),
        (2, "steps[0].source"),
    ]
    assert "unknown source 'narrator'" in f.skipped[1].reason


def test_round_trip(fixtures: Path) -> None:
    """Every imported trace survives a JSON round trip unchanged."""
    traces = [
        t
        for n in ("terminal_task.json", "trajectories.jsonl")
        for t in import_file(_atif(fixtures, n)).traces
    ]
    assert len(traces) == 4
    for t in traces:
        assert Trace.model_validate_json(t.model_dump_json()) == t
