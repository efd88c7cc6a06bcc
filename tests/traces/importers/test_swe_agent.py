import json
from pathlib import Path

import pytest

from deploysim._errors import DeploysimError
from deploysim.errors import TraceFormatError
from deploysim.traces import (
    Reasoning,
    Text,
    Trace,
    detect_importer,
    import_file,
    import_traces,
    read_document,
    trace_stats,
    validate,
    write_traces,
)
from deploysim.traces.importers.swe_agent import COMMAND_TOOL, tools_from_command_docs

# Read off the files: calls = non-demo assistant entries with an action or tool_calls.
REAL = {
    "6e44b9__sweagenttestrepo-1c2844.traj": (4, "tool_calls"),
    "function_calling_simple.traj": (5, "tool_calls"),
    "marshmallow-code__marshmallow-1867.traj": (11, "tool_calls"),
    "pydicom__pydicom-1458.traj": (12, "action_text"),
    "rock.traj": (12, "action_text"),
    "str_replace_anthropic_demo.yaml": (4, "tool_calls"),
    "swe-agent__test-repo-i1.traj": (5, "action_text"),
    "warmup.traj": (7, "action_text"),
}
TEXT_FORM = "textkit__textkit-12.traj"
CALL_FORM = "textkit-12-function-calling.traj"


def _detected(path: Path) -> str | None:
    try:
        imp = detect_importer(read_document(path))
    except DeploysimError:
        return None
    return imp.name if imp else None


def _assistant_actions(path: Path) -> int:
    history = read_document(path).data["history"]
    return sum(
        1
        for e in history
        if e["role"] == "assistant"
        and not e.get("is_demo")
        and (e.get("tool_calls") or (e.get("action") or "").strip())
    )


@pytest.mark.parametrize("name", sorted(REAL))
def test_every_real_file_imports_with_its_calls(shared_traces: Path, name: str) -> None:
    """Each real SWE-agent file imports; calls equal assistant actions, all answered."""
    path = shared_traces / "swe-agent" / name
    f = import_file(path)
    assert f.format == "swe-agent"
    (t,) = f.traces
    calls, form = REAL[name]
    s = trace_stats([t])
    assert s.tool_calls == calls == _assistant_actions(path)
    assert (s.tool_results, s.unpaired_calls, s.unpaired_results) == (calls, 0, 0)
    assert t.metadata["form"] == form
    assert t.id == path.stem
    assert [x for x in validate(t) if x.level == "error"] == []
    assert [x for x in validate(t) if x.code == "schema_mismatch"] == []
    if form == "action_text":
        assert {c.name for c in t.tool_calls()} == {COMMAND_TOOL}
        assert t.tool(COMMAND_TOOL) is not None and t.tool(COMMAND_TOOL).kind == "shell"


def test_real_text_actions_become_command_calls(shared_traces: Path) -> None:
    """Older files: each action is a command call; the next user entry is its result."""
    path = shared_traces / "swe-agent" / "pydicom__pydicom-1458.traj"
    raw = json.loads(path.read_text())
    (t,) = import_file(path).traces
    actions = [e["action"] for e in raw["history"] if e["role"] == "assistant"]
    assert [c.arguments for c in t.tool_calls()] == [{"command": a} for a in actions]
    assert [c.raw_arguments for c in t.tool_calls()] == actions
    assert actions[1].startswith("edit 1:1\n") and actions[1].rstrip().endswith("end_of_edit")
    assert len({c.id for c in t.tool_calls()}) == 12
    demo = t.messages[1]
    assert demo.role == "user" and demo.metadata["is_demo"] is True and not demo.tool_calls
    first_result = t.messages[4]
    assert first_result.role == "tool" and first_result.metadata["original_role"] == "user"
    assert first_result.tool_results[0].output == raw["history"][4]["content"]
    # the history ends on `submit`: its output comes from the trajectory
    last = t.messages[-1]
    assert last.metadata == {"from_trajectory": True}
    assert last.tool_results[0].output == raw["trajectory"][-1]["observation"]
    assert t.metadata["exit_status"] == "submitted"
    assert t.metadata["submission"] == raw["info"]["submission"]
    assert t.metadata["environment"] == "swe_main"
    assert t.metadata["model_stats"] == raw["info"]["model_stats"]


def test_real_tool_call_form_and_command_docs(shared_traces: Path) -> None:
    """Function-calling files pair by tool_call_ids; replay_config's docs give the schemas."""
    path = shared_traces / "swe-agent" / "6e44b9__sweagenttestrepo-1c2844.traj"
    (t,) = import_file(path).traces
    first = t.tool_calls()[0]
    assert (first.id, first.name) == ("call_fJuazlMUN5fQDQ73G6XSpYpx", "find_file")
    assert first.arguments == {"file_name": "missing_colon.py"}
    assert first.raw_arguments == '{"file_name":"missing_colon.py"}'
    assert t.tool_results()[0].call_id == first.id
    edit = t.tool("edit")
    assert edit is not None and (edit.kind, edit.effect) == ("editor", "write")
    assert edit.parameters["required"] == ["search", "replace"]
    assert edit.parameters["properties"]["replace-all"]["type"] == "boolean"
    assert t.tool("bash") is not None and t.tool("bash").kind == "shell"
    assert t.tool("find_file") is not None and t.tool("find_file").effect == "read"
    assert t.metadata["instance_id"] == "SWE-agent__test-repo-i1"
    # the final submit step never reached the history; the trajectory still counts it
    assert t.metadata["trajectory_steps"] == 5 and len(t.tool_calls()) == 4


