"""Talk to the in-pod exec server over its unix socket (one JSON line each way)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from deploysim._errors import InfrastructureError

__all__ = ["ExecServerError", "SocketTransport"]

_LINE_LIMIT = 512 * 1024 * 1024


class ExecServerError(InfrastructureError):
    """The exec server did not answer (the container stopped, died or was OOM-killed)."""


class SocketTransport:
    """Requests to the exec server listening on ``socket_path`` (a host path)."""

    def __init__(self, socket_path: Path) -> None:
        self.socket_path = socket_path

    async def call(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one request and return the decoded response.

        Raises:
            ExecServerError: the server is unreachable or hung up without answering.
        """
        try:
            reader, writer = await asyncio.open_unix_connection(
                str(self.socket_path), limit=_LINE_LIMIT
            )
        except OSError as e:
            raise ExecServerError(f"exec server at {self.socket_path} is unreachable: {e}") from e
        try:
            writer.write(json.dumps(request).encode() + b"\n")
            await writer.drain()
            line = await reader.readline()
        except (OSError, asyncio.IncompleteReadError) as e:
            raise ExecServerError(f"exec server connection failed: {e}") from e
        finally:
            writer.close()
        if not line:
            raise ExecServerError("exec server hung up without answering")
        response: dict[str, Any] = json.loads(line)
        return response
