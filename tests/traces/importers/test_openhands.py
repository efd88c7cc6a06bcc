import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deploysim.errors import TraceFormatError
from deploysim.traces import (
    Trace,
    detect_importer,
    import_file,
    import_traces,
    read_document,
    trace_stats,
    validate,
    write_traces,
)
from tests.traces.detection import assert_claims_no_other_format

FOLDER = "openhands-replay-trajectories"
FIXTURES = "openhands"
# From the folder's SOURCE.md: the tool actions of each trajectory besides finish.
REAL = {
    "basic.json": (["edit"], True),
    "basic_gui_mode.json": (["run", "edit", "edit", "run"], False),
    "basic_interactions.json": ([], True),
    "wrong_initial_state.json": (["read", "run", "read"], True),
}
EVENT_KINDS = {"agent_state_changed", "change_agent_state", "null", "recall"}


def _events(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text())
    return data if isinstance(data, list) else data["history"]


def _model_arguments(event: dict[str, Any]) -> str:
    tcm = event["tool_call_metadata"]
    (choice,) = tcm["model_response"]["choices"]
    (call,) = [c for c in choice["message"]["tool_calls"] if c["id"] == tcm["tool_call_id"]]
    return str(call["function"]["arguments"])


def _accounted(t: Trace) -> list[Any]:
    """Event ids the trace holds: in a message, or among its metadata events."""
    in_messages = [i for m in t.messages for i in m.metadata.get("event_ids", [])]
    return sorted(in_messages + [e["id"] for e in t.metadata["events"]])


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_trajectory_calls_and_results(shared_traces: Path, name: str) -> None:
    """Each real trajectory is one trace: its tool actions are calls with the arguments the
    model wrote, each answered by its observation; finish ends the run unanswered."""
    path = shared_traces / FOLDER / "trajs" / name
    f = import_file(path)
    assert f.format == "openhands"
    (t,) = f.traces
    actions, finished = REAL[name]
    events = _events(path)
    agent_actions = [e for e in events if "tool_call_metadata" in e and "action" in e]
    assert [e["action"] for e in agent_actions if e["action"] != "finish"] == actions
    s = trace_stats([t])
    assert s.tool_calls == len(actions) + finished
    assert (s.tool_results, s.unpaired_calls, s.unpaired_results) == (len(actions), finished, 0)
    assert [c.raw_arguments for c in t.tool_calls()] == [_model_arguments(e) for e in agent_actions]
    assert t.metadata.get("finished", False) is finished
    assert _accounted(t) == sorted(e["id"] for e in events)
    assert [x.code for x in validate(t) if x.code != "unpaired_call"] == []
    assert t.id == path.stem and t.raw == events


def test_real_edit_keeps_the_file_text_only_the_model_response_holds(shared_traces: Path) -> None:
    """basic.json's create call carries the whole file: the action's own args do not."""
    path = shared_traces / FOLDER / "trajs" / "basic.json"
    events = _events(path)
    (t,) = import_file(path).traces
    create = t.tool_calls()[0]
    assert events[1]["args"]["content"] == ""
    assert create.name == "str_replace_editor" and create.arguments is not None
    assert create.arguments["command"] == "create"
    assert create.arguments["file_text"].startswith("import random\n")
    assert t.messages[1].text == events[1]["args"]["thought"]
    assert t.tool("str_replace_editor").kind == "editor"
    assert t.tool_results()[0].output == events[2]["content"]


def test_real_gui_export_keeps_state_events(shared_traces: Path) -> None:
    """The GUI export's state changes and null observations go to metadata, in order."""
    path = shared_traces / FOLDER / "trajs" / "basic_gui_mode.json"
    events = _events(path)
    (t,) = import_file(path).traces
    expected = [e for e in events if (e.get("action") or e.get("observation")) in EVENT_KINDS]
    assert t.metadata["events"] == expected and len(expected) == 8
    assert t.metadata["final_agent_state"] == "awaiting_user_input"
    server = t.tool_results()[-1]
    assert server.structured["metadata"]["exit_code"] == -1
    assert t.tool("execute_bash").kind == "shell"


