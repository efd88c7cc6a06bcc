"""Importers given arbitrary JSON raise nothing but our own error types."""

import contextlib
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deploysim.errors import DeploysimError
from deploysim.traces import import_file, importer_names

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
def test_importers_raise_only_our_errors(tmp_path: Path, value: object, fmt: str | None) -> None:
    """Any JSON, detected or forced into any importer, imports or raises a DeploysimError."""
    p = tmp_path / "fuzz.json"
    p.write_text(json.dumps(value))
    with contextlib.suppress(DeploysimError):
        import_file(p, format=fmt)


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
    """With skip_invalid, every record either imports or is listed as skipped."""
    p = tmp_path / "fuzz.jsonl"
    p.write_text("\n".join(json.dumps(v) for v in lines))
    try:
        result = import_file(p, format=fmt, skip_invalid=True)
    except DeploysimError:
        return  # the file as a whole was not recognized
    assert len(result.traces) + len(result.skipped) >= 1
