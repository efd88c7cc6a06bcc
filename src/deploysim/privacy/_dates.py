"""Keyed, order-preserving date pseudonyms: a bounded random walk over the calendar.

Each day from 1900 to 2100 is moved by an offset that changes by at most one day from one
day to the next (steps of 0, 1 or 2 days), so the map never reverses the order of two dates,
stays within a few months of the real date (ages stay plausible), and never maps a date to
itself. The walk is drawn from the dataset key, so one known real/fake pair reveals the
offset near that date only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
from array import array

__all__ = ["DateWalk"]

_START = dt.date(1900, 1, 1)
_END = dt.date(2100, 12, 31)
_BOUND = 120  # days; the offset stays within +-(_BOUND + 2)


class DateWalk:
    """The date map for one dataset key."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._fake_ordinals: array[int] | None = None

    def _build(self) -> array[int]:
        seed = hmac.new(self._key, b"deploysim/date-walk/v1", hashlib.sha256).digest()
        rng = random.Random(int.from_bytes(seed, "big"))
        first, last = _START.toordinal(), _END.toordinal()
        offset = rng.choice([o for o in range(-_BOUND, _BOUND + 1) if o])
        out = array("i", [first + offset])
        for day in range(first + 1, last + 1):
            offset = out[-1] - (day - 1)
            if offset >= _BOUND:
                steps = [0, 1]
            elif offset <= -_BOUND:
                steps = [1, 2]
            else:
                steps = [0, 1, 2]
            step = rng.choice(steps)
            if out[-1] + step == day:  # never a fixed point: take the next allowed step
                step = steps[(steps.index(step) + 1) % len(steps)]
            out.append(out[-1] + step)
        return out

    def fake(self, real: dt.date) -> dt.date:
        """The pseudonym of ``real``; order is kept (an earlier date never maps later)."""
        if not _START <= real <= _END:
            shift = int.from_bytes(hmac.new(self._key, b"date-out", "sha256").digest()[:2], "big")
            return real + dt.timedelta(days=1 + shift % _BOUND)
        if self._fake_ordinals is None:
            self._fake_ordinals = self._build()
        return dt.date.fromordinal(self._fake_ordinals[real.toordinal() - _START.toordinal()])
