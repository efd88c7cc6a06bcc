"""Where deploysim keeps build logs, certificates and pod scratch folders on the host."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir"]


def cache_dir(*parts: str) -> Path:
    """``$DEPLOYSIM_CACHE`` (default ``~/.cache/deploysim``) joined with ``parts``, created."""
    base = Path(os.environ.get("DEPLOYSIM_CACHE") or Path.home() / ".cache" / "deploysim")
    p = base.joinpath(*parts)
    p.mkdir(parents=True, exist_ok=True)
    return p