def test_two_calls_of_one_response_and_an_error_observation(fixtures: Path) -> None:
    """Calls of one model response share a message; an error observation is an error
    result; recall and state events are kept in metadata."""
    (t,) = import_file(fixtures / FIXTURES / "error_observation.json").traces
    assistant = t.messages[1]
    assert [c.name for c in assistant.tool_calls] == ["execute_bash", "str_replace_editor"]
    assert assistant.text == "Let me look at the workspace and the file you mentioned."
    assert assistant.metadata["event_ids"] == [5, 7]
    ok, error = t.tool_results()
    assert (ok.is_error, ok.output) == (False, "README.md\nsrc")
    assert error.is_error and error.error_type is None and "does not exist" in error.output
    assert error.call_id == "toolu_view" and error.name == "str_replace_editor"
    assert [e.get("observation") or e.get("action") for e in t.metadata["events"]] == [
        "agent_state_changed",
        "recall",
        "recall",
        "agent_state_changed",
        "agent_state_changed",
    ]
    assert t.metadata["final_agent_state"] == "finished" and t.metadata["finished"] is True
    assert t.tool_calls()[-1].arguments == {
        "message": "The file does not exist; there is nothing to fix.",
        "task_completed": "false",
    }


def test_text_actions_become_the_calls_they_stand_for(fixtures: Path) -> None:
    """Actions without tool_call_metadata become calls of OpenHands' tools; a rejected
    action is a rejected result; an error nothing asked for is the model's next prompt; a
    command the user ran is a user call, answered like the agent's."""
    (t,) = import_file(fixtures / FIXTURES / "codeact_text_actions.json").traces
    *agent, mine = t.tool_calls()
    assert (mine.id, mine.requestor, mine.arguments) == (
        "openhands-11",
        "user",
        {"command": "cat /workspace/title.txt"},
    )
    assert t.messages[-2].role == "user" and t.tool_results()[-1].output == "Example Domain"
    assert all(c.requestor == "assistant" for c in agent)
    assert [(c.id, c.name, c.arguments) for c in agent] == [
        ("openhands-1", "web_read", {"url": "https://example.com"}),
        ("openhands-3", "execute_ipython_cell", {"code": "print(len('Example Domain'))"}),
        (
            "openhands-5",
            "str_replace_editor",
            {"command": "create", "path": "/workspace/title.txt", "file_text": "Example Domain\n"},
        ),
        ("openhands-7", "execute_bash", {"command": "rm -rf /workspace/*.bak"}),
    ]
    rejected = t.tool_results()[-2]
    assert (rejected.is_error, rejected.error_type) == (True, "rejected")
    stuck = t.messages[-4]
    assert stuck.role == "user" and stuck.metadata["observation"] == "error"
    assert stuck.text == "Agent got stuck in a loop"
    assert [(s.name, s.kind) for s in t.tools] == [
        ("web_read", "http"),
        ("execute_ipython_cell", "shell"),
        ("str_replace_editor", "editor"),
        ("execute_bash", "shell"),
    ]
    assert [x.code for x in validate(t)] == []


def test_evaluation_output_lines_are_runs(fixtures: Path) -> None:
    """Each output.jsonl line is a run: its history (also as old [action, observation]
    pairs) the trace, its system action the system message and tool specs, its facts
    metadata."""
    path = fixtures / FIXTURES / "eval_output.jsonl"
    first, second = import_file(path).traces
    assert (first.id, second.id) == ("django__django-11099", "astropy__astropy-12907")
    assert first.messages[0].role == "system"
    assert [s.name for s in first.tools] == ["execute_bash", "finish"]
    assert first.tool("execute_bash").parameters["properties"]["is_input"]["enum"] == [
        "true",
        "false",
    ]
    assert first.metadata["agent_class"] == "CodeActAgent"
    assert first.metadata["run"]["error"] == "RuntimeError: Agent reached maximum iteration"
    assert first.tool_results()[0].structured["metadata"]["exit_code"] == 1
    assert [c.arguments for c in second.tool_calls()] == [
        {"command": "cat astropy/modeling/separable.py | head -5"}
    ]
    assert trace_stats([second]).unpaired_calls == 0
    assert [e["observation"] for e in second.metadata["events"]] == ["null"]


