"""The request log: every request the app answered, with its response, in order.

Kept in memory for the admin endpoints and appended to ``state_dir/requests.jsonl`` (one
:class:`LogEntry` per line, flushed per request), so the end state can be read from the file
even when the app is gone.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deploysim.services._answer import Answer
from deploysim.services._matching import IncomingRequest
from deploysim.services._protocol import LogEntry

__all__ = ["LOG_FILE", "RequestLog"]

LOG_FILE = "requests.jsonl"


class RequestLog:
    """Numbered log entries, in memory and in a JSONL file."""

    def __init__(self, state_dir: Path, clock: datetime | None) -> None:
        self.path = state_dir / LOG_FILE
        self.clock = clock
        self.entries: list[LogEntry] = []
        self.path.write_text("", encoding="utf-8")

    def record(self, host: str, req: IncomingRequest, answer: Answer, response: Any) -> LogEntry:
        """Append the entry for ``req`` answered by ``answer`` (whose body is ``response``)."""
        entry = LogEntry(
            seq=len(self.entries),
            time=self.clock or datetime.now(UTC),
            host=host,
            method=req.method,
            path=req.path,
            query=req.query,
            body=req.body,
            status=answer.status,
            response=response,
            backend=answer.backend,
            service=answer.service,
            tool=answer.tool,
            is_error=answer.is_error,
            note=answer.note,
        )
        self.entries.append(entry)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry.model_dump(mode="json"), ensure_ascii=False) + "\n")
        return entry

    def since(self, seq: int) -> list[LogEntry]:
        """Entries numbered ``seq`` and later."""
        return self.entries[max(seq, 0) :]

    def clear(self) -> None:
        """Forget every entry (numbering starts again at 0) and empty the file."""
        self.entries.clear()
        self.path.write_text("", encoding="utf-8")
