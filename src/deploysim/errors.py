"""Public exception hierarchy (see :mod:`deploysim._errors` for the tree)."""

from deploysim._errors import (
    DeploysimError,
    InfrastructureError,
    InputError,
    SnapshotError,
    ToolSchemaError,
    TraceFormatError,
    UnknownFormatError,
)

__all__ = [
    "DeploysimError",
    "InfrastructureError",
    "InputError",
    "SnapshotError",
    "ToolSchemaError",
    "TraceFormatError",
    "UnknownFormatError",
]
