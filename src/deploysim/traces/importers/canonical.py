"""deploysim's own canonical JSONL (what `deploysim traces import -o` writes)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from deploysim.traces._documents import Document
from deploysim.traces._model import Trace
from deploysim.traces._nesting import MAX_TRACE_NESTING
from deploysim.traces._reader import Node, RecordError
from deploysim.traces._registry import ImportContext, Importer, importer

__all__ = ["CanonicalImporter"]


def _looks_canonical(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and {"id", "source", "messages"} <= value.keys()
        and isinstance(value.get("source"), dict)
        and "format" in value["source"]
    )


@importer
class CanonicalImporter(Importer):
    """Normalized traces written by deploysim; importing them gives equal objects."""

    name = "deploysim"
    description = "deploysim canonical JSONL (one Trace per line)"
    priority = 0
    max_nesting = MAX_TRACE_NESTING  # a Trace wraps record content a few levels deeper

    def sniff(self, doc: Document) -> bool:
        """One Trace object per line or list item."""
        return doc.kind in ("json", "jsonl") and _looks_canonical(doc.first())

    def convert(self, record: Node, ctx: ImportContext) -> Trace:
        """Validate the record as a Trace, keeping its original source."""
        try:
            return Trace.model_validate(record.obj())
        except ValidationError as e:
            err = e.errors()[0]
            field = ".".join(
                f"[{p}]" if isinstance(p, int) else str(p) for p in err["loc"]
            ).replace(".[", "[")
            raise RecordError(field or "(record)", err["msg"]) from e
