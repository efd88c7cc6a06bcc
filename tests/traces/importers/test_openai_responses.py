from pathlib import Path
from typing import Any

import pytest
from openai.types.responses import Response, ResponseInputItemParam, ResponseOutputItem
from openai.types.responses.response_create_params import ResponseCreateParamsNonStreaming
from pydantic import TypeAdapter

from deploysim.errors import TraceFormatError
from deploysim.traces import (
    Reasoning,
    Text,
    ToolCall,
    ToolResult,
    Trace,
    get_importer,
    import_file,
    pair_calls,
    read_document,
    validate,
    write_traces,
)
from deploysim.traces._builtin_tools import builtin_tool
from tests.traces.detection import assert_claims_no_other_format
from tests.traces.sdk_check import FORBID, assert_no_extras, materialize, write_record

FMT = "openai-responses"
_REQUEST = TypeAdapter(list[ResponseCreateParamsNonStreaming], config=FORBID)
_INPUT_ITEMS = TypeAdapter(list[ResponseInputItemParam], config=FORBID)
_OUTPUT_ITEM: TypeAdapter[Any] = TypeAdapter(ResponseOutputItem)


def _trace(fixtures: Path, index: int) -> Trace:
    return import_file(fixtures / FMT / "sessions.jsonl").traces[index]


def test_fixtures_match_the_openai_sdk_types(fixtures: Path) -> None:
    """Requests, responses and every item of the fixtures are valid in the OpenAI SDK types."""
    for rec in read_document(fixtures / FMT / "sessions.jsonl").data:
        materialize(_REQUEST.validate_python([rec.get("request", rec)]))
        if "response" in rec:
            assert_no_extras(Response.model_validate(rec["response"]), "response")
            for i, item in enumerate(rec["response"]["output"]):
                assert_no_extras(_OUTPUT_ITEM.validate_python(item), f"output[{i}]")
    materialize(
        _INPUT_ITEMS.validate_python(read_document(fixtures / FMT / "agent_items.json").data)
    )


def test_detected_by_content(fixtures: Path) -> None:
    """Request/response lines and a bare item list are recognized without --format."""
    for name, traces in (("sessions.jsonl", 4), ("agent_items.json", 1)):
        f = import_file(fixtures / FMT / name)
        assert (f.format, len(f.traces)) == (FMT, traces)


def test_does_not_claim_other_formats(fixtures: Path, shared_traces: Path) -> None:
    """The sniff says no to every other format's fixtures and to the real traces."""
    assert_claims_no_other_format(FMT, fixtures, shared_traces)


def test_plain_chat_without_responses_markers_is_not_claimed(tmp_path: Path) -> None:
    """Untyped role messages under ``input`` need a marker (model, instructions, typed items)."""
    bare = {"input": [{"role": "user", "content": "hi"}]}
    assert not get_importer(FMT).sniff(read_document(write_record(tmp_path, bare)))
    with_model = {**bare, "model": "gpt-4.1"}
    assert import_file(write_record(tmp_path, with_model, "m.json")).format == FMT


def test_shell_and_apply_patch_session(fixtures: Path) -> None:
    """Shell and apply_patch calls pair on call_id; non-zero exits and failed patches are errors."""
    t = _trace(fixtures, 0)
    assert t.id == "resp_07c1d2e3f4a5b6c70168f0a1b2c3d4e0"
    assert [(s.name, s.provider_type) for s in t.tools] == [
        ("shell", "shell"),
        ("apply_patch", "apply_patch"),
        ("update_plan", None),
    ]
    assert t.tool("shell") == builtin_tool("shell")
    assert t.metadata["model"] == "gpt-5.1-codex"
    assert t.metadata["response_id"] == t.id and t.metadata["status"] == "completed"
    assert t.metadata["usage"]["output_tokens"] == 212
    assert [m.role for m in t.messages[:3]] == ["system", "system", "user"]
    assert t.messages[0].metadata == {"source": "instructions"}
    assert t.messages[1].metadata == {"original_role": "developer"}
    reasoning = t.messages[3].parts[0]
    assert isinstance(reasoning, Reasoning) and reasoning.opaque.startswith("gAAAA")
    assert "Reproducing the bug" in reasoning.text
    shell = [c for c in t.tool_calls() if c.name == "shell"]
    assert shell[1].arguments == {
        "commands": ["sed -n '1,20p' billing/totals.py", "git status --short"],
        "timeout_ms": 10000,
        "max_output_length": 12000,
    }
    results = {r.call_id: r for r in t.tool_results()}
    assert results[shell[0].id].is_error and "1 failed" in results[shell[0].id].output
    assert not results[shell[1].id].is_error
    assert results[shell[1].id].output.startswith("from decimal import ROUND_DOWN")
    patches = [c for c in t.tool_calls() if c.name == "apply_patch"]
    assert patches[0].arguments["type"] == "update_file"
    assert [results[c.id].is_error for c in patches] == [False, True]
    pairing = pair_calls(t)
    assert len(pairing.pairs) == 6 and not pairing.unpaired_calls and not pairing.unpaired_results
    assert validate(t) == []
    last = t.messages[-1]
    assert last.role == "assistant" and "half-up" in last.text
    assert last.metadata["item_ids"] == [
        "rs_07c1d2e3f4a5b6c70168f0a1b2c3d511",
        "msg_07c1d2e3f4a5b6c70168f0a1b2c3d512",
    ]
    assert t.raw == read_document(fixtures / FMT / "sessions.jsonl").data[0]


