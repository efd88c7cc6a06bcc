"""Finding 12 (scrub side): deep nesting is bad input with a clear error, never a crash."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deploysim.errors import InputError
from deploysim.privacy import NestingError, Pseudonymizer, gate_files, scrub_traces, scrub_value
from deploysim.traces import ToolCall

from .conftest import KEY, make_trace


def _deep_dict(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = {"a": value}
    return value


def _deep_list(levels: int) -> Any:
    value: Any = []
    for _ in range(levels):
        value = [value]
    return value


def test_deep_metadata_in_a_trace_raises_a_nesting_error() -> None:
    """A Trace holding metadata 200,000 levels deep (built directly, not imported) makes
    scrubbing raise NestingError, an InputError, naming the trace and the field; no
    RecursionError escapes."""
    trace = make_trace().model_copy(update={"metadata": {"payload": _deep_dict(200_000)}})
    with pytest.raises(NestingError) as info:
        scrub_traces([trace], Pseudonymizer(KEY))
    assert isinstance(info.value, InputError)
    message = str(info.value)
    assert f"trace {trace.id}" in message and "metadata.payload.a.a" in message
    assert "nested deeper than" in message


def test_deep_tool_arguments_raise_a_nesting_error() -> None:
    """Tool arguments 50,000 levels deep, as a parsed object and as a raw JSON string, give
    NestingError naming the call's field."""
    trace = make_trace()
    i, call = next(
        (i, p) for i, m in enumerate(trace.messages) for p in m.parts if isinstance(p, ToolCall)
    )
    deep_text = "[" * 50_000 + "]" * 50_000
    for update in (
        {"arguments": {"q": _deep_list(50_000)}},
        {"raw_arguments": deep_text},
    ):
        bad = call.model_copy(update=update)
        msg = trace.messages[i].model_copy(update={"parts": [bad]})
        t = trace.model_copy(
            update={"messages": [*trace.messages[:i], msg, *trace.messages[i + 1 :]]}
        )
        with pytest.raises(NestingError, match=r"messages\[\d+\]\.parts\[0\]\.(raw_)?arguments"):
            scrub_traces([t], Pseudonymizer(KEY))


def test_nesting_within_the_limit_is_scrubbed() -> None:
    """150 levels (real payloads nest a few dozen) scrub normally, the value inside replaced."""
    value = {"email": "jonathan.reyes@acme-shop.io"}
    for _ in range(150):
        value = {"a": value}
    out = json.dumps(scrub_value(value, Pseudonymizer(KEY)))
    assert "jonathan.reyes" not in out and out.count('"a"') == 150


def test_deep_output_file_is_an_input_error_for_the_gate(tmp_path: Path) -> None:
    """gate_files on a file nested 200,000 levels deep raises NestingError naming the file
    and line, instead of crashing (its walkers are iterative)."""
    path = tmp_path / "deep.jsonl"
    path.write_text('{"id": "t", "x": ' + "[" * 200_000 + "]" * 200_000 + "}\n")
    with pytest.raises(NestingError, match=r"deep\.jsonl: line 1"):
        gate_files([path], Pseudonymizer(KEY))
    path.write_text(json.dumps({"id": "t", "x": _deep_list(900)}) + "\n")
    assert gate_files([path], Pseudonymizer(KEY)).passed
