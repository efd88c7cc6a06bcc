import json
from pathlib import Path
from typing import Any

import pytest

from deploysim.errors import TraceFormatError
from deploysim.traces import (
    Reasoning,
    Trace,
    import_file,
    import_traces,
    validate,
)
from tests.traces.detection import assert_claims_no_other_format

MAIN, NO_CONTENT, LEGACY = (f"4bf92f3577b34da6a3ce929d0e0e47a{c}" for c in "234")


def _otel(fixtures: Path, name: str) -> Path:
    return fixtures / "otel-genai" / name


def _span(
    trace: str,
    span: str,
    start: int,
    attrs: dict[str, Any],
    parent: str | None = None,
    status: str = "UNSET",
) -> dict[str, Any]:
    """A flat span as the Python SDK's ``span.to_json()`` writes it."""
    return {
        "name": f"{attrs.get('gen_ai.operation.name', 'span')} x",
        "context": {"trace_id": f"0x{trace}", "span_id": f"0x{span}", "trace_state": "[]"},
        "kind": "SpanKind.INTERNAL",
        "parent_id": f"0x{parent}" if parent else None,
        "start_time": f"2026-03-01T08:00:{start:02d}.000000Z",
        "end_time": f"2026-03-01T08:00:{start:02d}.500000Z",
        "status": {"status_code": status},
        "attributes": attrs,
        "events": [],
        "links": [],
    }


def _chat(inputs: list[dict[str, Any]], outputs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.input.messages": json.dumps(inputs),
        "gen_ai.output.messages": json.dumps(outputs),
    }


def _text(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "parts": [{"type": "text", "content": text}]}


def test_detected_by_content(fixtures: Path, shared_traces: Path) -> None:
    """OTLP and SDK span dumps are detected; the sniffer claims no other fixture or file."""
    for name in ("otlp_export.json", "sdk_spans.json", "malformed.jsonl"):
        assert import_file(_otel(fixtures, name), skip_invalid=True).format == "otel-genai"
    assert_claims_no_other_format(
        "otel-genai", fixtures, shared_traces, own=["any-agent-otel-genai-traces"]
    )


def test_otlp_and_sdk_dump_give_the_same_traces(fixtures: Path) -> None:
    """The same spans exported as OTLP/JSON and as SDK to_json() give equal traces, by trace id."""
    otlp = import_file(_otel(fixtures, "otlp_export.json")).traces
    sdk = import_file(_otel(fixtures, "sdk_spans.json")).traces
    assert [t.id for t in otlp] == [t.id for t in sdk] == [MAIN, NO_CONTENT, LEGACY]
    assert [t.source.locator for t in otlp] == [MAIN, NO_CONTENT, LEGACY]
    for a, b in zip(otlp, sdk, strict=True):
        assert (a.messages, a.tools, a.metadata) == (b.messages, b.tools, b.metadata)


def test_cumulative_chat_spans_merge_without_duplicates(fixtures: Path) -> None:
    """Last chat span's input + output is the conversation; tool spans mark the failed call."""
    t = import_file(_otel(fixtures, "otlp_export.json")).traces[0]
    assert [m.role for m in t.messages] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
    ]
    assert t.messages[0].text == "You are the support agent of Acme Outfitters. Be brief."
    assert t.messages[2].parts[0] == Reasoning(text="Check the order status before cancelling.")
    calls, results = t.tool_calls(), t.tool_results()
    assert [(c.id, c.name) for c in calls] == [
        ("call_7Qx1", "get_order"),
        ("call_9Kd2", "cancel_order"),
    ]
    assert calls[1].arguments == {"order_id": "W1001", "reason": "no longer needed"}
    assert results[0].structured == {"order_id": "W1001", "status": "shipped", "total": 86.4}
    assert not results[0].is_error
    assert results[1].output == "error: order W1001 has shipped and cannot be cancelled"
    assert results[1].is_error and results[1].error_type == "OrderStateError"
    assert [s.name for s in t.tools] == ["get_order", "cancel_order", "web_search"]
    assert t.tool("get_order").parameters["required"] == ["order_id"]
    assert validate(t) == []
    assert t.metadata == {
        "trace_id": MAIN,
        "span_count": 6,
        "provider": "openai",
        "agent_name": "support-bot",
        "agent_id": "agt_01",
        "conversation_id": "conv_5521",
        "model": "gpt-4.1-2025-04-14",
        "usage": {"input_tokens": 412 + 498 + 561, "output_tokens": 38 + 31 + 29},
        "conversation_span": "0000000000000016",
        "service_name": "support-bot",
    }


