"""Errors of the grading stage (harness errors, see :mod:`deploysim._errors`).

A grader never raises for what a model did: behaviour is data. These are raised for bad
input (an unreadable log, a rubric file that does not parse, an unknown grader or category)
and always name the file and the field when there is one.
"""

from __future__ import annotations

from pathlib import Path

from deploysim._errors import InputError

__all__ = ["GraderError", "RubricError"]


class GraderError(InputError):
    """Grading cannot proceed: an unknown grader or category, a log without replay samples."""


class RubricError(GraderError):
    """A rubric file is invalid.

    Attributes:
        path: the rubric file.
        field: the front-matter field at fault, or None.
        reason: what is wrong.
    """

    def __init__(self, path: str | Path, reason: str, *, field: str | None = None) -> None:
        self.path = str(path)
        self.field = field
        self.reason = reason
        where = self.path + (f", field {field}" if field else "")
        super().__init__(f"{where}: {reason}")
