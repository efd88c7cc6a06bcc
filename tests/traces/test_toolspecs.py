import json
from pathlib import Path

import pytest

from deploysim.errors import ToolSchemaError
from deploysim.traces import load_tools_file, toolspec_from_definition

SCHEMA = {"type": "object", "properties": {"q": {"type": "string"}}}


@pytest.mark.parametrize(
    "definition",
    [
        {
            "type": "function",
            "function": {"name": "search", "description": "d", "parameters": SCHEMA},
        },
        {"type": "function", "name": "search", "description": "d", "parameters": SCHEMA},
        {"name": "search", "description": "d", "input_schema": SCHEMA},
        {"name": "search", "description": "d", "inputSchema": SCHEMA},
    ],
)
def test_every_provider_shape_reads_the_same(definition: dict[str, object]) -> None:
    """OpenAI chat, Responses, Anthropic and MCP tool definitions give the same ToolSpec."""
    spec = toolspec_from_definition(definition)
    assert (spec.name, spec.description, spec.parameters) == ("search", "d", SCHEMA)
    assert (spec.kind, spec.effect) == ("function", "read")


def test_builtins_get_shipped_schemas() -> None:
    """Anthropic bash / editor and OpenAI shell carry no schema: ours is used."""
    bash = toolspec_from_definition({"type": "bash_20250124", "name": "bash"})
    assert bash.kind == "shell" and "command" in bash.parameters["properties"]
    editor = toolspec_from_definition(
        {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"}
    )
    assert editor.kind == "editor" and editor.parameters["required"] == ["command", "path"]
    shell = toolspec_from_definition({"type": "shell"})
    assert shell.name == "shell" and shell.provider_type == "shell"


@pytest.mark.parametrize(
    ("name", "kind", "effect"),
    [
        ("bash", "shell", "unknown"),
        ("execute_bash", "shell", "unknown"),
        ("str_replace_editor", "editor", "unknown"),
        ("run_sql", "sql", "unknown"),
        ("http_request", "http", "unknown"),
        ("get_user_details", "function", "read"),
        ("cancel_reservation", "function", "write"),
        ("frobnicate", "function", "unknown"),
    ],
)
def test_classification(name: str, kind: str, effect: str) -> None:
    """Tool kind and effect are guessed from the name, unknown when it can't tell."""
    spec = toolspec_from_definition({"name": name})
    assert (spec.kind, spec.effect) == (kind, effect)


def test_tools_file_errors_name_file_and_entry(tmp_path: Path) -> None:
    """A bad --tools file fails naming the file and the entry."""
    p = tmp_path / "tools.json"
    p.write_text(json.dumps([{"name": "ok"}, {"description": "no name"}]))
    with pytest.raises(ToolSchemaError, match=r"tools.json, tool 1"):
        load_tools_file(p)
    p.write_text("{")
    with pytest.raises(ToolSchemaError, match="not JSON"):
        load_tools_file(p)


def test_real_tools_files(shared_traces: Path) -> None:
    """The shipped tau-bench and tau2 schema files load completely."""
    assert len(load_tools_file(shared_traces / "tau-bench-airline" / "tool_schemas.json")) == 14
    assert len(load_tools_file(shared_traces / "tau2-retail" / "tool_schemas.json")) > 10
