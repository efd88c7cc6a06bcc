"""Errors of the replay stage (harness errors, see :mod:`deploysim._errors`)."""

from __future__ import annotations

from pathlib import Path

from deploysim._errors import DeploysimError, InputError

__all__ = ["MissingRecordError", "PrefixLimitError", "ScenarioError"]


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


class MissingRecordError(DeploysimError):
    """A replay sample carries no replay record: it did not finish and must be re-run.

    Raised by the replay's scorer, so that such a sample is an errored sample (which
    ``deploysim replay`` retries and runs again on resume), never one graded as if the
    candidate had done nothing.
    """


class PrefixLimitError(DeploysimError):
    """A sample limit ran out while the prefix's calls were re-executed, before hand-over.

    The candidate had not acted yet, so this is not its behaviour: the sample errors (kind
    ``other``) instead of being graded as a candidate that did nothing. Raise the scenario's
    ``limits.time_limit``, or cut later.
    """
