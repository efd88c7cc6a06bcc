from pathlib import Path
from typing import Any

import pytest
from anthropic.types import Message as AnthropicMessage
from anthropic.types import MessageParam
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming
from pydantic import TypeAdapter

from deploysim.errors import TraceFormatError
from deploysim.traces import (
    Reasoning,
    Text,
    ToolCall,
    ToolResult,
    Trace,
    import_file,
    pair_calls,
    read_document,
    validate,
    write_traces,
)
from deploysim.traces._builtin_tools import builtin_tool
from tests.traces.detection import assert_claims_no_other_format
from tests.traces.sdk_check import FORBID, assert_no_extras, materialize, write_record

FMT = "anthropic"
_REQUEST = TypeAdapter(list[MessageCreateParamsNonStreaming], config=FORBID)
_MESSAGES = TypeAdapter(list[MessageParam], config=FORBID)


def _trace(fixtures: Path, index: int) -> Trace:
    return import_file(fixtures / FMT / "messages.jsonl").traces[index]


def test_fixtures_match_the_anthropic_sdk_types(fixtures: Path) -> None:
    """Requests (without the logged response) and responses are valid in the Anthropic SDK types."""
    for rec in read_document(fixtures / FMT / "messages.jsonl").data:
        request = {k: v for k, v in rec.get("request", rec).items() if k != "response"}
        materialize(_REQUEST.validate_python([request]))
        assert_no_extras(AnthropicMessage.model_validate(rec["response"]), "response")
    materialize(_MESSAGES.validate_python(read_document(fixtures / FMT / "conversation.json").data))


def test_detected_by_content(fixtures: Path) -> None:
    """Request lines and a bare message list are recognized without --format."""
    for name, traces in (("messages.jsonl", 4), ("conversation.json", 1)):
        f = import_file(fixtures / FMT / name)
        assert (f.format, len(f.traces)) == (FMT, traces)


def test_does_not_claim_other_formats(fixtures: Path, shared_traces: Path) -> None:
    """The sniff says no to every other format's fixtures (OpenAI chat included) and real traces."""
    assert_claims_no_other_format(FMT, fixtures, shared_traces)


def test_text_only_requests_need_an_anthropic_marker(tmp_path: Path) -> None:
    """Plain text turns are left to openai-chat; a top-level system prompt makes them ours."""
    plain = {"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "hi"}]}
    assert import_file(write_record(tmp_path, plain)).format == "openai-chat"
    with_system = {**plain, "system": "Be brief."}
    assert import_file(write_record(tmp_path, with_system, "s.json")).format == FMT


def test_coding_session_splits_user_turns(fixtures: Path) -> None:
    """tool_result blocks become a tool message before the user's own text; thinking is kept."""
    t = _trace(fixtures, 0)
    assert t.id == "msg_01Ab3Cd5Ef7Gh9Ij1Kl3Mn5P" == t.metadata["response_id"]
    assert [m.role for m in t.messages] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "user",
        "assistant",
    ]
    assert t.messages[0].text.startswith("You are a careful software engineer")
    thinking = t.messages[2].parts[0]
    assert isinstance(thinking, Reasoning) and thinking.text.startswith("Let me look")
    assert thinking.opaque is not None and thinking.opaque.startswith("EqQB")
    assert [s.provider_type for s in t.tools] == ["bash_20250124", "text_editor_20250728"]
    assert t.tool("str_replace_based_edit_tool") == builtin_tool(
        "text_editor_20250728", "str_replace_based_edit_tool"
    )
    edit, bash_fail, bash_ok = t.tool_calls()[1:]
    assert bash_ok.arguments == {"command": "cd /repo && python3 -m pytest -q tests/test_export.py"}
    assert edit.raw_arguments is None  # Anthropic input is already an object
    results = {r.call_id: r for r in t.tool_results()}
    assert results[edit.id].output == "The file /repo/export/csv_writer.py has been edited."
    assert results[edit.id].structured == [{"type": "text", "text": results[edit.id].output}]
    assert results[bash_fail.id].is_error and not results[bash_ok.id].is_error
    assert t.messages[8].text == "Also make sure Windows line endings in notes survive."
    assert t.messages[-1].id == t.id and "csv module" in t.messages[-1].text
    assert t.metadata["model"] == "claude-sonnet-4-5" and t.metadata["stop_reason"] == "end_turn"
    assert t.metadata["thinking"] == {"type": "enabled", "budget_tokens": 4000}
    assert len(pair_calls(t).pairs) == 4
    assert validate(t) == []


