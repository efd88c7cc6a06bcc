"""The grades file: where a run keeps it, how it is read and written, what is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deploysim.forecast import (
    GRADES_FILENAME,
    ForecastInputError,
    SampleGrade,
    load_grades,
    write_grades,
)

from .conftest import DATA, grade


def test_a_run_is_a_grades_file_or_a_folder_holding_one(tmp_path: Path) -> None:
    """The example file loads directly and through a folder with the same grades."""
    direct = load_grades(DATA / "grades.jsonl")
    shutil.copy(DATA / "grades.jsonl", tmp_path / GRADES_FILENAME)
    via_folder = load_grades(tmp_path)
    assert via_folder.grades == direct.grades
    assert via_folder.path == tmp_path / GRADES_FILENAME
    assert len(direct.grades) == len((DATA / "grades.jsonl").read_text().splitlines())


def test_write_then_load_gives_equal_grades(tmp_path: Path, run_grades: list[SampleGrade]) -> None:
    """write_grades (into a folder) and load_grades round-trip every field."""
    path = write_grades(tmp_path, run_grades)
    assert path.name == GRADES_FILENAME
    assert load_grades(tmp_path).grades == run_grades


def test_folder_without_grades_and_missing_path_are_errors(tmp_path: Path) -> None:
    """An empty folder and a missing path raise ForecastInputError naming the path."""
    with pytest.raises(ForecastInputError, match=GRADES_FILENAME):
        load_grades(tmp_path)
    with pytest.raises(ForecastInputError, match="no such file"):
        load_grades(tmp_path / "nope.jsonl")


def test_a_bad_line_is_named_with_its_field(tmp_path: Path) -> None:
    """A record with a wrong arm fails with the line number (blank lines counted) and field."""
    good = grade("t", 1, "baseline", {"x": True}).model_dump_json()
    bad = good.replace('"baseline"', '"control"')
    path = tmp_path / "g.jsonl"
    path.write_text(f"{good}\n\n{bad}\n")
    with pytest.raises(ForecastInputError) as caught:
        load_grades(path)
    assert (caught.value.line, caught.value.field) == (3, "arm")


def test_unknown_fields_are_refused(tmp_path: Path) -> None:
    """extra=forbid: a misspelt field is an error, not silently dropped."""
    line = grade("t", 1, "baseline", {"x": True}).model_dump_json()[:-1] + ', "catgories": []}'
    path = tmp_path / "g.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(ForecastInputError) as caught:
        load_grades(path)
    assert caught.value.field == "catgories"


def test_an_empty_file_is_an_error(tmp_path: Path) -> None:
    """A grades file without a record cannot give a forecast."""
    path = tmp_path / "g.jsonl"
    path.write_text("\n")
    with pytest.raises(ForecastInputError, match="no grades"):
        load_grades(path)


def test_a_prefix_graded_twice_in_one_arm_is_an_error_unless_one_failed(tmp_path: Path) -> None:
    """Duplicates name both lines; a failed attempt beside its retry is accepted."""
    first = grade("t", 1, "candidate", {"x": True})
    failed = first.model_copy(update={"infrastructure_error": "container died"})
    path = tmp_path / "g.jsonl"
    write_grades(path, [failed, first])
    assert len(load_grades(path).grades) == 2
    write_grades(path, [first, grade("u", 1, "candidate", {}), first])
    with pytest.raises(ForecastInputError, match="first on line 1") as caught:
        load_grades(path)
    assert caught.value.line == 3
