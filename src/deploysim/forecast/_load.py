"""Reading and writing a run's grades: ``grades.jsonl``, one :class:`SampleGrade` per line.

A *run* is either the grades file itself or a folder holding ``grades.jsonl``
(docs/forecast.md). Graders write it with :func:`write_grades`; the forecast reads it with
:func:`load_grades`, so it can be recomputed without the inspect logs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from pydantic import ValidationError

from deploysim.forecast._errors import ForecastInputError
from deploysim.forecast._model import SampleGrade

__all__ = [
    "GRADES_FILENAME",
    "Duplicate",
    "GradesRun",
    "duplicate_samples",
    "grades_path",
    "load_grades",
    "write_grades",
]

GRADES_FILENAME = "grades.jsonl"


class GradesRun(NamedTuple):
    """The grades of a run and the file they were read from."""

    path: Path
    grades: list[SampleGrade]


class Duplicate(NamedTuple):
    """Two grades for the same (arm, trace, cut): indices into the list."""

    first: int
    second: int


def grades_path(run: str | Path) -> Path:
    """The grades file of a run: ``run`` itself, or ``run/grades.jsonl`` for a folder."""
    path = Path(run)
    if path.is_dir():
        inner = path / GRADES_FILENAME
        if not inner.is_file():
            raise ForecastInputError(path, f"the folder holds no {GRADES_FILENAME}")
        return inner
    if not path.is_file():
        raise ForecastInputError(path, f"no such file or folder (expected {GRADES_FILENAME})")
    return path


def duplicate_samples(grades: Sequence[SampleGrade]) -> list[Duplicate]:
    """Pairs of grades for the same arm, trace and cut, among non-failed samples.

    A prefix is graded once per arm; a second grade would be counted twice. Samples the
    infrastructure failed are left out, so a failed attempt beside its retry is allowed.
    """
    seen: dict[tuple[str, str, int], int] = {}
    found = []
    for index, grade in enumerate(grades):
        if grade.infrastructure_error is not None:
            continue
        key = (grade.arm, grade.trace_id, grade.cut)
        if key in seen:
            found.append(Duplicate(seen[key], index))
        else:
            seen[key] = index
    return found


def load_grades(run: str | Path) -> GradesRun:
    """Read a run's grades; errors name the file, the line and the field."""
    path = grades_path(run)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ForecastInputError(path, f"cannot read: {e}") from e
    grades: list[SampleGrade] = []
    lines: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            grades.append(SampleGrade.model_validate_json(line))
        except ValidationError as e:
            error = e.errors()[0]
            field = ".".join(str(part) for part in error["loc"]) or None
            raise ForecastInputError(path, error["msg"], line=number, field=field) from e
        lines.append(number)
    if not grades:
        raise ForecastInputError(path, "no grades in the file")
    for dup in duplicate_samples(grades):
        grade = grades[dup.second]
        raise ForecastInputError(
            path,
            f"second {grade.arm} grade for trace {grade.trace_id!r} cut {grade.cut} "
            f"(first on line {lines[dup.first]}); grade each prefix once per arm",
            line=lines[dup.second],
        )
    return GradesRun(path, grades)


def write_grades(path: str | Path, grades: Iterable[SampleGrade]) -> Path:
    """Write grades as JSONL (one per line, defaults omitted); returns the file written.

    ``path`` may be a folder, which receives ``grades.jsonl``.
    """
    target = Path(path)
    if target.is_dir():
        target = target / GRADES_FILENAME
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8") as out:
        for grade in grades:
            out.write(grade.model_dump_json(exclude_defaults=True))
            out.write("\n")
    return target