def test_without_content_calls_come_from_tool_spans(fixtures: Path) -> None:
    """Content capture off: execute_tool spans give calls and results, split at chat spans."""
    t = import_file(_otel(fixtures, "sdk_spans.json")).traces[1]
    shape = [
        (m.role, [getattr(p, "id", None) or getattr(p, "call_id", None) for p in m.parts])
        for m in t.messages
    ]
    assert shape == [
        ("assistant", ["call_b1", "call_b2"]),
        ("tool", ["call_b1"]),
        ("tool", ["call_b2"]),
        ("assistant", ["call_b3"]),
        ("tool", ["call_b3"]),
    ]
    first = t.tool_calls()[0]
    assert first.arguments == {"order_id": "W2002"}
    assert first.raw_arguments == '{"order_id": "W2002"}'
    assert t.tool_results()[2].output == '{"ok": true}'
    assert [f.code for f in validate(t)] == ["no_tool_specs"]


def test_legacy_message_events(fixtures: Path) -> None:
    """Per-message span events (semconv <= 1.36) build the conversation, choice last."""
    t = import_file(_otel(fixtures, "otlp_export.json")).traces[2]
    assert [m.role for m in t.messages] == ["system", "user", "assistant", "tool", "assistant"]
    (call,) = t.tool_calls()
    assert (call.id, call.name, call.arguments) == ("call_w1", "get_weather", {"city": "Paris"})
    assert call.raw_arguments == '{"city": "Paris"}'
    assert t.tool_results()[0].output == "rainy, 14C"
    assert t.messages[-1].text == "It is rainy in Paris, 14C."
    assert t.metadata["provider"] == "openai" and t.metadata["model"] == "gpt-4o-mini"


def test_spans_are_ordered_by_start_time(fixtures: Path, tmp_path: Path) -> None:
    """Reversing the file's span order changes nothing: the last chat span is found by time."""
    spans = json.loads(_otel(fixtures, "sdk_spans.json").read_text())
    reversed_file = tmp_path / "reversed.json"
    reversed_file.write_text(json.dumps(spans[::-1]))
    forward = import_file(_otel(fixtures, "sdk_spans.json")).traces
    backward = {t.id: t for t in import_file(reversed_file).traces}
    for t in forward:
        assert backward[t.id].messages == t.messages


def test_otlp_jsonl_exports_are_merged_by_trace_id(fixtures: Path, tmp_path: Path) -> None:
    """One OTLP export per line (collector file exporter): spans of one trace are regrouped."""
    export = json.loads(_otel(fixtures, "otlp_export.json").read_text())
    (rs,) = export["resourceSpans"]
    (scope,) = rs["scopeSpans"]
    lines = [
        {"resourceSpans": [{**rs, "scopeSpans": [{**scope, "spans": [span]}]}]}
        for span in scope["spans"]
    ]
    path = tmp_path / "collector.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    merged = import_file(path)
    assert merged.format == "otel-genai"
    whole = import_file(_otel(fixtures, "otlp_export.json")).traces
    assert [(t.id, t.messages, t.tools) for t in merged.traces] == [
        (t.id, t.messages, t.tools) for t in whole
    ]


