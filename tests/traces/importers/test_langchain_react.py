import csv
import time
from pathlib import Path

import pytest

from deploysim.errors import TraceFormatError, UnknownFormatError
from deploysim.traces import Trace, import_file, import_traces, read_document
from deploysim.traces._registry import get_importer
from tests.traces.detection import assert_claims_no_other_format

FMT = "langchain-react-csv"


def _fixture(fixtures: Path, name: str) -> Path:
    return fixtures / FMT / name


def test_detected_by_content(fixtures: Path, shared_traces: Path) -> None:
    """Run CSVs of three shapes are detected; the sniffer claims no other format's files."""
    for name in ("workbench_results.csv", "json_steps.csv", "react_transcripts.csv"):
        assert import_file(_fixture(fixtures, name), skip_invalid=True).format == FMT
    assert_claims_no_other_format(
        FMT, fixtures, shared_traces, own=["workbench-langchain-tabular-db"]
    )


def test_tables_that_are_not_runs_are_not_claimed(fixtures: Path, shared_traces: Path) -> None:
    """A state table, a query list and a header-less directory are not claimed, and ignored."""
    sniff = get_importer(FMT).sniff
    assert not sniff(read_document(_fixture(fixtures, "state_table.csv")))
    workbench = shared_traces / "workbench-langchain-tabular-db" / "data"
    not_runs = [
        *sorted((workbench / "processed").rglob("*.csv")),
        workbench / "raw" / "email_addresses.csv",
    ]
    assert len(not_runs) == 12
    for p in not_runs:
        assert not sniff(read_document(p)), p
    with pytest.raises(UnknownFormatError):
        import_file(_fixture(fixtures, "state_table.csv"))


def test_words_alone_do_not_make_a_run_column(tmp_path: Path) -> None:
    """Cells that mention tool_input but do not read as runs leave the CSV unclaimed."""
    path = tmp_path / "config.csv"
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(
            [["name", "settings"], ["a", "{'tool_input': 1}"], ["b", "['tool_input']"]]
        )
    assert not get_importer(FMT).sniff(read_document(path))


def test_repr_runs_become_calls_and_results(fixtures: Path) -> None:
    """AgentAction reprs: thought text, the call, the observation text and its structure."""
    f = import_file(_fixture(fixtures, "workbench_results.csv"), skip_invalid=True)
    t = f.traces[0]
    assert t.id == "workbench_results/row-0"
    assert [m.role for m in t.messages] == ["user"] + ["assistant", "tool"] * 4 + ["assistant"]
    assert t.messages[0].text == "Delete my first meeting on December 13"
    assert t.messages[-1].text == "Done: deleted."
    calls, results = t.tool_calls(), t.tool_results()
    assert [(c.id, c.name) for c in calls] == [
        ("step-0", "calendar.search_events"),
        ("step-1", "calendar.delete_event"),
        ("step-2", "directory.find_email"),
        ("step-3", "calendar.make_coffee"),
    ]
    assert calls[1].arguments == {"event_id": "00000256"}
    assert t.messages[3].text == "I will delete the first one."
    assert t.messages[3].metadata["log"].startswith(" I will delete")
    assert results[0].structured == [{"event_id": "00000256", "event_name": "sync", "notes": None}]
    assert results[0].output.startswith("[{'event_id': '00000256'")
    assert results[1].output == "Event deleted successfully." and results[1].structured is None
    assert results[2].output == "array(['fatima.khan@atlas.com'], dtype=object)"
    assert results[3].is_error and results[3].error_type == "invalid_tool"
    assert t.metadata["columns"]["function_calls"] == "['calendar.search_events.func()']"


def test_a_crashed_row_is_a_user_turn_with_its_error(fixtures: Path) -> None:
    """An empty run cell keeps the query and the error column; nothing is invented."""
    t = import_file(_fixture(fixtures, "workbench_results.csv"), skip_invalid=True).traces[1]
    assert [(m.role, m.text) for m in t.messages] == [("user", "Book a room")]
    assert t.metadata["columns"]["error"] == "Context window exceeded"


def test_bad_run_cell_names_row_and_column(fixtures: Path) -> None:
    """A run cell that is not a literal fails as its row and column; good rows are kept."""
    with pytest.raises(TraceFormatError) as e:
        import_file(_fixture(fixtures, "workbench_results.csv"))
    assert (e.value.record, e.value.field) == (2, "full_response")
    f = import_file(_fixture(fixtures, "workbench_results.csv"), skip_invalid=True)
    assert [t.source.index for t in f.traces] == [0, 1]
    assert [(s.record, s.field) for s in f.skipped] == [(2, "full_response")]


