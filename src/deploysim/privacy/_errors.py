"""Errors of the privacy stage; defined in :mod:`deploysim._errors` with the whole tree.

No message of these errors ever contains a private value: they name the file, the trace,
the field and the entity type, and a keyed fingerprint where one value must be told apart.

:class:`NestingError` is the privacy stage's own input error: a value nested deeper than the
walkers follow (hostile input such as 200,000 nested lists). It is an
:class:`~deploysim._errors.InputError`, so ``deploysim scrub`` reports it as bad input
(exit 2), never as a failed gate.
"""

from deploysim._errors import InputError, PrivacyError, VaultError

__all__ = ["MAX_NESTING", "NestingError", "PrivacyError", "VaultError"]

# Containers and decoded layers the walkers follow, counted together. Real payloads nest
# a few dozen levels; 200 keeps every walk far below Python's recursion limit.
MAX_NESTING = 200


class NestingError(InputError):
    """A value nests deeper than :data:`MAX_NESTING` levels (names the trace and field)."""

    def __init__(self, where: str) -> None:
        shown = where if len(where) <= 160 else where[:160] + "..."
        super().__init__(
            f"{shown}: nested deeper than {MAX_NESTING} levels (lists, objects, JSON or "
            "encoded text inside strings); such input is refused rather than scrubbed"
        )
