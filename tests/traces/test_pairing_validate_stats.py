from deploysim.traces import (
    Message,
    ToolCall,
    ToolResult,
    ToolSpec,
    Trace,
    TraceSource,
    pair_calls,
    trace_stats,
    validate,
)

SRC = TraceSource(format="test")


def _call(i: str, name: str = "get", **kw: object) -> Message:
    return Message(role="assistant", parts=[ToolCall(id=i, name=name, **kw)])  # type: ignore[arg-type]


def _res(i: str) -> Message:
    return Message(role="tool", parts=[ToolResult(call_id=i, output="ok")])


def test_reused_id_after_answer_pairs_positionally() -> None:
    """An id reused after its first call was answered pairs with the second call (tau-bench)."""
    t = Trace(id="t", source=SRC, messages=[_call("a"), _res("a"), _call("a"), _res("a")])
    p = pair_calls(t)
    assert len(p.pairs) == 2 and not p.unpaired_calls and not p.unpaired_results
    assert [pr.call.message_index for pr in p.pairs] == [0, 2]
    assert len(p.reused_ids) == 1 and not p.reopened_ids
    assert [f for f in validate(t) if f.level == "error"] == []


def test_duplicate_open_id_is_an_error() -> None:
    """Two open calls with one id make pairing ambiguous: an error finding."""
    t = Trace(id="t", source=SRC, messages=[_call("a"), _call("a"), _res("a")])
    codes = [(f.level, f.code) for f in validate(t)]
    assert ("error", "duplicate_call_id") in codes
    assert ("warning", "unpaired_call") in codes


def test_unpaired_result_and_result_before_call() -> None:
    """A result answering no open call is an error, even when the call comes later."""
    t = Trace(id="t", source=SRC, messages=[_res("x"), _call("x")])
    findings = validate(t)
    assert [(f.code, f.message_index) for f in findings if f.level == "error"] == [
        ("unpaired_result", 0)
    ]
    s = trace_stats([t])
    assert (s.unpaired_calls, s.unpaired_results) == (1, 1)


def test_server_calls_are_not_unpaired() -> None:
    """Calls the provider ran itself need no result."""
    t = Trace(id="t", source=SRC, messages=[_call("w", "web_search", executed_by="server")])
    assert trace_stats([t]).unpaired_calls == 0
    assert not [f for f in validate(t) if f.code == "unpaired_call"]


def test_schema_and_json_findings() -> None:
    """Invalid JSON, off-schema arguments and undeclared tools are warnings naming the call."""
    spec = ToolSpec(
        name="get",
        parameters={
            "type": "object",
            "properties": {"id": {"type": "integer"}},
            "required": ["id"],
        },
    )
    t = Trace(
        id="t",
        source=SRC,
        tools=[spec],
        messages=[
            _call("1", arguments={"id": "seven"}),
            _res("1"),
            _call("2", arguments=None, raw_arguments="{", parse_error="invalid JSON"),
            _res("2"),
            _call("3", name="delete_all", arguments={}),
            _res("3"),
        ],
    )
    by_code = {f.code: f for f in validate(t)}
    assert by_code["schema_mismatch"].call_id == "1" and "id" in by_code["schema_mismatch"].message
    assert by_code["invalid_arguments"].call_id == "2"
    assert by_code["undeclared_tool"].call_id == "3"
    assert all(f.level == "warning" for f in by_code.values())


def test_no_tool_specs_is_one_warning() -> None:
    """A trace without any tool schemas gets one hint, not one finding per call."""
    t = Trace(id="t", source=SRC, messages=[_call("1"), _res("1"), _call("2"), _res("2")])
    assert [f.code for f in validate(t)] == ["no_tool_specs"]


def test_stats_counts() -> None:
    """Stats count messages, calls, results, distinct tools and calls per tool."""
    t = Trace(
        id="t",
        source=SRC,
        tools=[ToolSpec(name="get"), ToolSpec(name="unused")],
        messages=[_call("1"), _res("1"), _call("2", "put")],
    )
    s = trace_stats([t, t])
    assert s.model_dump() == {
        "traces": 2,
        "messages": 6,
        "tool_calls": 4,
        "tool_results": 2,
        "unpaired_calls": 2,
        "unpaired_results": 0,
        "tools": 3,
        "by_tool": {"get": 2, "put": 2},
    }
