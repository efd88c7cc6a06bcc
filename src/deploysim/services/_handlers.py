"""Python handler modules shipped with a snapshot, and the error they raise for tool errors.

A :class:`~deploysim.snapshots.PythonHandler` names a ``.py`` file under the snapshot's
``services/`` folder and a function in it. The module is imported from its file path when
the app is created, only in the services process (the sandbox sidecar); the replaying
process never imports snapshot code. The function is called as ``function(db, **arguments)``
with a :class:`~deploysim.services.Db`; it returns the tool's output (a JSON value, or text
as a string) or raises :class:`ToolError` for an error the agent should see.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from deploysim._errors import SnapshotError

__all__ = ["HandlerFunction", "ModuleLoader", "NoAnswer", "ToolError"]

HandlerFunction = Callable[..., Any]


class ToolError(Exception):
    """Raised by a handler for an error the tool reports to the agent.

    The call answers ``{"output": message, "is_error": true}`` and its database writes are
    rolled back. Any other exception is a bug in the handler: the call fails with
    ``handler_failed`` (HTTP 500), which the harness reports and never shows the agent.

    Args:
        message: the tool's error output, exactly as the original tool reported it
            (tau-bench: ``"Error: user not found"``). A non-string JSON value is allowed too.
    """

    def __init__(self, message: Any) -> None:
        super().__init__(message)
        self.output = message


class NoAnswer(Exception):
    """Raised by a handler that has no answer for these arguments (nothing recorded or learned).

    The call is not answered (HTTP 404 ``no_recorded_match``, writes rolled back): the tool
    router falls back to its next backend, and the agent never sees this.
    """


class ModuleLoader:
    """Imports handler modules by file path, once per file."""

    def __init__(self) -> None:
        self._modules: dict[Path, ModuleType] = {}

    def module(self, path: Path, where: str, field: str) -> ModuleType:
        """The module at ``path``, imported on first use.

        Raises:
            SnapshotError: the file is missing or fails to import.
        """
        path = path.resolve()
        if path in self._modules:
            return self._modules[path]
        if not path.is_file():
            raise SnapshotError(where, f"handler module {path} does not exist", field=field)
        digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
        name = f"_deploysim_handlers_{digest}_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise SnapshotError(where, f"cannot import {path} as a module", field=field)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as e:
            del sys.modules[name]
            raise SnapshotError(
                where,
                f"handler module {path} fails to import: {type(e).__name__}: {e}",
                field=field,
            ) from e
        self._modules[path] = module
        return module

    def function(self, path: Path, name: str, where: str, field: str) -> HandlerFunction:
        """The function ``name`` of the module at ``path``; it must take a first ``db`` argument.

        Raises:
            SnapshotError: the module or the function is missing, or takes no arguments.
        """
        module = self.module(path, where, field)
        fn = getattr(module, name, None)
        if not callable(fn):
            raise SnapshotError(
                where, f"handler module {path} has no function {name!r}", field=field
            )
        params = list(inspect.signature(fn).parameters.values())
        if not params or params[0].kind not in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ):
            raise SnapshotError(
                where, f"handler {name} in {path} must take the database first", field=field
            )
        handler: HandlerFunction = fn
        return handler