def test_malformed_names_file_record_and_field(fixtures: Path) -> None:
    """An action whose tool_call_metadata has no call id fails naming event and field."""
    with pytest.raises(TraceFormatError) as e:
        import_file(fixtures / FIXTURES / "malformed.json")
    assert (e.value.record, e.value.field) == (0, "[1].tool_call_metadata.tool_call_id")
    assert "malformed.json" in str(e.value)


def test_detection_claims_only_openhands_files(fixtures: Path, shared_traces: Path) -> None:
    """OpenHands files are detected by content; no other format's file is claimed."""
    for p in sorted((fixtures / FIXTURES).iterdir()):
        imp = detect_importer(read_document(p))
        assert imp is not None and imp.name == "openhands", p
    assert_claims_no_other_format("openhands", fixtures, shared_traces, own=[FOLDER])


def test_canonical_round_trip(fixtures: Path, shared_traces: Path, tmp_path: Path) -> None:
    """OpenHands traces survive the canonical JSONL round trip unchanged."""
    traces = import_traces([shared_traces / FOLDER]).traces
    traces += import_traces([fixtures / FIXTURES], skip_invalid=True).traces
    assert len(traces) == 4 + 4
    out = tmp_path / "oh.jsonl"
    write_traces(traces, out)
    assert import_file(out).traces == traces


_IDS = st.sampled_from([0, 1, 2, "1", None, True])
_CALL_IDS = st.sampled_from(["c1", "c2", 7, None])
_EVENT = st.fixed_dictionaries(
    {
        "id": _IDS,
        "source": st.sampled_from(["agent", "user", "environment"]),
    },
    optional={
        "action": st.sampled_from(["run", "read", "edit", "message", "finish", "system", "mcp"]),
        "observation": st.sampled_from(["run", "error", "null", "user_rejected", "read"]),
        "cause": _IDS,
        "args": st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {},
                optional={
                    "command": st.text(max_size=3),
                    "thought": st.one_of(st.text(max_size=3), st.integers()),
                    "content": st.one_of(st.text(max_size=3), st.none()),
                    "tools": st.lists(st.just({"name": "t"}), max_size=2),
                    "name": st.sampled_from(["", "x"]),
                },
            ),
        ),
        "content": st.one_of(st.text(max_size=3), st.lists(st.text(max_size=2), max_size=2)),
        "extras": st.one_of(st.none(), st.just({"error_id": "E"}), st.just([])),
        "tool_call_metadata": st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {"tool_call_id": _CALL_IDS, "function_name": st.sampled_from(["execute_bash", 3])},
                optional={"model_response": st.just({"id": "r", "choices": [{"message": {}}]})},
            ),
        ),
    },
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=st.lists(_EVENT, min_size=1, max_size=8))
def test_any_event_stream_imports_or_names_the_event(tmp_path: Path, events: list[Any]) -> None:
    """Events with any causes, call ids and shapes import, or fail with a TraceFormatError
    naming the file and the event."""
    p = tmp_path / "events.json"
    p.write_text(json.dumps(events))
    try:
        result = import_file(p, format="openhands")
    except TraceFormatError as e:
        assert "events.json" in str(e) and (e.field is None or e.field.startswith("["))
        return
    for t in result.traces:
        assert Trace.model_validate_json(t.model_dump_json()) == t
        assert trace_stats([t]).unpaired_results == 0
