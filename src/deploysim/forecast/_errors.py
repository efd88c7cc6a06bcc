"""Errors of the forecast stage (harness errors, see :mod:`deploysim._errors`)."""

from __future__ import annotations

from pathlib import Path

from deploysim._errors import InputError

__all__ = ["ForecastInputError"]


class ForecastInputError(InputError):
    """A grades file or a production-rates file cannot be used for a forecast.

    Attributes:
        path: the file at fault (or ``<grades>`` for grades passed from Python).
        reason: what is wrong and how to fix it.
        line: 1-based line of the file, or None when the whole file is at fault.
        field: the offending field or CSV column, or None.
    """

    def __init__(
        self,
        path: str | Path,
        reason: str,
        *,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = str(path)
        self.reason = reason
        self.line = line
        self.field = field
        where = self.path
        if line is not None:
            where += f", line {line}"
        if field:
            where += f", field {field}"
        super().__init__(f"{where}: {reason}")
