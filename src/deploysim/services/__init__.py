"""The mock-services app that runs inside the sandbox pod, beside the agent's workspace.

It serves a snapshot's services: recorded HTTP exchanges matched by Host, method, path,
query and body; REST resources backed by SQLite; function tools at ``POST /tools/<name>``.
Every request is logged with its response; admin endpoints dump and reset the state.

::

    from deploysim.services import create_app

    app = create_app("env_snapshots/airline", "/tmp/airline-state")
    # uvicorn.run(app, host="127.0.0.1", port=8080)

Importing this package imports FastAPI; ``import deploysim`` does not import it.
"""

from deploysim.services._app import DEFAULT_MAX_BODY, ServicesApp, create_app
from deploysim.services._db import Db
from deploysim.services._dump import DumpLimits
from deploysim.services._handlers import NoAnswer, ToolError
from deploysim.services._log import LOG_FILE, LogLimits
from deploysim.services._protocol import (
    ADMIN_PREFIX,
    ADMIN_TOKEN_HEADER,
    TOOLS_HOST,
    TOOLS_PREFIX,
    Backend,
    LogEntry,
    StateDump,
    TableNotCompared,
    ToolFailure,
    ToolFailureCode,
    ToolResponse,
)

__all__ = [
    "ADMIN_PREFIX",
    "ADMIN_TOKEN_HEADER",
    "DEFAULT_MAX_BODY",
    "LOG_FILE",
    "TOOLS_HOST",
    "TOOLS_PREFIX",
    "Backend",
    "Db",
    "DumpLimits",
    "LogEntry",
    "LogLimits",
    "NoAnswer",
    "ServicesApp",
    "StateDump",
    "TableNotCompared",
    "ToolError",
    "ToolFailure",
    "ToolFailureCode",
    "ToolResponse",
    "create_app",
]