def test_divergent_spans_and_unmatched_tool_spans_are_reported(tmp_path: Path) -> None:
    """A sub-agent chat span and a tool span outside the conversation are listed, not merged."""
    tid = "00000000000000000000000000000abc"
    u1 = _text("user", "Book a table for two.")
    a1 = {
        "role": "assistant",
        "parts": [
            {"type": "tool_call", "id": "c1", "name": "find_table", "arguments": '{"seats": 2}'}
        ],
    }
    t1 = {
        "role": "user",
        "parts": [
            {"type": "tool_call_response", "id": "c1", "result": "table 7"},
            {"type": "text", "content": "(tool ran)"},
        ],
    }
    spans = [
        _span(tid, "01", 1, {"gen_ai.operation.name": "invoke_agent"}),
        _span(tid, "02", 2, _chat([u1], [a1]), parent="01"),
        _span(
            tid,
            "03",
            3,
            _chat([_text("user", "Summarize")], [_text("assistant", "ok")]),
            parent="01",
        ),
        _span(
            tid,
            "04",
            4,
            {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "log",
                "gen_ai.tool.call.id": "zz9",
            },
            parent="01",
        ),
        _span(
            tid,
            "05",
            5,
            _chat([u1, a1, t1], [_text("assistant", "Table 7 is yours.")]),
            parent="01",
        ),
    ]
    path = tmp_path / "spans.json"
    path.write_text(json.dumps(spans))
    (t,) = import_file(path).traces
    assert t.metadata["divergent_spans"] == ["03"]
    assert t.metadata["unmatched_tool_spans"] == [
        {"span_id": "04", "name": "log", "call_id": "zz9"}
    ]
    assert [m.role for m in t.messages] == ["user", "assistant", "tool", "user", "assistant"]
    assert t.tool_calls()[0].raw_arguments == '{"seats": 2}'
    assert t.tool_results()[0].output == "table 7"
    assert t.messages[3].text == "(tool ran)"


def test_missing_result_is_filled_from_tool_span(tmp_path: Path) -> None:
    """A call answered only by its execute_tool span gets that result after the call."""
    tid = "00000000000000000000000000000def"
    call = {
        "role": "assistant",
        "parts": [{"type": "tool_call", "id": "c9", "name": "get_time", "arguments": {}}],
    }
    spans = [
        _span(tid, "01", 1, _chat([_text("user", "time?")], [call])),
        _span(
            tid,
            "02",
            2,
            {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "get_time",
                "gen_ai.tool.call.id": "c9",
                "gen_ai.tool.call.result": "08:00",
            },
        ),
    ]
    path = tmp_path / "spans.json"
    path.write_text(json.dumps(spans))
    (t,) = import_file(path).traces
    assert [m.role for m in t.messages] == ["user", "assistant", "tool"]
    assert t.tool_results()[0].output == "08:00" and t.tool_results()[0].name == "get_time"
    assert [f.code for f in validate(t)] == ["no_tool_specs"]


def test_content_on_the_operation_details_event(tmp_path: Path) -> None:
    """Content recorded on the inference.operation.details event is read like span content."""
    tid = "00000000000000000000000000000fed"
    span = _span(tid, "01", 1, {"gen_ai.operation.name": "chat"})
    span["events"] = [
        {
            "name": "gen_ai.client.inference.operation.details",
            "timestamp": "2026-03-01T08:00:01.400000Z",
            "attributes": _chat([_text("user", "hello")], [_text("assistant", "hi there")]),
        }
    ]
    path = tmp_path / "spans.json"
    path.write_text(json.dumps([span]))
    (t,) = import_file(path).traces
    assert [(m.role, m.text) for m in t.messages] == [("user", "hello"), ("assistant", "hi there")]


def test_malformed_record_names_record_and_field(fixtures: Path) -> None:
    """The line that is not JSON fails as record 1; the first record imported fine."""
    with pytest.raises(TraceFormatError) as e:
        import_file(_otel(fixtures, "malformed.jsonl"))
    assert e.value.record == 1 and "not JSON" in e.value.reason


def test_skip_invalid_keeps_good_records(fixtures: Path) -> None:
    """Bad JSON content and an unknown role are skipped with their field; failed tool kept."""
    f = import_file(_otel(fixtures, "malformed.jsonl"), skip_invalid=True)
    assert [t.source.index for t in f.traces] == [0, 3]
    assert [(s.record, s.field) for s in f.skipped] == [
        (1, None),
        (2, "spans[0].attributes.gen_ai.input.messages"),
        (4, "spans[0].attributes.gen_ai.input.messages[0].role"),
    ]
    failed = f.traces[1].tool_results()[0]
    assert failed.is_error and failed.error_type == "TimeoutError"
    assert failed.output == "TimeoutError: inventory service did not answer"


def test_round_trip(fixtures: Path) -> None:
    """Every imported trace survives a JSON round trip unchanged."""
    traces = [
        t
        for n in ("otlp_export.json", "sdk_spans.json")
        for t in import_file(_otel(fixtures, n)).traces
    ]
    assert len(traces) == 6
    for t in traces:
        assert Trace.model_validate_json(t.model_dump_json()) == t


