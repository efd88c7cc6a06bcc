"""Resume only what finished: a sample without its replay record is run again, never kept.

inspect's eval set reuses every sample of an earlier log that has no error. A sample can end
without error and still without its replay record (an interruption between the solver and
the log, a log written by an older version, a store lost on the way), and graders would then
read it as a sample in which the candidate did nothing. So before an eval set resumes a log
folder, :func:`invalidate_unfinished` marks such samples invalid with inspect's own
``invalidate_samples``: the eval set then runs them again, from scratch, and keeps the rest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from pydantic import BaseModel, ConfigDict, Field

from deploysim._errors import InputError
from deploysim.replay._record import RECORD_KEY

__all__ = ["UnfinishedSample", "invalidate_unfinished", "is_unfinished"]

_META_KEY = "deploysim"  # the replay's sample metadata key (replay._solver.META_KEY)
_REASON = "no replay record: the sample did not finish and is run again"


class UnfinishedSample(BaseModel):
    """A sample of a log that has no replay record."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    log: str = Field(description="The log file.")
    sample_id: str
    epoch: int


def is_unfinished(sample: Any) -> bool:
    """A replay sample (of an ``EvalSample``) that ended without error and without its record."""
    return (
        sample.error is None
        and sample.invalidation is None
        and _META_KEY in (sample.metadata or {})
        and (sample.store or {}).get(RECORD_KEY) is None
    )


def invalidate_unfinished(log_dir: str | Path) -> list[UnfinishedSample]:
    """Invalidate, in place, the samples of ``log_dir``'s logs that have no replay record.

    Logs still being written (status ``started``) are left to inspect's own recovery.

    Raises:
        InputError: a log of the folder cannot be read (names the file).
    """
    from inspect_ai.log import (
        ProvenanceData,
        invalidate_samples,
        list_eval_logs,
        read_eval_log,
        write_eval_log,
    )

    found: list[UnfinishedSample] = []
    for info in list_eval_logs(str(log_dir)):
        try:
            if read_eval_log(info.name, header_only=True).status == "started":
                continue
            log = read_eval_log(info.name)
        except (OSError, ValueError) as e:
            raise InputError(f"{_local(info.name)}: not a readable inspect log: {e}") from e
        todo = [s for s in log.samples or [] if is_unfinished(s) and s.uuid is not None]
        if not todo:
            continue
        log = invalidate_samples(
            log,
            [str(s.uuid) for s in todo],
            ProvenanceData(author="deploysim replay", reason=_REASON),
        )
        write_eval_log(log, info.name)
        where = _local(info.name)
        found += [UnfinishedSample(log=where, sample_id=str(s.id), epoch=s.epoch) for s in todo]
    return found


def _local(name: str) -> str:
    """A log's path, for people: inspect lists local logs as file:// URIs."""
    parsed = urlparse(name)
    return unquote(parsed.path) if parsed.scheme == "file" else name
