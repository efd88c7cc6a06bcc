"""Shared CLI output helpers: JSON printing, stderr console, progress bars."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from deploysim.traces import SkippedLink

__all__ = ["err_console", "print_json", "progress", "warn_skipped_links"]

err_console = Console(stderr=True, highlight=False)


def print_json(value: Any) -> None:
    """Print a JSON document to stdout (for scripts), nothing else."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False))
    sys.stdout.write("\n")


def warn_skipped_links(links: Iterable[SkippedLink]) -> None:
    """One ``warning: skipped symlink LINK -> TARGET: why`` line on stderr per link not followed.

    Every command that imports traces prints these, so a link left out of an import folder
    is never silent.
    """
    for link in links:
        # soft_wrap: a path broken over two lines cannot be copied.
        err_console.print(
            f"[yellow]warning:[/] skipped symlink {escape(str(link))}", soft_wrap=True
        )


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
