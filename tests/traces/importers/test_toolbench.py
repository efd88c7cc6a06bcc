from pathlib import Path

import pytest

from deploysim.errors import TraceFormatError, UnknownFormatError
from deploysim.traces import Trace, import_file, import_traces, validate
from tests.traces.detection import assert_claims_no_other_format


def _fixture(fixtures: Path, name: str) -> Path:
    return fixtures / "toolbench" / name


def _shape(t: Trace) -> list[tuple[str, list[str]]]:
    return [
        (m.role, [getattr(p, "name", None) or getattr(p, "type", "") for p in m.parts])
        for m in t.messages
    ]


def test_detected_by_content(fixtures: Path, shared_traces: Path) -> None:
    """Answer files are detected; the sniffer claims no other format's fixture or real file."""
    for name in ("answer_give_answer.json", "answer_gave_up.json", "answer_no_train_messages.json"):
        assert import_file(_fixture(fixtures, name)).format == "toolbench"
    assert_claims_no_other_format(
        "toolbench", fixtures, shared_traces, own=["toolbench-rapidapi-chatgpt-dfsdt"]
    )


def test_answer_path_is_the_conversation(fixtures: Path) -> None:
    """The path ending in Finish(give_answer) is the conversation, prompts from train_messages."""
    (t,) = import_file(_fixture(fixtures, "answer_give_answer.json")).traces
    assert t.id == "toolbench/answer_give_answer"
    assert t.metadata["chosen_by"] == "give_answer"
    assert _shape(t) == [
        ("system", ["text"]),
        ("user", ["text"]),
        ("assistant", ["text", "get_weather_for_meteo"]),
        ("tool", ["get_weather_for_meteo"]),
        ("assistant", ["get_forecast_for_meteo"]),
        ("tool", ["get_forecast_for_meteo"]),
        ("assistant", ["text", "Finish"]),
        ("tool", ["Finish"]),
    ]
    assert t.messages[2].text == "The last try timed out; try again, then get the forecast."
    calls = t.tool_calls()
    assert [c.id for c in calls] == ["step-2", "step-3", "step-4"]
    assert calls[1].arguments == {"city": "Lyon", "days": 2}
    assert [r.is_error for r in t.tool_results()] == [False, False, False]
    assert t.messages[-1].metadata == {"observation_code": 3}
    assert [s.name for s in t.tools] == [
        "get_weather_for_meteo",
        "get_forecast_for_meteo",
        "Finish",
    ]
    assert validate(t) == []


def test_abandoned_branches_are_kept_in_metadata(fixtures: Path) -> None:
    """Every step of the tree is listed in exploration order, with parents and responses."""
    (t,) = import_file(_fixture(fixtures, "answer_give_answer.json")).traces
    tree = t.metadata["search_tree"]
    assert [(s["step"], s["parent"], s["name"], s["chosen"]) for s in tree] == [
        (0, None, "get_weather_for_meteo", False),
        (1, 0, "Finish", False),
        (2, None, "get_weather_for_meteo", True),
        (3, 2, "get_forecast_for_meteo", True),
        (4, 3, "Finish", True),
    ]
    assert tree[0]["observation_code"] == 5 and "Timeout" in tree[0]["observation"]
    assert tree[1]["pruned"] is True
    assert tree[0]["thought"] == "I should check the weather in Lyon first."


def test_gave_up_run_follows_train_messages(fixtures: Path) -> None:
    """Without an answer, the chain train_messages records is chosen, not the last explored."""
    (t,) = import_file(_fixture(fixtures, "answer_gave_up.json")).traces
    assert t.metadata["chosen_by"] == "train_messages"
    assert [c.name for c in t.tool_calls()] == ["get_weather_for_meteo", "Finish"]
    first = t.tool_results()[0]
    assert first.is_error and "Message error" in first.output
    assert t.messages[1].text == "Weather in Atlantis?"


def test_without_train_messages_the_last_explored_path(fixtures: Path) -> None:
    """No train_messages: the last path explored, the user turn from the query, no system."""
    (t,) = import_file(_fixture(fixtures, "answer_no_train_messages.json")).traces
    assert t.metadata["chosen_by"] == "last_explored"
    assert _shape(t) == [
        ("user", ["text"]),
        ("assistant", ["text", "get_forecast_for_meteo"]),
        ("tool", ["get_forecast_for_meteo"]),
        ("assistant", ["text"]),
    ]
    assert t.tool_results()[0].is_error  # the rate limit
    assert t.messages[-1].text == "I cannot finish this."


def test_instruction_files_are_ignored_with_a_reason(fixtures: Path, tmp_path: Path) -> None:
    """A query list is not a conversation: ignored in a directory, an error when named."""
    folder = tmp_path / "run"
    folder.mkdir()
    for name in ("G1_query.json", "answer_gave_up.json"):
        (folder / name).write_bytes(_fixture(fixtures, name).read_bytes())
    result = import_traces([folder])
    assert [Path(f.path).name for f in result.files] == ["answer_gave_up.json"]
    (ignored,) = result.ignored
    assert Path(ignored.path).name == "G1_query.json"
    assert "ToolBench instruction file" in ignored.reason
    with pytest.raises(UnknownFormatError, match="not a conversation"):
        import_file(folder / "G1_query.json")


def test_malformed_names_the_field(fixtures: Path) -> None:
    """An Action without its function name fails naming the tree field."""
    with pytest.raises(TraceFormatError) as e:
        import_file(_fixture(fixtures, "malformed.json"))
    assert e.value.field == "tree.tree.children[0].children[0].description"


def test_round_trip(fixtures: Path) -> None:
    """Every imported trace survives a JSON round trip unchanged."""
    for name in ("answer_give_answer.json", "answer_gave_up.json", "answer_no_train_messages.json"):
        for t in import_file(_fixture(fixtures, name)).traces:
            assert Trace.model_validate_json(t.model_dump_json()) == t