def test_function_calls_pair_on_call_id_and_keep_bad_arguments(fixtures: Path) -> None:
    """Parallel calls share one assistant message; results use call_id; bad JSON stays raw."""
    t = _trace(fixtures, 1)
    assert t.id.startswith("openai-responses-") and t.id == _trace(fixtures, 1).id
    assert [m.role for m in t.messages] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
        "assistant",
        "tool",
    ]
    parallel = t.messages[2]
    assert [c.id for c in parallel.tool_calls] == ["call_2Jx8Yq1mNv4R", "call_7Fh3Tk9pWc6L"]
    assert parallel.id == "fc_0b5e6f7a8b9c0d1e0168f0b2c3d4e5f1"
    listed = t.messages[3].tool_results[1]
    assert listed.output == '{"error":"order A1043 not found"}'
    assert listed.structured == [{"type": "input_text", "text": listed.output}]
    bad = t.tool_calls()[-1]
    assert bad.arguments is None and bad.raw_arguments.endswith('"damaged in transit"')
    assert bad.parse_error is not None and "invalid JSON" in bad.parse_error
    assert [f.code for f in validate(t)] == ["invalid_arguments"]
    assert t.metadata == {
        "model": "gpt-4.1-mini",
        "tool_choice": "auto",
        "parallel_tool_calls": True,
    }


def test_hosted_mcp_and_web_search_are_server_side(fixtures: Path) -> None:
    """mcp_call holds call and result; listed MCP tools become specs; web search has no result."""
    t = _trace(fixtures, 2)
    assert t.messages[0].role == "user" and t.messages[0].text.startswith("Which Python")
    ask, wiki, search = t.tool_calls()
    assert {c.executed_by for c in (ask, wiki, search)} == {"server"}
    assert (
        ask.id == "mcp_0d3a4b5c6d7e8f900168f0c3d4e5f603"
        and ask.arguments["repoName"] == "pallets/click"
    )
    ok, failed = t.tool_results()
    assert (ok.call_id, ok.is_error) == (ask.id, False) and "Python 3.10" in ok.output
    assert failed.is_error and failed.error_type == "mcp_tool_execution_error"
    assert failed.output == "Repository pallets/clik not found"
    assert search.name == "web_search" and search.arguments["query"].startswith("click 8.3")
    assert not pair_calls(t).unpaired_calls  # server calls are not expected to have a result
    spec = t.tool("ask_question")
    assert spec is not None and spec.provider_type == "mcp"
    assert spec.parameters["required"] == ["repoName", "question"]
    assert t.tool("web_search").provider_type == "web_search"
    assert t.metadata["mcp_servers"] == ["deepwiki"]
    assert [f.level for f in validate(t)] == []


def test_local_shell_custom_tools_and_unknown_items(fixtures: Path) -> None:
    """local_shell outputs pair whichever id they carry; unknown items stay in metadata."""
    t = _trace(fixtures, 3)
    first = t.messages[0]
    assert first.parts == [] and [i["type"] for i in first.metadata["other_items"]] == [
        "compaction"
    ]
    ls_ok, ls_bad = [c for c in t.tool_calls() if c.name == "local_shell"]
    assert ls_ok.arguments == {
        "command": ["sqlite3", "analytics.db", ".tables"],
        "env": {"PAGER": "cat"},
        "working_directory": "/srv/analytics",
        "timeout_ms": 10000,
    }
    results = {r.call_id: r for r in t.tool_results()}
    assert (
        not results[ls_ok.id].is_error
        and results[ls_ok.id].structured["metadata"]["exit_code"] == 0
    )
    assert results[ls_bad.id].is_error  # the output item named the call by its item id
    sql = next(c for c in t.tool_calls() if c.name == "run_sql")
    assert sql.raw_arguments == sql.arguments["input"] and sql.raw_arguments.startswith("SELECT")
    assert t.tool("run_sql").parameters["properties"] == {"input": {"type": "string"}}
    assert "24 months" in results[t.tool_calls()[3].id].output
    assert results[t.tool_calls()[4].id].output == "58.9\n"
    assert t.metadata["previous_response_id"] == "resp_0f1e2d3c4b5a69780168f0d4e5f6a6ff"
    assert not pair_calls(t).unpaired_results and not pair_calls(t).unpaired_calls