def test_sdk_run_file_with_integer_ids(fixtures: Path) -> None:
    """A {"spans": [...]} run with integer ids, parent objects and lower-case status reads."""
    (t,) = import_file(_otel(fixtures, "sdk_int_ids_run.json")).traces
    assert t.id == "1d3c5a7e9b2f4a6c8e0d1f3b5a7c9e11"
    assert t.metadata["merge"] == "sequential"
    assert t.metadata["document"] == {"final_output": "I wrote 2025 to the file."}
    assert t.metadata["repeated_spans"] == ["f40e221658305ec4"]
    assert t.metadata["usage"] == {"input_tokens": 400, "output_tokens": 40}
    assert [m.role for m in t.messages] == ["system", "user"] + ["assistant", "tool"] * 3 + [
        "assistant"
    ]
    assert t.messages[-1].text == "I wrote 2025 to the file."


def test_sequential_calls_are_paired_with_tool_spans(fixtures: Path) -> None:
    """Calls from gen_ai.output meet their execute_tool spans by name and time.

    The span's call id replaces the missing one; double-encoded arguments are unwrapped,
    keeping the recorded string; arguments the tool ran with that differ are noted; a span
    with arguments but no result returned nothing; a failed span is an error result.
    """
    (t,) = import_file(_otel(fixtures, "sdk_int_ids_run.json")).traces
    calls, results = t.tool_calls(), t.tool_results()
    assert [(c.id, c.name) for c in calls] == [
        ("call_T1", "get_time"),
        ("call-3-0", "write_file"),
        ("call-4-0", "notify"),
    ]
    assert calls[0].arguments == {"tz": "Europe/Paris"}
    assert [r.call_id for r in results] == [c.id for c in calls]
    assert results[0].output == '{"datetime": "2025-05-23T11:07:42+02:00"}'
    assert (results[1].output, results[1].is_error) == ("", False)
    assert results[2].is_error and results[2].output == "boom"
    notify = next(m for m in t.messages if m.tool_calls and m.tool_calls[0].name == "notify")
    assert notify.metadata["executed_arguments"] == {"call-4-0": {"channel": "ops"}}
    assert [f.code for f in validate(t)] == ["no_tool_specs"]


def test_double_encoded_tool_arguments_are_unwrapped(tmp_path: Path) -> None:
    """A JSON string holding JSON: the object is the arguments, the string stays raw."""
    tid = "00000000000000000000000000000aaa"
    raw = json.dumps(json.dumps({"city": "Paris"}))
    spans = [
        _span(tid, "01", 1, {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "w"}),
    ]
    spans[0]["attributes"]["gen_ai.tool.call.arguments"] = raw
    path = tmp_path / "spans.json"
    path.write_text(json.dumps(spans))
    (call,) = import_file(path).traces[0].tool_calls()
    assert (call.arguments, call.raw_arguments, call.parse_error) == ({"city": "Paris"}, raw, None)


def test_openinference_cumulative_spans(fixtures: Path) -> None:
    """OpenInference: flattened messages, id-less TOOL span matched, tool schema, usage once."""
    t = import_file(_otel(fixtures, "openinference_spans.json")).traces[0]
    assert [m.role for m in t.messages] == ["system", "user", "assistant", "tool", "assistant"]
    (call,) = t.tool_calls()
    assert (call.id, call.arguments) == ("call_o1", {"order_id": "W1"})
    assert t.tool_results()[0].output == '{"status": "shipped"}'
    assert [s.name for s in t.tools] == ["get_order"]
    assert t.tool("get_order").parameters["required"] == ["order_id"]
    # The nested LLM span (the same call, instrumented twice) is counted once.
    assert t.metadata["usage"] == {"input_tokens": 120, "output_tokens": 16}
    assert t.metadata["provider"] == "openai" and t.metadata["conversation_id"] == "sess-9"
    assert "unmatched_tool_spans" not in t.metadata
    assert validate(t) == []


