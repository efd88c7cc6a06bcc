"""The wire contract of the services app: tool calls, the request log, admin endpoints.

One place for every shape another component reads (the tool router, state capture), so that
the contract is not kept as loose strings in two places.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ADMIN_PREFIX",
    "ADMIN_TOKEN_HEADER",
    "TOOLS_HOST",
    "TOOLS_PREFIX",
    "Backend",
    "LogEntry",
    "StateDump",
    "TableNotCompared",
    "ToolFailure",
    "ToolFailureCode",
    "ToolResponse",
]

ADMIN_PREFIX = "/__deploysim"
"""Admin endpoints live under this path, on internal hosts only (see docs/design/services.md)."""

TOOLS_PREFIX = "/tools/"
"""Function tools answer ``POST /tools/<name>`` on internal hosts."""

TOOLS_HOST = "tools.deploysim.internal"
"""The hostname the sandbox maps to the services app for tool calls; any unmocked host works."""

ADMIN_TOKEN_HEADER = "x-deploysim-token"
"""Header carrying the admin token, when the app was created with one."""

Backend = Literal["exchange", "resource", "function", "unmatched"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToolResponse(_Model):
    """The answer to ``POST /tools/<name>`` (HTTP 200): what the tool returned.

    ``output`` is a JSON value; a tool whose result is text returns a JSON string. The tool
    router turns it into the tool-result text: a string as is, anything else as
    ``json.dumps(output)`` (Python's default separators, which is what most Python tools did).
    """

    output: Any = Field(description="The tool's result: a JSON value, or text as a string.")
    is_error: bool = Field(default=False, description="The tool reported an error.")


ToolFailureCode = Literal["unknown_tool", "bad_request", "no_recorded_match", "handler_failed"]


class ToolFailure(_Model):
    """A non-200 answer to ``POST /tools/<name>``: the call was not answered by the tool.

    These are never shown to the agent as tool results: the router falls back to another
    backend (``no_recorded_match``, ``unknown_tool``) or reports a harness failure
    (``bad_request``, ``handler_failed``).
    """

    error: ToolFailureCode
    detail: str = Field(description="What went wrong, for the harness log.")


class LogEntry(_Model):
    """One request the app answered, with its response (the log is part of the end state)."""

    seq: int = Field(description="Position in the log, from 0; monotonic within a run.")
    time: datetime = Field(description="The snapshot's frozen clock when set, else UTC now.")
    host: str = Field(description="Host header without the port, lowercased.")
    method: str
    path: str
    query: dict[str, list[str]] = Field(default_factory=dict)
    body: Any = Field(
        default=None,
        description="Request body: parsed JSON, or text, or None; the first bytes, as text, "
        "when body_truncated.",
    )
    body_truncated: bool = Field(
        default=False, description="The body was too long to keep: see body_size, body_sha256."
    )
    body_size: int | None = Field(default=None, description="Bytes of a truncated body.")
    body_sha256: str | None = Field(
        default=None,
        description="sha256 of a truncated body's bytes (None when refused unread: HTTP 413).",
    )
    status: int
    response: Any = Field(
        default=None,
        description="Response body: parsed JSON, text or None; the first bytes, as text, when "
        "response_truncated.",
    )
    response_truncated: bool = False
    response_size: int | None = Field(default=None, description="Bytes of a truncated response.")
    response_sha256: str | None = Field(default=None, description="Of a truncated response.")
    backend: Backend = Field(description="What answered: exchange, resource, function, unmatched.")
    service: str | None = Field(default=None, description="Service that answered.")
    tool: str | None = Field(default=None, description="Function tool name, for tool calls.")
    is_error: bool | None = Field(default=None, description="For tool calls: tool error flag.")
    note: str | None = Field(
        default=None, description="Why a request went unmatched or a handler failed."
    )


class TableNotCompared(_Model):
    """Stands in a :class:`StateDump` for a table too large to dump: it is not compared.

    The table is never cut short; capture notes it (and must not read it as deleted rows).
    """

    not_compared: Literal[True] = Field(default=True, description="Marks the table as absent.")
    rows: int = Field(description="Rows the table holds.")
    limit: int = Field(description="The cap it went over (rows or bytes, see detail).")
    bytes: int | None = Field(default=None, description="Bytes of its rows' JSON, when hashed.")
    sha256: str | None = Field(
        default=None,
        description="sha256 of its rows as sorted-key JSON lines in primary-key order (None "
        "when they were too large to hash).",
    )
    detail: str = Field(description="Which cap, in words.")


class StateDump(_Model):
    """``GET /__deploysim/state``: every table of every service database, and the log.

    A table over the dump's caps (see ``DumpLimits``) is a :class:`TableNotCompared` instead
    of its rows.
    """

    snapshot: str
    databases: dict[str, dict[str, list[dict[str, Any]] | TableNotCompared]] = Field(
        description="Database name -> table name -> rows (ordered by primary key), or a "
        "TableNotCompared for a table over the dump's caps."
    )
    log: list[LogEntry]
    log_dropped: int = Field(
        default=0, description="Entries after ``log`` not kept in memory (over its budget)."
    )
