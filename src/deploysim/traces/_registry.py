"""The importer registry: every trace format is an Importer registered by name.

Built-in importers register with :func:`importer` exactly as a plugin would; third-party
importers are found lazily through the ``deploysim.importers`` entry-point group.
"""

from __future__ import annotations

import hashlib
import json
import pkgutil
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any, ClassVar, TypeVar

from deploysim._errors import UnknownFormatError
from deploysim.traces._documents import BadLine, Document
from deploysim.traces._limits import DEFAULT_LIMITS, ImportLimits
from deploysim.traces._model import ToolSpec, Trace, TraceSource
from deploysim.traces._nesting import MAX_NESTING
from deploysim.traces._reader import Node

__all__ = [
    "ImportContext",
    "Importer",
    "Record",
    "detect_importer",
    "get_importer",
    "importer",
    "importer_names",
    "not_a_trace",
]

ENTRY_POINT_GROUP = "deploysim.importers"


@dataclass(frozen=True)
class Record:
    """One record of a document: the unit that becomes one trace."""

    index: int
    value: Any
    locator: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    """File-level facts the record needs (tau2's task, a metadata line before a JSONL trace)."""


@dataclass(frozen=True)
class ImportContext:
    """What an importer knows about the record it converts."""

    path: str
    format: str
    record: Record
    tools: tuple[ToolSpec, ...] = ()
    limits: ImportLimits = DEFAULT_LIMITS
    """Byte limits; ``max_bytes`` also bounds what one record may expand to (attachments)."""

    def source(self) -> TraceSource:
        """The TraceSource of the trace being built."""
        return TraceSource(
            format=self.format, path=self.path, index=self.record.index, locator=self.record.locator
        )

    def trace_id(self, *natural: Any) -> str:
        """A trace id from the record's own identifiers, else from its content.

        Content-derived ids are stable: the same record always gets the same id.
        """
        parts = [str(p) for p in natural if p is not None and str(p) != ""]
        if parts:
            return "/".join(parts)
        blob = json.dumps(self.record.value, sort_keys=True, default=str).encode()
        return f"{self.format}-{hashlib.sha256(blob).hexdigest()[:12]}"


class Importer(ABC):
    """A trace format: how to recognize it, split it into records, and convert a record."""

    name: ClassVar[str]
    description: ClassVar[str]
    priority: ClassVar[int] = 100
    """Detection order: lower is tried first; specific formats go before generic ones."""
    max_nesting: ClassVar[int] = MAX_NESTING
    """How deeply a record may nest; deeper records are refused before :meth:`convert`."""

    @abstractmethod
    def sniff(self, doc: Document) -> bool:
        """Whether ``doc`` is in this format; cheap, never raises."""

    def is_conversation(self, data: Any) -> bool:
        """Whether a whole JSON list is one conversation (a bare list of messages or items).

        Formats whose logs are either request records or bare message lists override this;
        :meth:`records` then keeps such a list as a single record.
        """
        return False

    def records(self, doc: Document) -> Iterator[Record]:
        """Split a document into records; default: JSONL lines or JSON list items, else one.

        A JSON list that :meth:`is_conversation` recognizes is one record. A file the format
        knows but that holds no trace (a query list, a state table) raises
        :func:`not_a_trace`: a directory import lists it as ignored with that reason.
        """
        if doc.kind == "json" and self.is_conversation(doc.data):
            yield Record(0, doc.data)
            return
        if doc.kind == "jsonl" or (doc.kind == "json" and isinstance(doc.data, list)):
            for i, value in enumerate(doc.data):
                yield Record(i, value)
        else:
            yield Record(0, doc.data)

    @abstractmethod
    def convert(self, record: Node, ctx: ImportContext) -> Trace:
        """Convert one record (a Node at the record root) into a Trace.

        Raise ``RecordError`` (via ``Node``) for malformed fields.
        """


def not_a_trace(path: object, reason: str) -> UnknownFormatError:
    """The error for a file an importer recognizes as its format's but that holds no trace.

    The import driver treats it like an unrecognized file: listed as ignored, with ``reason``,
    inside a directory; an error when the file was named on its own.
    """
    return UnknownFormatError(f"{path}: {reason}")


_I = TypeVar("_I", bound=type[Importer])
_REGISTRY: dict[str, Importer] = {}
_loaded = False


def importer(cls: _I) -> _I:
    """Class decorator registering an importer under ``cls.name``."""
    _REGISTRY[cls.name] = cls()
    return cls


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    from deploysim.traces import importers

    for info in pkgutil.iter_modules(importers.__path__):
        if not info.name.startswith("_"):
            import_module(f"{importers.__name__}.{info.name}")
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        loaded = ep.load()
        if isinstance(loaded, type) and issubclass(loaded, Importer):
            _REGISTRY.setdefault(loaded.name, loaded())


def importer_names() -> list[str]:
    """Registered format names, in detection order."""
    _load()
    return [i.name for i in sorted(_REGISTRY.values(), key=lambda i: (i.priority, i.name))]


def get_importer(name: str) -> Importer:
    """The importer registered as ``name``."""
    _load()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownFormatError(
            f"unknown format {name!r}; known formats: {', '.join(importer_names())}"
        ) from None


def detect_importer(doc: Document) -> Importer | None:
    """The first importer, in detection order, that recognizes ``doc``."""
    _load()
    if doc.kind == "jsonl" and all(isinstance(v, BadLine) for v in doc.data):
        return None
    for name in importer_names():
        if _REGISTRY[name].sniff(doc):
            return _REGISTRY[name]
    return None
