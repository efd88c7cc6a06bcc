"""`deploysim services ...`: serve a snapshot's mocked services (HTTP APIs, function tools).

FastAPI and uvicorn are imported inside the command, so that ``import deploysim.cli`` stays
light.
"""

from __future__ import annotations

import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from deploysim.cli._output import err_console

__all__ = ["app"]

app = typer.Typer(
    help="Serve a snapshot's mocked services: recorded APIs, resources and function tools.",
    no_args_is_help=True,
)


class LogLevel(StrEnum):
    """uvicorn log levels."""

    critical = "critical"
    error = "error"
    warning = "warning"
    info = "info"
    debug = "debug"


@app.callback()
def _group() -> None:
    """Serve a snapshot's mocked services: recorded APIs, resources and function tools."""


@contextmanager
def _state_dir(given: Path | None) -> Iterator[Path]:
    if given is not None:
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="deploysim-services-") as tmp:
        yield Path(tmp)


@app.command()
def serve(
    snapshot: Annotated[
        Path,
        typer.Argument(help="Snapshot folder (or its snapshot.yaml).", exists=True),
    ],
    port: Annotated[
        int, typer.Option("--port", "-p", min=1, max=65535, help="Port on 127.0.0.1.")
    ] = 8080,
    state_dir: Annotated[
        Path | None,
        typer.Option(
            "--state-dir",
            help="Where the live SQLite files and requests.jsonl go; kept after exit. "
            "A temporary folder, removed on exit, when omitted.",
            file_okay=False,
        ),
    ] = None,
    admin_token: Annotated[
        str | None,
        typer.Option(
            "--admin-token",
            envvar="DEPLOYSIM_ADMIN_TOKEN",
            help="Require this token (header X-Deploysim-Token) on admin and tool endpoints.",
        ),
    ] = None,
    log_level: Annotated[
        LogLevel, typer.Option("--log-level", help="uvicorn's log level.")
    ] = LogLevel.warning,
) -> None:
    """Serve SNAPSHOT's services over HTTP on 127.0.0.1 until interrupted.

    Requests are routed by Host header to the service claiming that hostname; function tools
    answer POST /tools/<name>, and /__deploysim/{health,state,log,reset} are the admin
    endpoints (see docs/services.md).

    Example: deploysim services serve env_snapshots/airline --port 8080 --state-dir /tmp/airline
    """
    import uvicorn

    from deploysim.services import create_app

    with _state_dir(state_dir) as folder:
        web = create_app(snapshot, folder, admin_token=admin_token)
        services = web.state.services
        names = ", ".join(s.name for s in services.sd.snapshot.services) or "none"
        err_console.print(
            f"serving snapshot {services.sd.snapshot.name!r} on http://127.0.0.1:{port} "
            f"(services: {names}; {len(services.tools.tools)} function tools); state in {folder}"
        )
        # No Server header: responses must not tell the agent what answers them.
        config = uvicorn.Config(
            web,
            host="127.0.0.1",
            port=port,
            log_level=log_level.value,
            server_header=False,
            lifespan="off",
        )
        with _stop_quietly():
            uvicorn.Server(config).run()


class _Stopped(Exception):
    """SIGTERM or SIGINT after uvicorn's graceful shutdown."""


@contextmanager
def _stop_quietly() -> Iterator[None]:
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then raises the signal again so the
    # previous handler runs. Ours ends the command normally (exit 0), so the temporary state
    # folder is removed instead of the process dying mid-cleanup.
    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Stopped

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    except _Stopped:
        err_console.print("stopped")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