def test_bare_item_list_with_computer_use(fixtures: Path) -> None:
    """An item list is one trace; the undeclared computer tool gets an OpenAI-shaped schema."""
    t = import_file(fixtures / FMT / "agent_items.json").traces[0]
    assert [m.role for m in t.messages[:2]] == ["system", "user"]
    assert [(s.name, s.provider_type) for s in t.tools] == [("computer", "computer_use_preview")]
    shot, batch = [c for c in t.tool_calls() if c.name == "computer"]
    assert shot.arguments == {"action": {"type": "screenshot"}}
    assert [a["type"] for a in batch.arguments["actions"]] == ["click", "type", "keypress"]
    result = t.tool_results()[0]
    assert result.output == "[screenshot]" and result.structured["type"] == "computer_screenshot"
    codes = sorted(f.code for f in validate(t))
    assert codes == ["invalid_arguments", "undeclared_tool"]  # notify_oncall, not computer


def test_undeclared_builtins_timeouts_and_unknown_items(tmp_path: Path) -> None:
    """Called built-ins get their shipped schema; a timeout is an error; new item types are kept."""
    items = [
        {"role": "user", "content": "build it"},
        {
            "type": "shell_call",
            "call_id": "c1",
            "action": {"commands": ["make"], "timeout_ms": 500},
        },
        {"type": "x_future_item", "id": "xf_1", "payload": {"a": 1}},
        {
            "type": "shell_call_output",
            "call_id": "c1",
            "output": [{"stdout": "cc -o app", "stderr": "", "outcome": {"type": "timeout"}}],
        },
        {
            "type": "apply_patch_call",
            "call_id": "c2",
            "status": "completed",
            "operation": {"type": "delete_file", "path": "old.txt"},
        },
        {"type": "apply_patch_call_output", "call_id": "c2", "status": "completed"},
    ]
    t = import_file(write_record(tmp_path, {"model": "gpt-5", "input": items})).traces[0]
    assert t.tools == [builtin_tool("shell"), builtin_tool("apply_patch")]
    timeout = t.tool_results()[0]
    assert (timeout.is_error, timeout.error_type, timeout.output) == (True, "timeout", "cc -o app")
    assert t.messages[1].metadata["other_items"] == [items[2]]
    assert t.messages[1].tool_calls[0].id == "c1"
    assert validate(t) == []


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (
            {"input": [{"type": "shell_call", "call_id": "c", "action": {}}]},
            "input[0].action.commands",
        ),
        ({"input": [{"type": "message", "role": "tool", "content": "x"}]}, "input[0].role"),
        ({"input": [{"type": "function_call_output", "output": "x"}]}, "input[0].call_id"),
        ({"input": "hi", "tools": [{"type": "function", "description": "no name"}]}, "tools[0]"),
        (
            {"request": {"model": "gpt-5"}, "response": {"object": "response", "id": "r"}},
            "request.input",
        ),
    ],
)
def test_malformed_fields_are_named(tmp_path: Path, record: Any, field: str) -> None:
    """Each malformed record fails as a TraceFormatError naming the field path."""
    with pytest.raises(TraceFormatError) as e:
        import_file(write_record(tmp_path, record), format=FMT)
    assert (e.value.record, e.value.field) == (0, field)


def test_malformed_record_names_record_and_field(fixtures: Path) -> None:
    """A function_call without call_id fails naming the file, record 1 and the field."""
    with pytest.raises(TraceFormatError) as e:
        import_file(fixtures / FMT / "malformed.jsonl")
    assert (e.value.record, e.value.field) == (1, "input[1].call_id")
    assert "malformed.jsonl" in str(e.value) and "record 1" in str(e.value)


def test_skip_invalid_keeps_good_records(fixtures: Path) -> None:
    """With skip_invalid the two good lines import and the three bad ones are listed."""
    f = import_file(fixtures / FMT / "malformed.jsonl", skip_invalid=True)
    assert [t.source.index for t in f.traces] == [0, 3]
    assert [(s.record, s.field) for s in f.skipped] == [
        (1, "input[1].call_id"),
        (2, None),
        (4, "response.output[0].content"),
    ]
    assert "not JSON" in f.skipped[1].reason


def test_canonical_round_trip(fixtures: Path, tmp_path: Path) -> None:
    """Every imported trace survives JSON and the canonical JSONL file unchanged."""
    traces = [
        t
        for n in ("sessions.jsonl", "agent_items.json")
        for t in import_file(fixtures / FMT / n).traces
    ]
    for t in traces:
        assert Trace.model_validate_json(t.model_dump_json()) == t
    write_traces(traces, tmp_path / "traces.jsonl")
    again = import_file(tmp_path / "traces.jsonl")
    assert again.format == "deploysim" and again.traces == traces
    assert {type(p) for t in traces for m in t.messages for p in m.parts} == {
        Text,
        Reasoning,
        ToolCall,
        ToolResult,
    }