def test_yaml_demo_imports(shared_traces: Path) -> None:
    """The demo YAML (a history and replay_config) imports with its editor and shell tools."""
    path = shared_traces / "swe-agent" / "str_replace_anthropic_demo.yaml"
    assert read_document(path).kind == "yaml"
    f = import_file(path)
    assert f.format == "swe-agent"
    (t,) = f.traces
    assert [x.name for x in t.tools] == ["bash", "str_replace_editor", "submit"]
    assert t.tool("str_replace_editor").kind == "editor"
    assert t.tool_calls()[0].arguments == {"command": "view", "path": "/swe-agent-test-repo"}
    assert t.metadata["instance_id"] == "1c2844"
    assert t.messages[0].role == "user"


def test_text_form_fixture_demo_entries_stay_text(fixtures: Path) -> None:
    """Demo entries (even an assistant one with an action) are prompt text, never calls."""
    (t,) = import_file(fixtures / "swe-agent" / TEXT_FORM).traces
    demos = [m for m in t.messages if m.metadata.get("is_demo")]
    assert [m.role for m in demos] == ["user", "assistant", "user"]
    assert all(not m.tool_calls and isinstance(m.parts[0], Text) for m in demos)
    assert [c.raw_arguments for c in t.tool_calls()][2] == (
        'edit 6:6\n    return text.strip("-")\nend_of_edit\n'
    )
    assert [x.name for x in t.tools] == [COMMAND_TOOL]
    assert t.tool_results()[-1].output.startswith("\ndiff --git a/textkit/slug.py")
    assert t.messages[-1].metadata == {"from_trajectory": True}
    assert t.metadata["form"] == "action_text" and t.metadata["model_stats"]["api_calls"] == 5


def test_call_form_fixture_thinking_blocks_and_bad_json(fixtures: Path) -> None:
    """Thinking blocks become reasoning; arguments that are not JSON are a finding, kept raw."""
    f = import_file(fixtures / "swe-agent" / CALL_FORM)
    (t,) = f.traces
    first = t.messages[2]
    assert isinstance(first.parts[0], Reasoning)
    assert first.parts[0].text.startswith("The bug is probably")
    assert first.parts[0].opaque == "EqQBCkgIARABGAIiQJ0w"
    bad = t.tool_calls()[1]
    assert bad.arguments is None and bad.parse_error and bad.raw_arguments.startswith('{"command"')
    assert [x.code for x in validate(t)] == ["invalid_arguments"]
    # content blocks are flattened to the observation text
    assert t.tool_results()[0].output.startswith("Here's the result of running `cat -n`")
    assert [x.name for x in t.tools] == [
        "bash",
        "str_replace_editor",
        "submit",
    ]  # JSON-string config
    assert t.metadata["instance_id"] == "textkit-12"
    assert t.metadata["swe_agent_version"] == "1.0.1"
    assert t.messages[-1].metadata == {"from_trajectory": True}


def test_command_docs_parse_to_schemas() -> None:
    """command_docs text gives one spec per command with typed, required arguments."""
    docs = (
        "open:\n  docstring: opens the file\n  signature: open <path> [<line_number>]\n"
        "  arguments:\n    - path (string) [required]: the path\n"
        "    - line_number (integer) [optional]: the line\n\nsubmit:\n  docstring: submits\n"
    )
    opened, submit = tools_from_command_docs(docs)
    assert opened.name == "open" and opened.description == "opens the file"
    assert opened.parameters == {
        "type": "object",
        "properties": {
            "path": {"description": "the path", "type": "string"},
            "line_number": {"description": "the line", "type": "integer"},
        },
        "required": ["path"],
    }
    assert (submit.name, submit.parameters) == ("submit", {"type": "object", "properties": {}})


def test_detection_claims_only_swe_agent_files(fixtures: Path, shared_traces: Path) -> None:
    """SWE-agent files are detected by content; no other format's file is read as swe-agent."""
    assert _detected(fixtures / "swe-agent" / TEXT_FORM) == "swe-agent"
    assert _detected(fixtures / "swe-agent" / CALL_FORM) == "swe-agent"
    others = [p for p in fixtures.rglob("*") if p.is_file() and p.parent.name != "swe-agent"]
    others += [p for p in shared_traces.rglob("*") if p.is_file() and p.parent.name != "swe-agent"]
    assert others
    assert [p for p in others if _detected(p) == "swe-agent"] == []


def test_malformed_file_names_record_and_field(fixtures: Path) -> None:
    """An observation without tool_call_ids fails naming record 0 and the history entry."""
    with pytest.raises(TraceFormatError) as e:
        import_file(fixtures / "swe-agent" / "malformed.traj")
    assert (e.value.record, e.value.field) == (0, "history[3].tool_call_ids")
    assert "malformed.traj" in str(e.value)


def test_skip_invalid_keeps_good_files(fixtures: Path) -> None:
    """Importing the fixture folder with skip_invalid keeps the good files, lists the bad one."""
    result = import_traces([fixtures / "swe-agent"], skip_invalid=True)
    assert sorted(t.id for t in result.traces) == [
        "textkit-12-function-calling",
        "textkit__textkit-12",
    ]
    assert [(Path(s.path).name, s.record, s.field) for s in result.skipped] == [
        ("malformed.traj", 0, "history[3].tool_call_ids")
    ]


def test_canonical_round_trip(fixtures: Path, shared_traces: Path, tmp_path: Path) -> None:
    """SWE-agent traces survive JSON and canonical JSONL round trips unchanged."""
    traces = import_traces([shared_traces / "swe-agent"]).traces
    traces += [
        t for n in (TEXT_FORM, CALL_FORM) for t in import_file(fixtures / "swe-agent" / n).traces
    ]
    assert len(traces) == len(REAL) + 2
    for t in traces:
        assert Trace.model_validate_json(t.model_dump_json()) == t
    out = tmp_path / "swe.jsonl"
    write_traces(traces, out)
    assert import_file(out).traces == traces
