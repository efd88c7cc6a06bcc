"""Importers given arbitrary JSON raise nothing but our own error types."""

import csv
import json
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from deploysim.errors import DeploysimError, TraceFormatError
from deploysim.traces import Trace, import_file, importer_names, loads_bounded, nesting_error

KEYS = [
    "role",
    "content",
    "messages",
    "tool_calls",
    "tool_call_id",
    "id",
    "function",
    "arguments",
    "name",
    "type",
    "input",
    "output",
    "call_id",
    "tools",
    "parameters",
    "traj",
    "task_id",
    "simulations",
    "steps",
    "history",
    "action",
    "observation",
    "tool_use_id",
    "is_error",
    "samples",
    "attributes",
    "resourceSpans",
    "spans",
    "schema_version",
    "agent",
    "source",
    "parts",
    "text",
    "requestor",
    "error",
    "suite_name",
    "user_task_id",
    "events",
    "format",
    # claude-code, openhands, otel SDK dumps, toolbench, langchain
    "uuid",
    "parentUuid",
    "isSidechain",
    "sessionId",
    "message",
    "toolUseResult",
    "args",
    "cause",
    "tool_call_metadata",
    "extras",
    "context",
    "parent",
    "span_id",
    "trace_id",
    "node_type",
    "children",
    "answer_generation",
    "train_messages",
    "intermediate_steps",
]
ROLES = ["user", "assistant", "tool", "system", "agent", "developer", "function"]
TYPES = [
    "text",
    "tool_use",
    "tool_result",
    "function_call",
    "function_call_output",
    "message",
    "reasoning",
    "tool_call",
    "tool_call_response",
    "function",
    "thinking",
    "mcp_call",
    "summary",
    "Action Node",
    "Thought",
    "run",
    "read",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from(ROLES + TYPES),
    st.text(max_size=8),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(KEYS), children, max_size=6),
    ),
    max_leaves=30,
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=json_values, fmt=st.one_of(st.none(), st.sampled_from(sorted(set(importer_names())))))
# Found by this test in CI: an unhashable value where a detector looks a string up in a set.
@example(value=[{"source": []}], fmt=None)
@example(value=[{"type": {}, "message": []}], fmt=None)
@example(value={"node_type": [], "children": []}, fmt=None)
def test_importers_raise_only_our_errors(tmp_path: Path, value: object, fmt: str | None) -> None:
    """Any JSON, detected or forced into any importer, imports or raises a DeploysimError
    that names the file."""
    p = tmp_path / "fuzz.json"
    p.write_text(json.dumps(value))
    try:
        result = import_file(p, format=fmt)
    except DeploysimError as e:
        assert "fuzz.json" in str(e)
    else:
        for t in result.traces:
            assert Trace.model_validate_json(t.model_dump_json()) == t


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(json_values, min_size=1, max_size=4),
    fmt=st.one_of(st.none(), st.sampled_from(sorted(set(importer_names())))),
)
def test_jsonl_with_skip_invalid_never_raises_for_records(
    tmp_path: Path, lines: list[object], fmt: str | None
) -> None:
    """With skip_invalid, a bad record never stops the import: only file-level errors raise,
    and every skipped record names the file and a record index."""
    p = tmp_path / "fuzz.jsonl"
    p.write_text("\n".join(json.dumps(v) for v in lines))
    try:
        result = import_file(p, format=fmt, skip_invalid=True)
    except TraceFormatError as e:
        assert e.record is None, f"record error escaped --skip-invalid: {e}"
        return
    except DeploysimError as e:  # the file as a whole was not recognized
        assert "fuzz.jsonl" in str(e)
        return
    for s in result.skipped:
        assert s.path == str(p) and s.reason
        assert s.record is None or s.record >= 0


any_json = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12)
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=100, deadline=None)
@given(value=any_json, levels=st.integers(1_000, 5_000), objects=st.booleans())
def test_cutting_a_deep_subtree_keeps_every_other_value(
    value: object, levels: int, objects: bool
) -> None:
    """Beside a subtree too deep for the parser, loads_bounded returns every other value
    exactly as json.loads would (strings holding brackets, quotes and escapes included), and
    nesting_error names the deep field."""
    deep = '{"k":' * levels + "0" + "}" * levels if objects else "[" * levels + "]" * levels
    kept = json.dumps(value)
    got = loads_bounded(f'{{"keep": {kept}, "deep": {deep}, "after": {kept}}}')
    assert got["keep"] == value and got["after"] == value
    found = nesting_error(got)
    assert found is not None and found.field.startswith("deep")


REPR_TOKENS = [
    "AgentAction(",
    "AgentStep(",
    "ToolAgentAction(",
    "array(",
    "tool=",
    "tool_input=",
    "log=",
    "action=",
    "observation=",
    "tool_call_id=",
    "'t'",
    "'x'",
    '"y"',
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    ",",
    ":",
    "nan",
    "None",
    "1",
    "-",
    "'intermediate_steps'",
    "'input'",
    "'output'",
    "\nThought: ",
    "\nAction: ",
    "\nAction Input: ",
    "\nObservation: ",
    "\nFinal Answer: ",
    "```",
]


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cells=st.lists(st.lists(st.sampled_from(REPR_TOKENS), max_size=25), min_size=1, max_size=3))
def test_csv_runs_raise_only_our_errors(tmp_path: Path, cells: list[list[str]]) -> None:
    """Any CSV cell of repr and ReAct fragments, read as LangChain runs, imports or is a
    skipped record naming its row; nothing else escapes."""
    p = tmp_path / "fuzz.csv"
    good = "[(AgentAction(tool='t', tool_input={}, log=''), 'ok')]"
    with p.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["input", "steps"])
        writer.writerow(["q", good])  # so the column is found and every fuzzed row is read
        writer.writerows([["q", "".join(c)] for c in cells])
    result = import_file(p, format="langchain-react-csv", skip_invalid=True)
    assert len(result.traces) + len(result.skipped) == len(cells) + 1
    assert all(s.record is not None and s.field == "steps" for s in result.skipped)
    for t in result.traces:
        assert Trace.model_validate_json(t.model_dump_json()) == t
