import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deploysim.errors import TraceFormatError, UnknownFormatError
from deploysim.traces import (
    Reasoning,
    Text,
    Trace,
    detect_importer,
    import_file,
    import_traces,
    read_document,
    trace_stats,
    validate,
    write_traces,
)
from deploysim.traces._import import EMPTY_FILE
from tests.traces.detection import assert_claims_no_other_format

FOLDER = "claude-code-sessions-real-repos"
# From the folder's SOURCE.md: tool_use / tool_result (errors), model, version, branch.
SESSIONS = {
    "JSSoundRecorder/7acd37a8-2745-4b58-a8a9-46164b22ad9e.jsonl": (
        71,
        6,
        "claude-sonnet-4-5-20250929",
        "2.0.42",
        "gh-pages",
    ),
    "claude-code-log/fe869ecb-c176-478f-9734-7e4b8ef12cff.jsonl": (
        32,
        6,
        "claude-sonnet-4-20250514",
        "1.0.24",
        None,
    ),
    "claude-code-log/07f2e15c-a38b-454b-9148-60edc06de401.jsonl": (
        20,
        0,
        "claude-sonnet-4-20250514",
        "1.0.29",
        None,
    ),
}
FIXTURES = "claude-code"


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _blocks(lines: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [
        b
        for d in lines
        if isinstance(d.get("message"), dict) and isinstance(d["message"].get("content"), list)
        for b in d["message"]["content"]
        if b.get("type") == kind
    ]


@pytest.mark.parametrize("name", sorted(SESSIONS))
def test_real_session_has_every_call_answered(shared_traces: Path, name: str) -> None:
    """Each real session is one trace whose calls are the file's tool_use blocks, each
    answered by its tool_result, with SOURCE.md's counts, and whose schemas fit every call."""
    path = shared_traces / FOLDER / "transcripts" / name
    f = import_file(path)
    assert f.format == "claude-code"
    (t,) = f.traces
    calls, errors, model, version, branch = SESSIONS[name]
    raw = _lines(path)
    s = trace_stats([t])
    assert s.tool_calls == calls == len(_blocks(raw, "tool_use"))
    assert (s.tool_results, s.unpaired_calls, s.unpaired_results) == (calls, 0, 0)
    assert [c.id for c in t.tool_calls()] == [b["id"] for b in _blocks(raw, "tool_use")]
    assert sum(r.is_error for r in t.tool_results()) == errors
    assert t.id == path.stem == raw[-1]["sessionId"]
    assert (t.metadata["model"], t.metadata["claude_code_version"]) == (model, version)
    assert t.metadata.get("git_branch") == branch
    assert t.metadata["cwd"].startswith("/Users/dain/workspace/")
    assert [x for x in validate(t)] == []  # no schema mismatch, no undeclared tool
    assert t.raw == raw


def test_real_response_blocks_join_into_one_message(shared_traces: Path) -> None:
    """Claude Code logs each block of a response as its own line; they form one message."""
    path = shared_traces / FOLDER / "transcripts" / next(iter(SESSIONS))
    raw = _lines(path)
    (t,) = import_file(path).traces
    ids = list(dict.fromkeys(d["message"]["id"] for d in raw if d["type"] == "assistant"))
    assistants = [m for m in t.messages if m.role == "assistant"]
    assert [m.id for m in assistants] == ids
    first = assistants[0]
    assert [p.type for p in first.parts] == [
        "reasoning",
        "text",
        "tool_call",
        "tool_call",
        "tool_call",
    ]
    assert isinstance(first.parts[0], Reasoning) and first.parts[0].opaque
    assert len(first.metadata["uuids"]) == 5 and first.metadata["stop_reason"] == "tool_use"


def test_real_rejected_calls_are_error_results(shared_traces: Path) -> None:
    """Calls the user rejected or cancelled stay in the trace, answered by the error the
    model saw, marked rejected / cancelled; the structured toolUseResult is kept."""
    path = shared_traces / FOLDER / "transcripts" / next(iter(SESSIONS))
    raw = _lines(path)
    (t,) = import_file(path).traces
    refused = [
        b["content"]
        for b in _blocks(raw, "tool_result")
        if b.get("is_error") and b["content"].startswith("The user doesn't want")
    ]
    marked = [r for r in t.tool_results() if r.error_type in ("rejected", "cancelled")]
    assert [r.output for r in marked] == refused and len(refused) == 4
    assert all(r.is_error and r.name in ("Bash", "Edit") for r in marked)
    glob = next(r for r in t.tool_results() if r.name == "Glob")
    assert glob.structured["numFiles"] == len(glob.output.splitlines())
    assert t.tool("Read").kind == "editor" and t.tool("Read").effect == "read"
    assert (t.tool("Edit").effect, t.tool("Bash").kind, t.tool("Bash").effect) == (
        "write",
        "shell",
        "unknown",
    )
    events = t.metadata["events"]
    assert {e["type"] for e in events} == {"queue-operation"}
    assert len(events) == sum(d["type"] == "queue-operation" for d in raw)


def test_real_sidechain_files_are_traces_of_their_own(shared_traces: Path) -> None:
    """agent-*.jsonl files are subagent traces named after their session and agent."""
    folder = shared_traces / FOLDER / "transcripts" / "JSSoundRecorder"
    agents = sorted(folder.glob("agent-*.jsonl"))
    assert len(agents) == 8
    for path in agents:
        (line,) = _lines(path)
        (t,) = import_file(path).traces
        assert t.id == f"{line['sessionId']}/agent-{line['agentId']}"
        assert t.metadata["sidechain"] is True and t.metadata["parent"] == line["sessionId"]
        assert [m.role for m in t.messages] == ["assistant"]
        assert t.messages[0].text == line["message"]["content"][0]["text"]


def test_empty_session_files_are_ignored_as_empty(shared_traces: Path) -> None:
    """0-byte session files are ignored with the empty-file reason, and refused by name."""
    result = import_traces([shared_traces / FOLDER])
    empty = sorted(Path(i.path).name for i in result.ignored if i.reason == EMPTY_FILE)
    assert empty == [
        "2c5941bd-b9de-41d6-9414-221d175776f7.jsonl",
        "b23cbd1d-a39d-4f31-98fd-98f8ff69b816.jsonl",
    ]
    with pytest.raises(UnknownFormatError, match=f"2c5941bd.*{EMPTY_FILE}"):
        import_file(shared_traces / FOLDER / "transcripts" / "JSSoundRecorder" / empty[0])


def test_chain_order_branches_and_summary_first(fixtures: Path) -> None:
    """A session starting with a summary follows its uuid chain, not the file order; an
    edited prompt's branch is left out but listed with its call; synthetic API errors are
    events, not model output."""
    path = fixtures / FIXTURES / "branching_session.jsonl"
    raw = _lines(path)
    assert raw[0]["type"] == "summary"
    (t,) = import_file(path).traces
    # the Grep result is written before the Read result, but the chain answers Read first
    assert [r.name for r in t.tool_results()][:2] == ["Read", "Grep"]
    assert [c.name for c in t.tool_calls()] == ["Read", "Grep", "Bash", "Edit"]
    texts = [m.text for m in t.messages if m.role == "user"]
    assert "Don't delete build/. Just run pytest." not in texts
    assert "Don't run anything; just fix slugify." in texts
    (branch,) = t.metadata["branches"]
    assert branch == {"fork": "i1-0000", "lines": [12, 13, 14], "tool_calls": 1}
    assert t.metadata["summaries"] == [
        {"summary": raw[0]["summary"], "leaf_uuid": raw[0]["leafUuid"]}
    ]
    rejected = t.tool_results()[2]
    assert (rejected.is_error, rejected.error_type, rejected.name) == (True, "rejected", "Bash")
    assert not any("API Error" in m.text for m in t.messages)
    synthetic = [e for e in t.metadata["events"] if e.get("synthetic")]
    assert synthetic == [
        {
            "line": 18,
            "type": "assistant",
            "at_message": 10,
            "synthetic": True,
            "text": raw[18]["message"]["content"][0]["text"],
        }
    ]
    (meta,) = [m for m in t.messages if m.metadata.get("is_meta")]
    assert meta.text.startswith("Caveat:")
    assert t.messages[6].metadata["interrupted"] is True
    assert [x.code for x in validate(t)] == []
    first = t.messages[1]
    assert isinstance(first.parts[0], Reasoning) and isinstance(first.parts[1], Text)


def test_in_file_sidechain_is_its_own_trace_linked_to_its_task(fixtures: Path) -> None:
    """isSidechain lines in the session file form a trace of their own; the session links
    it to the Task call whose prompt it starts with."""
    main, side = import_file(fixtures / FIXTURES / "sidechain_in_file.jsonl").traces
    assert side.id == f"{main.id}/sidechain-s1-1111"
    assert side.metadata["parent"] == main.id and side.metadata["sidechain"] is True
    assert main.metadata["sidechains"] == [side.id]
    assert main.metadata["subagents"] == [{"trace": side.id, "call_id": "toolu_task1"}]
    assert [c.name for c in side.tool_calls()] == ["Grep"]
    assert [c.name for c in main.tool_calls()] == ["Task", "mcp__github__get_file_contents"]
    mcp = main.tool("mcp__github__get_file_contents")
    assert mcp is not None and (mcp.kind, mcp.effect) == ("function", "unknown")
    assert not any(m.metadata.get("uuids") == ["s1-1111"] for m in main.messages)
    # the user's own bash-mode command changed the workspace: it is marked as such
    assert [m.metadata.get("user_shell") for m in main.messages[-2:]] == ["input", "output"]


def test_compaction_is_followed_and_agent_file_is_linked(fixtures: Path) -> None:
    """A compact boundary (logicalParentUuid) keeps the chain whole; the Task result's
    agentId names the subagent trace imported from agent-<id>.jsonl."""
    result = import_traces([fixtures / FIXTURES], skip_invalid=True)
    by_id = {t.id: t for t in result.traces}
    main = by_id["c4d2a8f3-1e6b-4f0a-9d27-8b3e5c1a7f40"]
    assert [c.name for c in main.tool_calls()] == ["Task", "Write", "Bash"]
    (boundary,) = [e for e in main.metadata["events"] if e.get("subtype") == "compact_boundary"]
    summary = main.messages[boundary["at_message"]]
    assert summary.metadata["compact_summary"] is True
    (link,) = main.metadata["subagents"]
    sub = by_id[link["trace"]]
    assert link["call_id"] == "toolu_task2" and sub.metadata["parent"] == main.id
    assert sub.messages[-1].text == main.tool_results()[0].output


def test_malformed_names_file_record_and_field(fixtures: Path, tmp_path: Path) -> None:
    """A parentUuid loop and a line that is not JSON fail naming the line and field."""
    with pytest.raises(TraceFormatError) as e:
        import_file(fixtures / FIXTURES / "malformed.jsonl")
    assert (e.value.record, e.value.field) == (0, "lines[1].parentUuid")
    assert "malformed.jsonl" in str(e.value) and "loops" in str(e.value)
    good = (fixtures / FIXTURES / "agent-5e1f2a3b.jsonl").read_text()
    cut = tmp_path / "cut.jsonl"
    cut.write_text(good + '{"type": "assistant", "uuid": "s5')
    with pytest.raises(TraceFormatError) as e:
        import_file(cut)
    assert e.value.field == "lines[4]" and "not JSON" in str(e.value)


def test_skip_invalid_keeps_the_good_sessions(fixtures: Path) -> None:
    """With skip_invalid, the looping file is listed and every other session imports."""
    result = import_traces([fixtures / FIXTURES], skip_invalid=True)
    assert [(Path(s.path).name, s.field) for s in result.skipped] == [
        ("malformed.jsonl", "lines[1].parentUuid")
    ]
    assert len(result.traces) == 5


def test_detection_claims_only_claude_code_files(fixtures: Path, shared_traces: Path) -> None:
    """Claude Code files are detected by content; no other format's file is claimed."""
    for p in sorted((fixtures / FIXTURES).glob("*.jsonl")):
        imp = detect_importer(read_document(p))
        assert imp is not None and imp.name == "claude-code", p
    assert_claims_no_other_format("claude-code", fixtures, shared_traces, own=[FOLDER])


def test_canonical_round_trip(fixtures: Path, shared_traces: Path, tmp_path: Path) -> None:
    """Claude Code traces survive the canonical JSONL round trip unchanged."""
    traces = import_traces([shared_traces / FOLDER]).traces
    traces += import_traces([fixtures / FIXTURES], skip_invalid=True).traces
    out = tmp_path / "cc.jsonl"
    write_traces(traces, out)
    assert import_file(out).traces == traces
    assert len(traces) == 11 + 5


def test_sidechain_written_child_first_is_one_trace_in_chain_order(tmp_path: Path) -> None:
    """A sidechain whose lines were appended child before parent is still one trace, in
    chain order (regression: the root of an already-walked line was looked up empty)."""
    lines = [
        {
            "type": "user" if i % 2 == 0 else "assistant",
            "uuid": f"u{i}",
            "parentUuid": f"u{i - 1}" if i else None,
            "isSidechain": True,
            "sessionId": "s",
            "agentId": "a1",
            "message": {"role": "user", "content": f"q{i}"}
            if i % 2 == 0
            else {
                "role": "assistant",
                "id": f"m{i}",
                "content": [{"type": "text", "text": f"a{i}"}],
            },
        }
        for i in range(6)
    ]
    p = tmp_path / "agent-a1.jsonl"
    p.write_text("".join(json.dumps(d) + "\n" for d in reversed(lines)))
    (t,) = import_file(p).traces
    assert t.id == "s/agent-a1"
    assert [m.text for m in t.messages] == ["q0", "a1", "q2", "a3", "q4", "a5"]


_UUIDS = st.sampled_from(["u1", "u2", "u3", "u4", None])
_LINE = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["user", "assistant", "system", "summary", "progress"]),
        "uuid": _UUIDS,
        "parentUuid": _UUIDS,
        "sessionId": st.sampled_from(["s", "t"]),
    },
    optional={
        "isSidechain": st.booleans(),
        "logicalParentUuid": _UUIDS,
        "agentId": st.sampled_from(["a", "b"]),
        "leafUuid": _UUIDS,
        "message": st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {"role": st.sampled_from(["user", "assistant"])},
                optional={
                    "id": st.sampled_from(["m1", "m2"]),
                    "content": st.one_of(
                        st.text(max_size=3),
                        st.lists(
                            st.fixed_dictionaries(
                                {"type": st.sampled_from(["text", "tool_use", "tool_result"])},
                                optional={
                                    "text": st.text(max_size=3),
                                    "id": st.sampled_from(["t1", "t2"]),
                                    "tool_use_id": st.sampled_from(["t1", "t2"]),
                                    "name": st.sampled_from(["Task", "Bash"]),
                                    "input": st.just({"prompt": "q"}),
                                    "content": st.text(max_size=3),
                                },
                            ),
                            max_size=3,
                        ),
                    ),
                },
            ),
        ),
    },
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(_LINE, min_size=1, max_size=8))
def test_any_chain_imports_or_names_the_line(tmp_path: Path, lines: list[Any]) -> None:
    """Lines with any links (loops, shared uuids, sidechains pointing anywhere) import, or
    fail with a TraceFormatError naming a line; no record error escapes --skip-invalid."""
    p = tmp_path / "chain.jsonl"
    p.write_text("".join(json.dumps(d) + "\n" for d in lines))
    try:
        result = import_file(p, format="claude-code", skip_invalid=True)
    except TraceFormatError as e:
        assert e.record is None and "chain.jsonl" in str(e)
        return
    for s in result.skipped:
        assert s.field is None or s.field.startswith("lines[")
    for t in result.traces:
        assert Trace.model_validate_json(t.model_dump_json()) == t


def test_sidechains_sharing_an_agent_id_get_distinct_ids(tmp_path: Path) -> None:
    """Two sidechains naming one agentId are two traces with ids of their own."""

    def line(uuid: str, parent: str | None, text: str) -> dict[str, Any]:
        return {
            "type": "user",
            "uuid": uuid,
            "parentUuid": parent,
            "isSidechain": True,
            "sessionId": "s",
            "agentId": "same",
            "message": {"role": "user", "content": text},
        }

    p = tmp_path / "agent-same.jsonl"
    lines = [line("a", None, "first"), line("b", None, "second"), line("c", "b", "more")]
    p.write_text("".join(json.dumps(d) + "\n" for d in lines))
    one, two = import_file(p).traces
    assert (one.id, two.id) == ("s/agent-same", "s/sidechain-b")
    assert [m.text for m in two.messages] == ["second", "more"]
