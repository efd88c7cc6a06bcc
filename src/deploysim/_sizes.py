"""Sizes as people write them on the command line and in limits, one rule everywhere.

Units are binary, as in Docker (``--memory 512m``): ``k``, ``m``, ``g`` and ``t``, in any case,
with or without ``i`` and a trailing ``b``, are powers of 1024, so ``512m``, ``512MiB`` and
``512MB`` are the same size. Snapshot unpacking, trace import limits and pod limits all read
sizes here, so a size means one thing wherever it is given.

::

    parse_size("2g") == parse_size("2GiB") == 2 << 30
    format_size(3 << 20)   # '3.0 MiB'
"""

from __future__ import annotations

import re

__all__ = ["format_size", "parse_size"]

_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])i?)?b?\s*", re.IGNORECASE)
_SCALE = {None: 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    """Bytes from ``"512m"``, ``"2GiB"``, ``"1.5g"`` or ``"1048576"`` (binary units).

    Raises:
        ValueError: not a size, or not a positive one.
    """
    m = _SIZE.fullmatch(text)
    if m is None:
        raise ValueError(f"not a size: {text!r} (examples: 512m, 2GiB, 1048576)")
    number, unit = m.groups()
    size = int(float(number) * _SCALE[unit.lower() if unit else None])
    if size <= 0:
        raise ValueError(f"not a positive size: {text!r}")
    return size


def format_size(n: float) -> str:
    """``n`` bytes in the largest binary unit that keeps them at least 1 (``1.0 GiB``)."""
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"
