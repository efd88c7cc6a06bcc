"""Errors of the replay stage (harness errors, see :mod:`deploysim._errors`)."""

from __future__ import annotations

from pathlib import Path

from deploysim._errors import InputError

__all__ = ["ScenarioError"]


class ScenarioError(InputError):
    """A scenario file is invalid, or what it points at cannot be used.

    Attributes:
        path: the scenario file (or the file it points at that failed).
        field: dotted path of the offending field, or None.
        reason: what is wrong and how to fix it.
    """

    def __init__(self, path: str | Path, reason: str, *, field: str | None = None) -> None:
        self.path = str(path)
        self.field = field
        self.reason = reason
        where = self.path + (f", field {field}" if field else "")
        super().__init__(f"{where}: {reason}")
