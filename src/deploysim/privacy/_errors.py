"""Errors of the privacy stage, placed in deploysim's hierarchy (:mod:`deploysim._errors`).

::

    DeploysimError
    ├── InputError
    │   └── VaultError          a key file or vault cannot be read, or the key is wrong
    └── PrivacyError            scrubbing could not finish safely

No message of these errors ever contains a private value: they name the file, the trace,
the field and the entity type, and a keyed fingerprint where one value must be told apart.
"""

from __future__ import annotations

from deploysim._errors import DeploysimError, InputError

__all__ = ["PrivacyError", "VaultError"]


class VaultError(InputError):
    """A key file or vault file is unreadable, malformed, or was sealed with another key."""


class PrivacyError(DeploysimError):
    """Scrubbing could not finish without risking a leak or breaking a trace."""
