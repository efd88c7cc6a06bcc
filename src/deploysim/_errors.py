"""The exception hierarchy of deploysim.

Three kinds of failure are kept apart and never mixed (STYLE.md, rule 6):

- *tool errors* are what the agent sees; they are data, never exceptions of this module;
- *harness errors* are our own, raised for bad input or misuse, always naming the file,
  the record and the field;
- *infrastructure failures* (engine down, container died) are classified apart so they are
  never counted as model behaviour.

::

    DeploysimError
    ├── InputError                  bad input given to deploysim
    │   ├── TraceFormatError        a record of a trace file does not fit its format
    │   ├── UnknownFormatError      no importer recognizes a file (or --format is unknown)
    │   ├── ToolSchemaError         a --tools file is not a list of tool definitions
    │   ├── SnapshotError           a snapshot folder is invalid (names file and field)
    │   ├── VaultError              a privacy key file or vault is unreadable or sealed otherwise
    │   └── ForecastInputError      (deploysim.forecast) a grades or production file is invalid
    ├── PrivacyError                scrubbing could not finish without risking a leak
    └── InfrastructureError         the machine failed us (Docker engine, container, network)
        ├── EngineUnavailableError  (deploysim.sandbox) no Docker engine answers
        ├── ImageBuildError         (deploysim.sandbox) a build failed; names its build log
        ├── ContainerDiedError      (deploysim.sandbox) a pod container died or was OOM-killed
        ├── ServicesUnavailableError (deploysim.sandbox) a pod's services sidecar is gone
        └── ExecServerError         (deploysim.sandbox) the in-pod exec server did not answer

Privacy errors never carry a private value: they name the file, trace, field and entity type.
"""

from __future__ import annotations

from pathlib import Path

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


class DeploysimError(Exception):
    """Base class of every error deploysim raises on purpose."""


class InputError(DeploysimError):
    """Input given to deploysim is wrong; the message says where and how to fix it."""


class TraceFormatError(InputError):
    """A record of a trace file does not fit the format it was read as.

    Attributes:
        path: the file.
        record: index of the record inside the file (line of a JSONL file, item of a JSON
            list, simulation of a tau2 results file, sample of an inspect log), or None when
            the file itself is unreadable.
        field: dotted path of the offending field inside the record (``messages[3].content``),
            or None.
        reason: what is wrong.
    """

    def __init__(
        self,
        path: str | Path,
        reason: str,
        *,
        record: int | None = None,
        field: str | None = None,
        format: str | None = None,
    ) -> None:
        self.path = str(path)
        self.record = record
        self.field = field
        self.reason = reason
        self.format = format
        where = self.path
        if record is not None:
            where += f", record {record}"
        if field:
            where += f", field {field}"
        fmt = f" (read as {format})" if format else ""
        super().__init__(f"{where}{fmt}: {reason}")


class UnknownFormatError(InputError):
    """No importer recognizes a file, or a format name is not registered."""


class ToolSchemaError(InputError):
    """A tool-definition file or entry cannot be read as tool schemas."""


class SnapshotError(InputError):
    """A snapshot folder or file is invalid.

    Attributes:
        path: the file at fault (snapshot.yaml, a rows file, a content file).
        field: dotted path of the offending field, or None.
        reason: what is wrong.
    """

    def __init__(self, path: str | Path, reason: str, *, field: str | None = None) -> None:
        self.path = str(path)
        self.field = field
        self.reason = reason
        where = self.path + (f", field {field}" if field else "")
        super().__init__(f"{where}: {reason}")


class InfrastructureError(DeploysimError):
    """The machine failed (Docker engine, container, network); never model behaviour."""


class VaultError(InputError):
    """A key file or vault file is unreadable, malformed, or was sealed with another key."""


class PrivacyError(DeploysimError):
    """Scrubbing could not finish without risking a leak or breaking a trace."""