def test_json_serialized_steps(fixtures: Path) -> None:
    """LangChain's JSON serialization: recorded call id, parsing errors marked."""
    (t,) = import_file(_fixture(fixtures, "json_steps.csv")).traces
    assert t.messages[0].text == "Weather in Paris?"
    calls, results = t.tool_calls(), t.tool_results()
    assert [c.id for c in calls] == ["call_abc", "step-1"]
    assert calls[0].arguments == {"city": "Paris"}
    assert calls[1].arguments == {"input": "Invalid Format: Missing 'Action:'"}
    assert results[1].is_error and results[1].error_type == "parsing"
    assert t.metadata["columns"] == {
        "id": "q1",
        "question": "Weather in Paris?",
        "answer": "Rainy.",
    }


def test_react_transcript(fixtures: Path) -> None:
    """A text transcript: Question, Thought/Action/Action Input/Observation, Final Answer."""
    (t,) = import_file(_fixture(fixtures, "react_transcripts.csv")).traces
    assert [m.role for m in t.messages] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
    ]
    search, calc = t.tool_calls()
    assert (search.name, search.arguments) == ("search", {"input": "population of Lyon"})
    assert calc.arguments == {"expression": "7*6 + 522250"}
    assert t.messages[1].text == "I need the population of Lyon first."
    assert t.tool_results()[0].output == "Lyon has 522,250 inhabitants (2021)."
    assert t.messages[-1].text == "522292"


def test_malformed_csv_rows_are_record_errors(tmp_path: Path) -> None:
    """A row with more cells than the header is a record error; the others import."""
    path = tmp_path / "runs.csv"
    good = "(AgentAction(tool='t', tool_input='x', log=''), 'ok')"
    path.write_text(f'input,steps\nq1,"[{good}]"\nq2,"[{good}]",extra\nq3,"[{good}]"\n')
    f = import_file(path, skip_invalid=True)
    assert [t.source.index for t in f.traces] == [0, 2]
    assert f.skipped[0].record == 1 and "3 cells" in f.skipped[0].reason


def test_large_file_imports_fast(tmp_path: Path) -> None:
    """Two thousand runs import in a few seconds (the parser reads, never evaluates)."""
    path = tmp_path / "many.csv"
    step = (
        "(AgentAction(tool='email.search', tool_input={'query': 'x'}, log='Action: x'),"
        " [{'id': '1'}])"
    )
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["query", "full_response"])
        for i in range(2000):
            w.writerow(
                [f"q{i}", "{'input': 'q', 'output': 'o', 'intermediate_steps': [" + step + "]}"]
            )
    start = time.monotonic()
    result = import_traces([tmp_path])
    assert len(result.traces) == 2000
    assert time.monotonic() - start < 10


def test_round_trip(fixtures: Path) -> None:
    """Every imported trace survives a JSON round trip unchanged."""
    for name in ("workbench_results.csv", "json_steps.csv", "react_transcripts.csv"):
        for t in import_file(_fixture(fixtures, name), skip_invalid=True).traces:
            assert Trace.model_validate_json(t.model_dump_json()) == t


def test_run_cells_are_read_never_evaluated(tmp_path: Path) -> None:
    """Code in a run cell stays text: the repr reader walks the syntax tree, runs nothing."""
    marker = tmp_path / "pwned"
    payload = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    step = f"(AgentAction(tool='t', tool_input={{'q': {payload}}}, log=''), {payload})"
    path = tmp_path / "runs.csv"
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows([["input", "steps"], ["q", f"[{step}]"]])
    (t,) = import_file(path).traces
    assert not marker.exists()
    assert t.tool_results()[0].output == payload
    assert t.tool_calls()[0].arguments is None  # not a literal: kept raw, flagged
    assert t.tool_calls()[0].parse_error == "tool_input is not an object"


def test_deeply_nested_cell_is_a_record_error(tmp_path: Path) -> None:
    """A cell nested past the parser's limit fails as its row and column, nothing else."""
    path = tmp_path / "runs.csv"
    good = "[(AgentAction(tool='t', tool_input={}, log=''), 'ok')]"
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(
            [
                ["input", "steps"],
                ["a", good],
                ["b", "[" * 5000 + "AgentAction("],
                ["c", "[" + "-" * 100_000 + "1, AgentAction()]"],
                ["d", good],
            ]
        )
    f = import_file(path, skip_invalid=True)
    assert [t.source.index for t in f.traces] == [0, 3]
    assert [(s.record, s.field) for s in f.skipped] == [(1, "steps"), (2, "steps")]
    assert all("nested" in s.reason for s in f.skipped)
