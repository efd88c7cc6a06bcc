"""Options every command that reads trace files shares: byte limits and symlinks.

Trace files are untrusted input; their import is bounded (``deploysim.traces.ImportLimits``)
and links that leave an input folder are not followed. Each command that imports traces
(``traces ...``, ``scrub``, ``reconstruct``, ``fidelity``) takes the same flags to change that.
"""

from __future__ import annotations

from typing import Annotated, NamedTuple

import typer

from deploysim._sizes import parse_size
from deploysim.traces import ImportLimits

__all__ = ["FollowOpt", "MaxRatioOpt", "MaxUncompressedOpt", "Reading", "reading_from"]

MaxUncompressedOpt = Annotated[
    str | None,
    typer.Option(
        "--max-uncompressed",
        metavar="SIZE",
        help="Most bytes a file, an archive member or a whole archive (.eval) may hold "
        "uncompressed, e.g. 2GiB (default 256MiB per file or member, 1GiB per archive).",
    ),
]
MaxRatioOpt = Annotated[
    float | None,
    typer.Option(
        "--max-ratio",
        metavar="N",
        min=1.0,
        help="Most an archive member may inflate relative to its compressed size (default 100).",
    ),
]
FollowOpt = Annotated[
    bool,
    typer.Option(
        "--follow-symlinks",
        help="Follow symlinks in input folders that lead outside them (skipped by default).",
    ),
]


class Reading(NamedTuple):
    """How inputs are read: byte limits and whether links may lead out of a folder."""

    limits: ImportLimits
    follow_symlinks: bool


def reading_from(max_uncompressed: str | None, max_ratio: float | None, follow: bool) -> Reading:
    """The limits and link policy the three flags ask for (defaults where a flag is absent).

    Raises:
        typer.BadParameter: ``--max-uncompressed`` is not a size.
    """
    try:
        size = None if max_uncompressed is None else parse_size(max_uncompressed)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--max-uncompressed") from e
    return Reading(ImportLimits.with_overrides(size, max_ratio), follow)
