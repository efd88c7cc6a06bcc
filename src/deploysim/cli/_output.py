"""Shared CLI output helpers: JSON printing, stderr console, progress bars."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = ["err_console", "print_json", "progress"]

err_console = Console(stderr=True, highlight=False)


def print_json(value: Any) -> None:
    """Print a JSON document to stdout (for scripts), nothing else."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False))
    sys.stdout.write("\n")


@contextmanager
def progress(description: str, total: int | None = None) -> Iterator[Progress]:
    """A progress bar on stderr; silent when stderr is not a terminal."""
    bar = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )
    with bar:
        bar.add_task(description, total=total)
        yield bar
