"""Errors of the privacy stage; defined in :mod:`deploysim._errors` with the whole tree.

No message of these errors ever contains a private value: they name the file, the trace,
the field and the entity type, and a keyed fingerprint where one value must be told apart.
"""

from deploysim._errors import PrivacyError, VaultError

__all__ = ["PrivacyError", "VaultError"]
