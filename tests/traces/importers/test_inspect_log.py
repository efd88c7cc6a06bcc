import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from inspect_ai.log import read_eval_log

from deploysim.errors import TraceFormatError
from deploysim.traces import (
    Reasoning,
    Text,
    ToolCall,
    ToolResult,
    Trace,
    get_importer,
    import_file,
    read_document,
    validate,
)

INSPECT = "inspect-ai"
BROWSER = "2025-05-12T20-27-36-04-00_browser.json"
DEDUP = "log_message_deduplication.eval"
TOOL_ERRORS = "log_tool_call_error.json"


def _tiny(fixtures: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((fixtures / "inspect" / "tiny_log.json").read_text())
    return data


def _write_eval(path: Path, members: dict[str, Any]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, value in members.items():
            zf.writestr(name, json.dumps(value))
    return path


def _no_attachment_refs(trace: Trace) -> bool:
    return "attachment://" not in json.dumps(trace.model_dump(exclude={"raw"}))


def test_fixture_is_a_valid_inspect_log(fixtures: Path) -> None:
    """inspect_ai itself reads the hand-made log, with the message counts we import."""
    log = read_eval_log(str(fixtures / "inspect" / "tiny_log.json"), resolve_attachments=True)
    assert log.samples is not None
    ours = import_file(fixtures / "inspect" / "tiny_log.json").traces
    assert [len(s.messages) for s in log.samples] == [len(t.messages) for t in ours] == [9, 3]
    assert log.samples[0].messages[7].text == ours[0].tool_results()[3].output


def test_detected_by_content(fixtures: Path, shared_traces: Path) -> None:
    """Inspect logs are detected without --format; the sniffer claims no other fixture or file."""
    for path in [
        fixtures / "inspect" / "tiny_log.json",
        *(shared_traces / INSPECT / n for n in (BROWSER, DEDUP, TOOL_ERRORS)),
    ]:
        assert import_file(path).format == "inspect", path
    sniffer = get_importer("inspect")
    others = [p for p in fixtures.rglob("*") if p.is_file() and p.parent.name != "inspect"]
    others += [p for p in shared_traces.rglob("*.json") if INSPECT not in p.parts]
    assert others
    for path in others:
        assert not sniffer.sniff(read_document(path)), path


def test_real_browser_log(shared_traces: Path) -> None:
    """The gpt-4o-mini browser run: 4 paired calls, 8 tool schemas, attachments resolved."""
    (t,) = import_file(shared_traces / INSPECT / BROWSER).traces
    assert t.id == "ZB2vu5GNujYaBdPSReCeop/1/epoch-1"
    assert t.source.locator == "1_epoch_1"
    assert len(t.messages) == 10
    assert [c.name for c in t.tool_calls()] == [
        "web_browser_go",
        "web_browser_click",
        "web_browser_click",
        "web_browser_click",
    ]
    assert t.tool_calls()[0].arguments == {"url": "https://www.aisi.gov.uk/"}
    assert t.tool_calls()[1].arguments == {"element_id": 151}
    assert [r.call_id for r in t.tool_results()] == [c.id for c in t.tool_calls()]
    assert [s.name for s in t.tools] == [
        "web_browser_go",
        "web_browser_click",
        "web_browser_type_submit",
        "web_browser_type",
        "web_browser_scroll",
        "web_browser_back",
        "web_browser_forward",
        "web_browser_refresh",
    ]
    assert t.tool("web_browser_click") is not None
    assert t.tool("web_browser_click").parameters["required"] == ["element_id"]
    assert validate(t) == []
    assert t.messages[0].text.startswith("Use the web browser tool to navigate")
    assert t.messages[-1].text.startswith("The AI Security Institute (AISI) is")
    assert t.messages[1].metadata == {"model": "gpt-4o-mini-2024-07-18"}
    assert _no_attachment_refs(t) and "attachment://" in json.dumps(t.raw)
    assert t.metadata["task"] == "browser" and t.metadata["model"] == "openai/gpt-4o-mini"
    assert t.metadata["scores"]["includes"]["value"] == "C"


def test_real_eval_zip(shared_traces: Path) -> None:
    """The .eval zip: 5 bash calls paired with 5 results; python's description from attachments."""
    (t,) = import_file(shared_traces / INSPECT / DEDUP).traces
    assert t.id == "gsM63GyMBKgA3p4sHAMAfG/0/epoch-1"
    assert t.source.locator == "samples/0_epoch_1.json" and t.source.index == 0
    assert len(t.messages) == 12
    calls = t.tool_calls()
    assert [c.id for c in calls] == [f"hardcoded_{i}" for i in range(5)]
    assert all(c.name == "bash" and c.arguments == {"cmd": "ls"} for c in calls)
    assert [r.call_id for r in t.tool_results()] == [c.id for c in calls]
    assert all(r.output.startswith("bin\nboot\n") for r in t.tool_results())
    assert [s.name for s in t.tools] == ["bash", "python"]
    assert t.tool("python").description.startswith("Use the python function")
    assert t.metadata["target"] == "42.7"
    assert t.metadata["scores"] == {"closeness_log": {"value": 0.0, "history": []}}
    assert t.messages[-1].text == "done"
    assert validate(t) == []


def test_real_tool_error_log(shared_traces: Path) -> None:
    """Each inspect tool-error type becomes is_error with that error_type; output is kept."""
    (t,) = import_file(shared_traces / INSPECT / TOOL_ERRORS).traces
    results = t.tool_results()
    assert [r.call_id for r in results] == [f"bash_{i}" for i in range(1, 12)]
    assert all(r.is_error and r.name == "bash" for r in results)
    assert [r.error_type for r in results] == [
        "parsing",
        "timeout",
        "parsing",
        "unicode_decode",
        "permission",
        "file_not_found",
        "is_a_directory",
        "limit",
        "approval",
        "unknown",
        "output_limit",
    ]
    assert results[-1].output.startswith("\nThe output of your call to bash was too long")
    assert t.messages[-1].metadata == {
        "error_message": "The tool output limit of 10 MiB was exceeded."
    }
    assert t.tool_calls() == []  # the log records only the tool messages
    assert t.metadata["epoch"] == 4 and t.metadata["sample_id"] == "1"


def test_fixture_conversion_details(fixtures: Path) -> None:
    """Reasoning, redaction, server tool use, parse errors, error output and attachments."""
    first, second = import_file(fixtures / "inspect" / "tiny_log.json").traces
    assert (first.id, second.id) == ("tinyEvalQ7wz/ctf-007/epoch-1", "tinyEvalQ7wz/ctf-007/epoch-2")
    assert first.messages[1].text.startswith("Find the flag hidden in /challenge")
    assert first.messages[1].metadata == {"omitted_content": ["image"]}
    reasoning, text, call = first.messages[2].parts
    assert reasoning == Reasoning(
        text="Start by listing the challenge directory.", opaque="EqQBCkYIBRgCKkB3sig"
    )
    assert text == Text(text="I'll list the files first.")
    assert isinstance(call, ToolCall) and call.arguments == {"cmd": "ls -la /challenge"}
    (bad,) = first.messages[4].tool_calls
    assert bad.arguments is None and bad.parse_error and "delimiter" in bad.parse_error
    (error,) = first.messages[5].tool_results
    assert error.is_error and error.error_type == "parsing"
    assert error.output.startswith("Error parsing the following tool call arguments")
    redacted, server_call, server_result, bash = first.messages[6].parts
    assert redacted == Reasoning(text="", opaque="ErUBCkYIBxgCIkDredactedblob", redacted=True)
    assert isinstance(server_call, ToolCall) and server_call.executed_by == "server"
    assert server_call.arguments == {"query": "flag{ format ctf"}
    assert isinstance(server_result, ToolResult) and server_result.call_id == "srvtoolu_01C"
    assert isinstance(bash, ToolCall) and bash.executed_by == "client"
    assert first.tool_results()[-1].output.startswith("flag{tiny_but_real}\nlog line 0")
    assert [s.name for s in first.tools] == ["bash", "python", "submit"]
    assert first.tool("bash").description == "Use this function to execute bash commands."
    assert _no_attachment_refs(first)
    assert first.metadata["sample_metadata"] == {"difficulty": "easy"}
    assert first.metadata["sandbox"] == {"type": "docker", "config": "compose.yaml"}
    assert second.tools == [] and second.metadata["scores"]["includes"]["value"] == "I"
    assert second.raw["epoch"] == 2


def test_eval_zip_gives_the_same_traces_as_json(fixtures: Path, tmp_path: Path) -> None:
    """The fixture packed as a .eval zip imports to the same traces, located by member."""
    log = _tiny(fixtures)
    samples = log.pop("samples")
    members = {"header.json": log, "_journal/start.json": {k: log[k] for k in ("version", "eval")}}
    members.update({f"samples/{s['id']}_epoch_{s['epoch']}.json": s for s in samples})
    zipped = import_file(_write_eval(tmp_path / "tiny.eval", members))
    plain = import_file(fixtures / "inspect" / "tiny_log.json")
    assert zipped.format == "inspect"
    assert [t.source.locator for t in zipped.traces] == [
        "samples/ctf-007_epoch_1.json",
        "samples/ctf-007_epoch_2.json",
    ]
    assert [(t.id, t.messages, t.tools, t.metadata) for t in zipped.traces] == [
        (t.id, t.messages, t.tools, t.metadata) for t in plain.traces
    ]


def test_log_in_progress(fixtures: Path, tmp_path: Path) -> None:
    """A .eval with only _journal/ has no traces yet; samples already written import."""
    log = _tiny(fixtures)
    start = {"version": 2, "eval": log["eval"], "plan": log["plan"]}
    empty = import_file(_write_eval(tmp_path / "started.eval", {"_journal/start.json": start}))
    assert empty.format == "inspect" and empty.traces == []
    partial = import_file(
        _write_eval(
            tmp_path / "partial.eval",
            {"_journal/start.json": start, "samples/ctf-007_epoch_2.json": log["samples"][1]},
        )
    )
    (t,) = partial.traces
    assert t.id == "tinyEvalQ7wz/ctf-007/epoch-2" and t.metadata["task"] == "ctf_tiny"


def _malformed(fixtures: Path, tmp_path: Path) -> Path:
    log = _tiny(fixtures)
    good, other = log["samples"]
    broken = json.loads(json.dumps(good))
    broken["epoch"] = 3
    del broken["messages"][3]["tool_call_id"]
    log["samples"] = [good, broken, other]
    path = tmp_path / "malformed_log.json"
    path.write_text(json.dumps(log))
    return path


def test_malformed_sample_names_record_and_field(fixtures: Path, tmp_path: Path) -> None:
    """A tool message without tool_call_id fails naming sample 1 and the field path."""
    with pytest.raises(TraceFormatError) as e:
        import_file(_malformed(fixtures, tmp_path))
    assert e.value.record == 1
    assert e.value.field == "sample.messages[3].tool_call_id"
    assert "record 1" in str(e.value) and "required field is missing" in str(e.value)


def test_skip_invalid_keeps_good_samples(fixtures: Path, tmp_path: Path) -> None:
    """With skip_invalid the two good samples import and the bad one is listed."""
    f = import_file(_malformed(fixtures, tmp_path), skip_invalid=True)
    assert [t.metadata["epoch"] for t in f.traces] == [1, 2]
    assert [(s.record, s.field) for s in f.skipped] == [(1, "sample.messages[3].tool_call_id")]


def test_round_trip(fixtures: Path, shared_traces: Path) -> None:
    """Every imported trace survives a JSON round trip unchanged."""
    paths = [
        fixtures / "inspect" / "tiny_log.json",
        *(shared_traces / INSPECT / n for n in (BROWSER, DEDUP, TOOL_ERRORS)),
    ]
    traces = [t for p in paths for t in import_file(p).traces]
    assert len(traces) == 5
    for t in traces:
        assert Trace.model_validate_json(t.model_dump_json()) == t