def test_openinference_payloads_and_calls_asked_for_in_text(fixtures: Path) -> None:
    """LangChain-serialized payloads are messages; a tool span the model asked for in ReAct
    text (no call id, no call) is inserted where it ran."""
    t = import_file(_otel(fixtures, "openinference_spans.json")).traces[1]
    assert [m.role for m in t.messages] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "assistant",
        "tool",
        "user",
        "assistant",
    ]
    get_time, get_weather = t.tool_calls()
    assert (get_time.id, get_time.arguments) == ("call_lc1", {"city": "Lyon"})
    assert get_weather.arguments == {"city": "Lyon"}  # the kwargs of the recorded call
    assert get_weather.raw_arguments == '{"args": [], "kwargs": {"city": "Lyon"}}'
    assert t.messages[5].metadata == {"from_tool_span": True}
    assert t.tool_results()[1].output == "sunny"
    assert t.tool("get_weather").parameters == {
        "type": "object",
        "properties": {"city": {"type": "string"}},
    }


def test_lossy_later_inputs_fall_back_to_sequential(tmp_path: Path) -> None:
    """A later input that drops the calls (LangChain 'ai' turns without tool calls, tool
    turns without ids) does not replace what the earlier spans said."""
    tid = "00000000000000000000000000000bbb"
    sys_user = [{"role": "system", "content": "Use tools."}, {"role": "user", "content": "Go."}]
    first = {
        "gen_ai.operation.name": "call_llm",
        "gen_ai.input.messages": json.dumps(sys_user),
        "gen_ai.output": json.dumps([{"tool.name": "ping", "tool.args": {}}]),
        "gen_ai.output.type": "json",
    }
    lossy = [*sys_user, {"role": "ai", "content": ""}, {"role": "tool", "content": "pong"}]
    last = {
        "gen_ai.operation.name": "call_llm",
        "gen_ai.input.messages": json.dumps(lossy),
        "gen_ai.output": "Done.",
        "gen_ai.output.type": "text",
    }
    ping = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "ping",
        "gen_ai.tool.args": "{}",
        "gen_ai.output": "pong",
    }
    spans = [_span(tid, "01", 1, first), _span(tid, "02", 2, ping), _span(tid, "03", 3, last)]
    path = tmp_path / "spans.json"
    path.write_text(json.dumps(spans))
    (t,) = import_file(path).traces
    assert [m.role for m in t.messages] == ["system", "user", "assistant", "tool", "assistant"]
    assert t.metadata["merge"] == "sequential"
    assert t.metadata["unread_input_spans"][0]["span_id"] == "03"
    assert t.tool_results()[0].output == "pong"


def test_real_any_agent_runs_consume_every_tool_span(shared_traces: Path) -> None:
    """Every any-agent run imports; every tool span (less exact repeats) becomes one result,
    and the run index (manifest.json) is ignored, not imported."""
    folder = shared_traces / "any-agent-otel-genai-traces"
    result = import_traces([folder])
    assert result.skipped == []
    assert len(result.traces) == len(list((folder / "traces").rglob("*.json")))
    assert "manifest.json" in {Path(i.path).name for i in result.ignored}
    spans = 0
    for f in (folder / "traces").rglob("*.json"):
        unique = {json.dumps(s, sort_keys=True) for s in json.loads(f.read_text())["spans"]}
        kinds = [json.loads(s)["attributes"] for s in unique]
        spans += sum(
            a.get("gen_ai.operation.name") == "execute_tool"
            or a.get("openinference.span.kind") == "TOOL"
            for a in kinds
        )
    assert sum(len(t.tool_results()) for t in result.traces) == spans
    assert not any("unmatched_tool_spans" in t.metadata for t in result.traces)


def test_tool_span_without_arguments_notes_no_difference(tmp_path: Path) -> None:
    """A tool span that records no arguments says nothing about them: no executed_arguments."""
    tid = "00000000000000000000000000000ccc"
    llm = {
        "gen_ai.operation.name": "call_llm",
        "gen_ai.input.messages": json.dumps([{"role": "user", "content": "time?"}]),
        "gen_ai.output": json.dumps([{"tool.name": "now", "tool.args": {"tz": "UTC"}}]),
        "gen_ai.output.type": "json",
    }
    run = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "now",
        "gen_ai.output": "08:00",
    }
    path = tmp_path / "spans.json"
    path.write_text(json.dumps([_span(tid, "01", 1, llm), _span(tid, "02", 2, run)]))
    (t,) = import_file(path).traces
    assert t.tool_calls()[0].arguments == {"tz": "UTC"}
    assert t.tool_results()[0].output == "08:00"
    assert all("executed_arguments" not in m.metadata for m in t.messages)
