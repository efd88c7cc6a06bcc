"""What a backend answers with, before it becomes an HTTP response."""

from __future__ import annotations

from typing import Any, NamedTuple

from deploysim.services._protocol import Backend

__all__ = ["Answer"]


class Answer(NamedTuple):
    """A response to send and how to log it."""

    status: int
    body: Any = None
    """JSON body (ignored when ``text`` is set)."""
    text: str | None = None
    """Raw body text, sent as is."""
    headers: dict[str, str] = {}
    backend: Backend = "unmatched"
    service: str | None = None
    tool: str | None = None
    is_error: bool | None = None
    note: str | None = None
