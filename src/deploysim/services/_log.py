"""The request log: every request the app answered, with its response, in order.

Kept in memory for the admin endpoints and appended to ``state_dir/requests.jsonl`` (one
:class:`LogEntry` per line, flushed per request), so the end state can be read from the file
even when the app is gone.

The agent decides what it sends, so the log is bounded: a request or response body over
``body_limit`` bytes is kept as its first ``prefix_bytes`` (as text), its size and its
sha256, flagged ``body_truncated`` / ``response_truncated`` (the hash tells two long bodies
apart). Once the entries in memory hold ``memory_budget`` bytes, later entries still go to
the file but not into memory, and the admin dump counts them in ``log_dropped``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from deploysim.services._answer import Answer
from deploysim.services._matching import IncomingRequest
from deploysim.services._protocol import LogEntry

__all__ = ["LOG_FILE", "LogLimits", "RequestLog"]

LOG_FILE = "requests.jsonl"


class LogLimits(BaseModel):
    """How much of each request the log keeps, and how much the log keeps in memory."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    body_limit: int = Field(default=64 * 1024, description="Bodies up to this size kept whole.")
    prefix_bytes: int = Field(default=4 * 1024, description="Bytes kept of a longer body.")
    memory_budget: int = Field(default=64 << 20, description="Bytes of entries kept in memory.")


class _Kept(NamedTuple):
    value: Any
    truncated: bool
    size: int | None
    sha256: str | None


def _keep(value: Any, raw: bytes | None, limits: LogLimits) -> _Kept:
    """``value`` when its bytes ``raw`` are small, else their prefix, size and hash."""
    if raw is None or len(raw) <= limits.body_limit:
        return _Kept(value, False, None, None)
    prefix = raw[: limits.prefix_bytes].decode("utf-8", errors="ignore")
    return _Kept(prefix, True, len(raw), hashlib.sha256(raw).hexdigest())


class RequestLog:
    """Numbered log entries, in memory and in a JSONL file, with bounded bodies."""

    def __init__(
        self, state_dir: Path, clock: datetime | None, limits: LogLimits | None = None
    ) -> None:
        self.path = state_dir / LOG_FILE
        self.clock = clock
        self.limits = limits or LogLimits()
        self.entries: list[LogEntry] = []
        self.dropped = 0
        self._held = 0
        self.path.write_text("", encoding="utf-8")

    def record(
        self,
        host: str,
        req: IncomingRequest,
        answer: Answer,
        response: Any,
        *,
        raw_body: bytes | None = None,
        raw_response: bytes | None = None,
        body_size: int | None = None,
    ) -> LogEntry:
        """Append the entry for ``req`` answered by ``answer`` (whose body is ``response``).

        ``raw_body`` and ``raw_response`` are the bytes on the wire, which decide whether a
        body is kept whole. ``body_size`` is the size of a body refused unread (HTTP 413),
        of which ``raw_body`` is only the start.
        """
        body = _keep(req.body, raw_body, self.limits)
        if body_size is not None:
            body = _Kept(body.value, True, body_size, None)  # the whole body was never read
        resp = _keep(response, raw_response, self.limits)
        entry = LogEntry(
            seq=len(self.entries) + self.dropped,
            time=self.clock or datetime.now(UTC),
            host=host,
            method=req.method,
            path=req.path,
            query=req.query,
            body=body.value,
            body_truncated=body.truncated,
            body_size=body.size,
            body_sha256=body.sha256,
            status=answer.status,
            response=resp.value,
            response_truncated=resp.truncated,
            response_size=resp.size,
            response_sha256=resp.sha256,
            backend=answer.backend,
            service=answer.service,
            tool=answer.tool,
            is_error=answer.is_error,
            note=answer.note,
        )
        line = json.dumps(entry.model_dump(mode="json"), ensure_ascii=False)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")
        # Once one entry is dropped all later ones are, so that entries[i].seq == i.
        if self.dropped or self._held + len(line) > self.limits.memory_budget:
            self.dropped += 1
        else:
            self._held += len(line)
            self.entries.append(entry)
        return entry

    def since(self, seq: int) -> list[LogEntry]:
        """Entries numbered ``seq`` and later (of those kept in memory)."""
        return self.entries[max(seq, 0) :]

    def clear(self) -> None:
        """Forget every entry (numbering starts again at 0) and empty the file."""
        self.entries.clear()
        self.dropped = 0
        self._held = 0
        self.path.write_text("", encoding="utf-8")