def test_custom_tools_keep_their_schema_and_redacted_thinking(fixtures: Path) -> None:
    """``type: custom`` tools keep input_schema; redacted thinking is opaque; errors are flagged."""
    t = _trace(fixtures, 1)
    assert t.id == "msg_01Qw2Er3Ty4Ui5Op6As7Df8G"
    assert [s.name for s in t.tools] == ["list_events", "create_event", "send_email"]
    assert t.tool("create_event").parameters["required"] == ["title", "start", "duration_min"]
    redacted = t.messages[1].parts[0]
    assert isinstance(redacted, Reasoning) and redacted.redacted and redacted.text == ""
    assert redacted.opaque is not None and redacted.opaque.startswith("EmwK")
    parallel = t.messages[3]
    assert parallel.text.startswith("You're free") and len(parallel.tool_calls) == 2
    created, bounced = t.messages[4].tool_results
    assert not created.is_error
    assert bounced.is_error and bounced.output == "SMTP 550: mailbox unavailable"
    assert t.metadata["tool_choice"] == {"type": "auto"}
    assert validate(t) == []


def test_server_tools_run_by_the_provider(fixtures: Path) -> None:
    """server_tool_use is server-side; its results sit in tool messages inside the response."""
    t = _trace(fixtures, 2)
    assert [m.role for m in t.messages] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
    ]
    assert t.messages[2].id == t.id and t.messages[4].id is None
    found, limited = t.tool_calls()
    assert {found.executed_by, limited.executed_by} == {"server"}
    ok, err = t.tool_results()
    assert ok.call_id == found.id and "https://www.ecb.europa.eu/" in ok.output
    assert [r["title"] for r in ok.structured] == [
        "Key ECB interest rates",
        "ECB holds rates steady",
    ]
    assert (err.is_error, err.error_type) == (True, "max_uses_exceeded")
    spec = t.tool("web_search")
    assert spec is not None and (spec.kind, spec.provider_type) == (
        "provider-builtin",
        "web_search_20250305",
    )
    assert len(pair_calls(t).pairs) == 2
    assert t.messages[-1].text.startswith("The ECB's main refinancing rate is 2.15%")


def test_attachments_and_undeclared_builtins(fixtures: Path) -> None:
    """Images and documents become placeholders; called built-ins get their shipped schemas."""
    t = _trace(fixtures, 3)
    assert [p.text for p in t.messages[0].parts if isinstance(p, Text)] == [
        "[image]",
        "[document: q3-goals.txt]",
        "Here's the whiteboard photo and our goals. Remember the goals for next time.",
    ]
    assert t.tools == [
        builtin_tool("memory_20250818", "memory"),
        builtin_tool("bash_20250124", "bash"),
    ]
    assert validate(t) == []


def test_bare_message_list(fixtures: Path) -> None:
    """A message list is one trace with a stable content-derived id and no declared tools."""
    t = import_file(fixtures / FMT / "conversation.json").traces[0]
    assert t.id.startswith("anthropic-")
    assert t.id == import_file(fixtures / FMT / "conversation.json").traces[0].id
    assert [m.role for m in t.messages] == ["user", "assistant", "tool", "assistant"]
    assert t.tools == [] and [f.code for f in validate(t)] == ["no_tool_specs"]


def test_unknown_blocks_and_error_responses(tmp_path: Path) -> None:
    """Blocks of unknown type are kept in metadata; an error response is recorded, not a turn."""
    record = {
        "model": "claude-sonnet-4-5",
        "system": "s",
        "messages": [
            {
                "role": "user",
                "content": [{"type": "x_new_block", "data": 1}, {"type": "text", "text": "go"}],
            },
        ],
        "response": {
            "type": "error",
            "error": {"type": "overloaded_error", "message": "Overloaded"},
        },
    }
    t = import_file(write_record(tmp_path, record)).traces[0]
    user = t.messages[1]
    assert user.metadata == {"other_blocks": [{"type": "x_new_block", "data": 1}]}
    assert user.text == "go"
    assert t.metadata["response_error"] == {"type": "overloaded_error", "message": "Overloaded"}
    assert [m.role for m in t.messages] == ["system", "user"]


