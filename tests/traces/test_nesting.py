"""Deeply nested trace content is a clear record error, never a RecursionError (issue 11, #12)."""

import json
from pathlib import Path

import pytest

from deploysim.errors import InputError, ToolSchemaError, TraceFormatError
from deploysim.traces import (
    MAX_NESTING,
    Trace,
    import_file,
    load_tools_file,
    loads_bounded,
    nesting_error,
    validate,
    write_traces,
)
from tests.traces.hostile import GOOD, call_record, deep_array, dumps, jsonl


def _deep_record(levels: int) -> str:
    return '{"messages": ' + deep_array(levels) + "}"


def test_a_record_nested_200k_levels_names_file_record_and_field(tmp_path: Path) -> None:
    """200,000 nested arrays in one JSONL record raise TraceFormatError (an InputError, so
    every command exits 2) naming the file, the record and the field; no RecursionError."""
    p = jsonl(tmp_path / "deep.jsonl", [dumps(GOOD), _deep_record(200_000), dumps(GOOD)])
    with pytest.raises(TraceFormatError) as e:
        import_file(p)
    assert isinstance(e.value, InputError)
    assert e.value.path == str(p) and e.value.record == 1
    assert (e.value.field or "").startswith("messages[0][0]")
    assert f"nested deeper than {MAX_NESTING} levels" in str(e.value)


def test_skip_invalid_skips_only_the_deep_record(tmp_path: Path) -> None:
    """--skip-invalid leaves out the deep record alone: the good records around it import."""
    p = jsonl(tmp_path / "deep.jsonl", [dumps(GOOD), _deep_record(200_000), dumps(GOOD)])
    result = import_file(p, skip_invalid=True)
    assert len(result.traces) == 2
    assert [(s.record, s.reason) for s in result.skipped] == [
        (1, f"nested deeper than {MAX_NESTING} levels")
    ]


def test_a_deep_item_of_a_json_list_spares_the_other_items(tmp_path: Path) -> None:
    """In one JSON document (a list of records) a 200k-deep item is cut without recursing, so
    the document still parses and only that item is skipped."""
    p = tmp_path / "list.json"
    p.write_text("[" + ",".join([dumps(GOOD), _deep_record(200_000), dumps(GOOD)]) + "]")
    result = import_file(p, format="openai-chat", skip_invalid=True)
    assert len(result.traces) == 2
    assert [s.record for s in result.skipped] == [1]


def test_arguments_string_nested_50k_levels_is_a_record_error(tmp_path: Path) -> None:
    """A tool call whose arguments string nests 50,000 levels is a TraceFormatError naming
    the arguments field; with --skip-invalid the other records import."""
    p = jsonl(
        tmp_path / "args.jsonl",
        [dumps(GOOD), dumps(call_record(deep_array(50_000))), dumps(GOOD)],
    )
    with pytest.raises(TraceFormatError) as e:
        import_file(p)
    assert e.value.record == 1
    assert (e.value.field or "").startswith("messages[1].tool_calls[0].function.arguments")
    assert "arguments string" in e.value.reason
    assert len(import_file(p, skip_invalid=True).traces) == 2


def test_json_string_attributes_are_bounded_too(tmp_path: Path) -> None:
    """A string the importer parses as JSON itself (SWE-agent's replay_config) is bounded
    like a record: a clear error naming that field."""
    traj = {
        "trajectory": [],
        "history": [{"role": "user", "content": "hi"}],
        "replay_config": deep_array(50_000),
        "info": {},
    }
    p = tmp_path / "deep.traj"
    p.write_text(json.dumps(traj))
    with pytest.raises(TraceFormatError) as e:
        import_file(p, format="swe-agent")
    assert (e.value.field or "").startswith("replay_config")
    assert "nested deeper" in e.value.reason


def test_yaml_deep_nesting_and_collection_aliases_are_refused(tmp_path: Path) -> None:
    """YAML trace files get the same depth bound, and aliases to lists or mappings (a
    'billion laughs' bomb expands exponentially on the first walk) are refused."""
    deep = tmp_path / "deep.yaml"
    deep.write_text("history: " + deep_array(50_000) + "\n")
    with pytest.raises(TraceFormatError, match="nested deeper than"):
        import_file(deep)
    bomb = tmp_path / "laughs.yaml"
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    bomb.write_text("\n".join(lines) + "\n")
    with pytest.raises(TraceFormatError, match="alias"):
        import_file(bomb)


def test_tools_file_nesting_is_bounded(tmp_path: Path) -> None:
    """A --tools file nested 200k levels is a ToolSchemaError naming the file and field."""
    p = tmp_path / "tools.json"
    p.write_text(
        '[{"type": "function", "function": {"name": "f", "parameters": '
        + deep_array(200_000)
        + "}}]"
    )
    with pytest.raises(ToolSchemaError, match=r"tools.json, field \[0\]\.function\.parameters"):
        load_tools_file(p)


def test_a_record_at_the_limit_goes_through_every_stage(tmp_path: Path) -> None:
    """The limit sits below where pydantic, jsonschema and json give up: arguments nested
    exactly MAX_NESTING levels import, validate, write and re-import equal."""
    args = '{"a": ' * (MAX_NESTING - 1) + "{}" + "}" * (MAX_NESTING - 1)
    record = call_record(args)
    # A schema that recurses as deep as the arguments do: jsonschema follows them down.
    schema = {"type": "object", "additionalProperties": {"$ref": "#"}}
    record["tools"] = [{"type": "function", "function": {"name": "f", "parameters": schema}}]
    p = jsonl(tmp_path / "edge.jsonl", [dumps(record)])
    (trace,) = import_file(p).traces
    assert validate(trace) == []
    out = tmp_path / "canonical.jsonl"
    write_traces([trace], out)
    assert import_file(out).traces == [trace]
    assert Trace.model_validate_json(out.read_text()) == trace


def test_bounded_loads_cuts_only_what_is_too_deep() -> None:
    """loads_bounded keeps every value within the limit, cuts the deep part without
    recursing, and nesting_error names the first container past the limit."""
    value = loads_bounded('{"ok": [1, {"s": "]]]"}], "deep": ' + deep_array(300_000) + "}")
    assert value["ok"] == [1, {"s": "]]]"}]
    deep = nesting_error(value, "record")
    assert deep is not None and deep.field.startswith("record.deep[0][0]")
    assert nesting_error({"a": [[{"b": [1]}]]}, "r", limit=3) == (
        "r.a[0][0]",
        "nested deeper than 3 levels",
    )
    assert nesting_error({"a": [[{"b": [1]}]]}, limit=5) is None
