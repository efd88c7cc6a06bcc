import json
from pathlib import Path

import pytest

from deploysim.errors import TraceFormatError, UnknownFormatError
from deploysim.traces import import_file, import_traces, importer_names, write_traces


def test_unknown_content_names_the_file_and_formats(tmp_path: Path) -> None:
    """A file nobody recognizes fails with the file name and the known formats."""
    p = tmp_path / "weird.json"
    p.write_text(json.dumps({"hello": "world"}))
    with pytest.raises(UnknownFormatError) as e:
        import_file(p)
    assert "weird.json" in str(e.value) and "openai-chat" in str(e.value)


def test_unknown_format_name(tmp_path: Path) -> None:
    """--format with an unregistered name lists the registered ones."""
    p = tmp_path / "x.json"
    p.write_text("[]")
    with pytest.raises(UnknownFormatError, match="known formats"):
        import_file(p, format="nope")


def test_not_json_names_line_and_column(tmp_path: Path) -> None:
    """A file that is not JSON fails naming the file and position, not with a decoder traceback."""
    p = tmp_path / "broken.json"
    p.write_text('{"messages": [\n  {"role": "user",,}]}')
    with pytest.raises(TraceFormatError, match=r"broken.json: not JSON: .* line 2"):
        import_file(p)


def test_missing_input(tmp_path: Path) -> None:
    """A path that does not exist is named."""
    with pytest.raises(TraceFormatError, match="no such file"):
        import_traces([tmp_path / "absent.json"])


def test_directory_imports_every_trace_file_and_lists_the_rest(shared_traces: Path) -> None:
    """A directory imports its trace files; LICENSE and schema files are listed as ignored."""
    r = import_traces([shared_traces / "tau-bench-airline"])
    assert [Path(f.path).name for f in r.files] == ["traces.json"]
    ignored = {Path(i.path).name for i in r.ignored}
    assert {"LICENSE", "tool_schemas.json"} <= ignored
    assert len(r.traces) == 50


def test_explicit_format_overrides_detection(fixtures: Path) -> None:
    """--format forces an importer even where detection would pick another."""
    f = import_file(fixtures / "openai-chat" / "bare_messages.json", format="openai-chat")
    assert f.format == "openai-chat"
    with pytest.raises(TraceFormatError):
        import_file(fixtures / "openai-chat" / "bare_messages.json", format="tau-bench")


def test_canonical_round_trip_is_exact(tmp_path: Path, shared_traces: Path) -> None:
    """Writing canonical JSONL and importing it again gives equal Trace objects."""
    original = import_traces([shared_traces / "tau-bench-airline" / "traces.json"]).traces
    out = tmp_path / "t.jsonl"
    assert write_traces(original, out) == 50
    again = import_file(out)
    assert again.format == "deploysim"
    assert again.traces == original


def test_every_format_is_registered() -> None:
    """All formats the foundation issue names are registered importers."""
    names = set(importer_names())
    assert {
        "deploysim",
        "openai-chat",
        "openai-responses",
        "anthropic",
        "inspect",
        "otel-genai",
        "atif",
        "tau-bench",
        "tau2",
        "agentdojo",
        "agentdojo-invariant",
        "swe-agent",
        "claude-code",
        "openhands",
    } <= names
