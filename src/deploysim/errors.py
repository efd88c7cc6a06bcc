"""Public exception hierarchy (see :mod:`deploysim._errors` for the tree)."""

from deploysim._errors import (
    DeploysimError,
    InfrastructureError,
    InputError,
    PrivacyError,
    SnapshotError,
    ToolSchemaError,
    TraceFormatError,
    UnknownFormatError,
    VaultError,
)

__all__ = [
    "DeploysimError",
    "InfrastructureError",
    "InputError",
    "PrivacyError",
    "SnapshotError",
    "ToolSchemaError",
    "TraceFormatError",
    "UnknownFormatError",
    "VaultError",
]