def test_result_blocks_and_code_execution(tmp_path: Path) -> None:
    """Result block lists flatten to text; code execution exit codes and MCP errors are flagged."""
    search = {
        "type": "search_result",
        "source": "https://wiki.example.com/deploy",
        "title": "Deploy runbook",
        "content": [{"type": "text", "text": "Roll back with `make rollback`."}],
    }
    image = {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}
    run = {"type": "bash_code_execution_result", "stdout": "", "stderr": "boom", "return_code": 2}
    assistant = [
        {"type": "tool_use", "id": "toolu_1", "name": "search_docs", "input": {"q": "rollback"}},
    ]
    response = [
        {
            "type": "server_tool_use",
            "id": "srvtoolu_1",
            "name": "bash_code_execution",
            "input": {"command": "false"},
        },
        {
            "type": "bash_code_execution_tool_result",
            "tool_use_id": "srvtoolu_1",
            "content": {**run, "content": []},
        },
        {
            "type": "mcp_tool_use",
            "id": "mcptoolu_1",
            "name": "get_page",
            "server_name": "wiki",
            "input": {"id": 7},
        },
        {
            "type": "mcp_tool_result",
            "tool_use_id": "mcptoolu_1",
            "is_error": True,
            "content": [{"type": "text", "text": "page 7 is private"}],
        },
    ]
    record = {
        "model": "claude-sonnet-4-5",
        "messages": [
            {"role": "user", "content": "How do I roll back?"},
            {"role": "assistant", "content": assistant},
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": [search, image]}
                ],
            },
        ],
        "response": {"id": "msg_1", "type": "message", "role": "assistant", "content": response},
    }
    t = import_file(write_record(tmp_path, record)).traces[0]
    found, ran, mcp = t.tool_results()
    assert (
        found.output == "[search_result: Deploy runbook]\nRoll back with `make rollback`.\n[image]"
    )
    assert (ran.output, ran.is_error) == ("boom", True)
    assert (mcp.output, mcp.is_error) == ("page 7 is private", True)
    assert [c.executed_by for c in t.tool_calls()] == ["client", "server", "server"]
    assert not pair_calls(t).unpaired_calls and not pair_calls(t).unpaired_results


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"system": "s", "messages": [{"role": "system", "content": "x"}]}, "messages[0].role"),
        (
            {
                "system": "s",
                "messages": [
                    {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "input": {}}]}
                ],
            },
            "messages[0].content[0].name",
        ),
        ({"system": [{"type": "text"}], "messages": []}, "system[0].text"),
        (
            {"system": "s", "messages": [], "tools": [{"type": "custom", "input_schema": {}}]},
            "tools[0]",
        ),
        ({"request": {"system": "s"}, "response": {"content": []}}, "request.messages"),
    ],
)
def test_malformed_fields_are_named(tmp_path: Path, record: Any, field: str) -> None:
    """Each malformed record fails as a TraceFormatError naming the field path."""
    with pytest.raises(TraceFormatError) as e:
        import_file(write_record(tmp_path, record), format=FMT)
    assert (e.value.record, e.value.field) == (0, field)


def test_malformed_record_names_record_and_field(fixtures: Path) -> None:
    """A tool_result without tool_use_id fails naming the file, record 1 and the field."""
    with pytest.raises(TraceFormatError) as e:
        import_file(fixtures / FMT / "malformed.jsonl")
    assert (e.value.record, e.value.field) == (1, "messages[2].content[0].tool_use_id")
    assert "malformed.jsonl" in str(e.value) and "record 1" in str(e.value)


def test_skip_invalid_keeps_good_records(fixtures: Path) -> None:
    """With skip_invalid the two good lines import and the three bad ones are listed."""
    f = import_file(fixtures / FMT / "malformed.jsonl", skip_invalid=True)
    assert [t.source.index for t in f.traces] == [0, 3]
    assert f.traces[0].id == "msg_ok_a"
    assert [(s.record, s.field) for s in f.skipped] == [
        (1, "messages[2].content[0].tool_use_id"),
        (2, None),
        (4, "response.content[0].name"),
    ]


def test_canonical_round_trip(fixtures: Path, tmp_path: Path) -> None:
    """Every imported trace survives JSON and the canonical JSONL file unchanged."""
    traces = [
        t
        for n in ("messages.jsonl", "conversation.json")
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
