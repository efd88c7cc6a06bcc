"""The ``deploysim`` command line: a typer app, one module per command group."""

from __future__ import annotations

from deploysim.cli._app import app, main

__all__ = ["app", "main"]
