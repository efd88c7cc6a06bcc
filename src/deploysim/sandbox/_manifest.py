"""File manifests of a pod, bounded: what the exec server walked, and how to compare two.

The exec server (:func:`deploysim.sandbox.execserver._manifest`) walks the watched folders as
root and answers with one entry per path. Everything in it is bounded by
:class:`CaptureLimits`: entries walked, bytes hashed per file and in total, content shipped,
wall time. What went over a cap is summarized (size, modification time, hash of the first
bytes) and named in :attr:`Manifest.notes`, so an agent that fills the disk leaves evidence
instead of an out-of-memory exec server.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CaptureLimits",
    "CaptureNote",
    "Manifest",
    "NotRegularFileError",
    "NoteKind",
    "same_entry",
    "under",
]

NoteKind = Literal[
    "entries",
    "bytes",
    "time",
    "file_hash",
    "hash_total",
    "content_total",
    "unwalked",
    "not_regular",
    "database_size",
    "database_unreadable",
    "table_rows",
    "row_changes",
    "services_log",
]


class NotRegularFileError(OSError):
    """Capture refused a path: a FIFO, socket, device, or a symlink where a file was expected."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CaptureLimits(_Frozen):
    """Caps of state capture. What goes over one is summarized and noted, never read whole."""

    max_entries: int = Field(default=100_000, description="Paths walked in the watched folders.")
    max_bytes: int = Field(default=64 << 20, description="Bytes of file metadata in a manifest.")
    hash_limit: int = Field(default=64 << 20, description="Files up to this size hash whole.")
    hash_total: int = Field(default=1 << 30, description="Bytes hashed in one manifest.")
    head_bytes: int = Field(default=1 << 20, description="Bytes hashed of a file over a cap.")
    text_limit: int = Field(default=256 << 10, description="Text files up to this size ship.")
    content_total: int = Field(default=16 << 20, description="Bytes of content shipped back.")
    seconds: float = Field(default=60.0, description="Wall time of one manifest walk.")
    db_limit: int = Field(default=64 << 20, description="Bytes copied out per database.")
    max_rows: int = Field(default=200_000, description="Rows compared per table.")
    max_row_changes: int = Field(default=10_000, description="Row changes listed per table.")

    def manifest_options(self) -> dict[str, Any]:
        """The caps the exec server's manifest op takes."""
        return self.model_dump(exclude={"db_limit", "max_rows", "max_row_changes"})


class CaptureNote(_Frozen):
    """A cap the pod went over, or a path capture refused: evidence of what the agent did."""

    kind: NoteKind
    path: str | None = Field(default=None, description="File, folder, or 'db.table'.")
    size: int | None = Field(default=None, description="What was found (bytes or a count).")
    limit: int | None = Field(default=None, description="The cap it went over.")
    detail: str = Field(default="", description="What capture did instead.")


class Manifest(_Frozen):
    """One walk of the watched folders.

    ``files`` maps each path to its entry: ``type`` (file, dir, symlink, other), ``mode``,
    ``uid``; files add ``size``, ``mtime_ns`` and ``sha256`` (or, past a cap,
    ``sha256_head`` of the first ``hashed`` bytes), ``content`` (base64, small changed text
    files only), ``binary``, ``unreadable``. ``unwalked`` are paths the walk did not reach
    (it stopped at a cap); with ``unwalked_more`` there were more than it lists.
    """

    files: dict[str, dict[str, Any]] = Field(default_factory=dict)
    notes: list[CaptureNote] = Field(default_factory=list)
    notes_dropped: int = Field(default=0, description="Notes over the exec server's cap.")
    unwalked: list[str] = Field(default_factory=list)
    unwalked_more: bool = False

    @property
    def complete(self) -> bool:
        """The walk visited every path."""
        return not self.unwalked and not self.unwalked_more

    def without_content(self) -> Manifest:
        """The same manifest with no file content (what the host cache keeps)."""
        files = {p: {k: v for k, v in e.items() if k != "content"} for p, e in self.files.items()}
        return self.model_copy(update={"files": files})

    def all_notes(self) -> list[CaptureNote]:
        """The notes, plus one for notes dropped and one for what was not walked."""
        out = list(self.notes)
        if self.notes_dropped:
            out.append(
                CaptureNote(kind="file_hash", size=self.notes_dropped, detail="more notes dropped")
            )
        if not self.complete:
            more = " and more" if self.unwalked_more else ""
            shown = ", ".join(self.unwalked[:5])
            out.append(
                CaptureNote(
                    kind="unwalked",
                    size=len(self.unwalked),
                    detail=f"not walked, so not compared: {shown}{more}",
                )
            )
        return out

    def covers(self, path: str) -> bool:
        """Whether the walk looked at ``path`` (so its absence means it is not there)."""
        if self.unwalked_more:
            return path in self.files
        return not under(path, self.unwalked)


def under(path: str, prefixes: list[str]) -> bool:
    """``path`` is one of ``prefixes`` or inside one."""
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)


def _same_file(b: dict[str, Any], a: dict[str, Any]) -> bool:
    if "sha256" in b and "sha256" in a:
        return bool(b["sha256"] == a["sha256"])
    if b.get("size") != a.get("size"):
        return False
    if "sha256_head" in b and "sha256_head" in a:
        same_head = b["sha256_head"] == a["sha256_head"] and b.get("hashed") == a.get("hashed")
        return same_head and b.get("mtime_ns") == a.get("mtime_ns")
    # One side hashed whole and the other not (or unreadable): size and time must do.
    return b.get("mtime_ns") is not None and b.get("mtime_ns") == a.get("mtime_ns")


def same_entry(b: dict[str, Any], a: dict[str, Any]) -> bool:
    """Two entries of one path describe the same thing (owner changes do not count)."""
    if b.get("type") != a.get("type") or b.get("mode") != a.get("mode"):
        return False
    kind = a.get("type")
    if kind == "dir":
        return True  # a folder's listing changed: its entries are reported themselves
    if kind == "symlink":
        return bool(b.get("target") == a.get("target"))
    if kind == "file":
        return _same_file(b, a)
    return bool(b.get("what") == a.get("what"))
