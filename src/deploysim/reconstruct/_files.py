"""File knowledge pooled across traces: lines seen, files and folders known to exist, modes.

Views are partial: a window shows lines 273-372 of a 372-line file. Knowledge is kept per
line. When the snapshot is written, a file's unseen lines become **empty lines**, so line
numbers, line counts and every window the traces showed stay exactly right; what those
lines held is unknown, and the file's provenance says which lines were seen. A file known
only to exist (``find``, ``ls``) is written empty. A git blob id seen in a diff is checked
against the rebuilt content: equal means the whole file was rebuilt byte for byte.

Paths the agent created, changed or removed are the original run's *effects*, kept apart
(:attr:`FileBook.effects`), and views of them after the change are not initial state.

System paths (the user database, sudoers, the loader's configuration, the image's own
folders: :func:`deploysim.snapshots.system_path_reason`) are never state to rebuild: a trace
that showed ``/etc/passwd`` with ``agent:x:0:0`` must not make the agent root in the pod.
Their observations are skipped and reported (:attr:`FileBook.skipped`), never silently.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from deploysim.reconstruct._model import Conflict, FileEffect, SkippedObservation, short
from deploysim.reconstruct._shellobs import (
    DirEntries,
    FileLines,
    FileMeta,
    HunkContext,
    Seen,
    Written,
)
from deploysim.snapshots import Provenance, system_path_reason

__all__ = ["FileBook", "FileFacts", "blob_id"]


def blob_id(content: bytes) -> str:
    """The git blob id of ``content``."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


@dataclass
class FileFacts:
    """What the traces showed of one path's initial state."""

    path: str
    kind: str = "file"
    total: int | None = None
    lines: dict[int, str] = field(default_factory=dict)
    mode: str | None = None
    size: int | None = None
    blob: str | None = None
    provenance: list[Provenance] = field(default_factory=list)
    line_provenance: dict[int, Provenance] = field(default_factory=dict)
    contexts: list[tuple[int, str, Provenance]] = field(default_factory=list)
    placed: dict[int, str] = field(default_factory=dict)
    """Lines placed from a diff hunk's context (their exact position was not seen)."""

    def content(self) -> bytes:
        """The file as written into the snapshot: unseen lines empty, each line newline-ended."""
        if not self.lines and not self.total:
            return b""
        n = max(self.total or 0, max(self.lines, default=0))
        return "".join(self.lines.get(i, "") + "\n" for i in range(1, n + 1)).encode("utf-8")

    def complete(self) -> bool:
        """Every line of the file was seen."""
        return self.total is not None and all(i in self.lines for i in range(1, self.total + 1))

    def seen_ranges(self) -> str:
        """The seen lines as ranges: '1-10', '273-372 of 372'."""
        nums = sorted(n for n in self.lines if n not in self.placed)
        ranges: list[str] = []
        for n in nums:
            if ranges and int(ranges[-1].split("-")[-1]) == n - 1:
                ranges[-1] = ranges[-1].split("-")[0] + f"-{n}"
            else:
                ranges.append(str(n))
        of = f" of {self.total}" if self.total is not None else ""
        return (", ".join(ranges) or "none") + of


@dataclass
class FileBook:
    """Initial-state file facts of all traces, the agent's effects, conflicts."""

    files: dict[str, FileFacts] = field(default_factory=dict)
    effects: list[FileEffect] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    skipped: dict[str, SkippedObservation] = field(default_factory=dict)
    """System paths observed and left out, by path."""

    def admit(self, path: str, prov: Provenance) -> bool:
        """Whether ``path`` may be rebuilt; a system path is recorded as skipped instead."""
        why = system_path_reason(path)
        if why is None:
            return True
        s = self.skipped.get(path)
        if s is None:
            self.skipped[path] = SkippedObservation(
                path=path, reason=why, observations=1, provenance=prov
            )
        else:
            self.skipped[path] = s.model_copy(update={"observations": s.observations + 1})
        return False

    def facts(self, path: str, kind: str = "file") -> FileFacts:
        """The facts of ``path`` (created on first mention)."""
        f = self.files.get(path)
        if f is None:
            f = self.files[path] = FileFacts(path, kind)
        return f

    def add(self, seen: Seen, prov: Provenance, written: set[str]) -> None:
        """Pool one observation; ``written`` holds the paths this trace's agent changed."""
        if isinstance(seen, Written):
            self.effects.append(FileEffect(path=seen.path, how=seen.how, provenance=prov))
            written.add(seen.path)
            return
        if not seen.path.startswith("/"):
            return
        if seen.path in written or any(seen.path.startswith(w + "/") for w in written):
            return
        if isinstance(seen, DirEntries):
            self._entries(seen, prov, written)
            return
        if not self.admit(seen.path, prov):
            return
        if isinstance(seen, FileLines):
            self._lines(seen, prov)
        elif isinstance(seen, HunkContext):
            self.facts(seen.path).contexts.append((seen.before, seen.text, prov))
        elif isinstance(seen, FileMeta):
            f = self.facts(seen.path, seen.kind)
            f.kind = seen.kind if f.kind == "file" else f.kind
            f.mode = seen.mode or f.mode
            f.size = seen.size if seen.size is not None else f.size
            f.blob = seen.blob or f.blob
            f.provenance.append(prov)

    def _entries(self, seen: DirEntries, prov: Provenance, written: set[str]) -> None:
        # A listing of /etc teaches that /etc/myapp.conf exists, though /etc is the image's.
        if self.admit(seen.path, prov):
            self.facts(seen.path, "dir").provenance.append(prov)
        for name in seen.names:
            kind = "dir" if name.endswith("/") else "file"
            path = seen.path.rstrip("/") + "/" + name.rstrip("/")
            if path not in written and self.admit(path, prov):
                self.facts(path, kind).provenance.append(prov)

    def settle_kinds(self) -> None:
        """A path that has known children is a directory, whatever a listing guessed."""
        parents = {p.rsplit("/", 1)[0] for p in self.files}
        for path, f in self.files.items():
            if path in parents and f.kind != "dir":
                f.kind = "dir"
                f.lines.clear()
                f.total = None

    def place_contexts(self) -> None:
        """Put each unplaced hunk context on the nearest unseen line above its hunk.

        git prints, after a hunk header, the nearest line above the hunk that starts with a
        letter, ``_`` or ``$``. When no seen line above qualifies, the context line sits in
        the unseen part: it goes on the closest unseen line, so the rebuilt file shows the
        same context; its exact position is unknown (the provenance says so).
        """
        for f in self.files.values():
            for before, text, prov in f.contexts:
                if any(t == text for n, t in f.lines.items() if n < before):
                    continue
                n = before - 1
                while n >= 1 and n in f.lines:
                    first = f.lines[n][:1]
                    if first and (first.isalpha() or first in "_$"):
                        break
                    n -= 1
                if n >= 1 and n not in f.lines:
                    f.lines[n] = text
                    f.placed[n] = text
                    f.line_provenance[n] = prov

    def _lines(self, seen: FileLines, prov: Provenance) -> None:
        f = self.facts(seen.path)
        f.provenance.append(prov)
        if seen.total is not None:
            if f.total is not None and f.total != seen.total:
                self._conflict(
                    f"{seen.path} (line count)", f.total, seen.total, f.provenance[0], prov
                )
            else:
                f.total = seen.total
        for i, text in enumerate(seen.lines):
            n = seen.start + i
            if n in f.lines and f.lines[n] != text:
                self._conflict(f"{seen.path}:{n}", f.lines[n], text, f.line_provenance[n], prov)
                continue
            f.lines.setdefault(n, text)
            f.line_provenance.setdefault(n, prov)

    def _conflict(
        self, subject: str, kept: object, other: object, kp: Provenance, op: Provenance
    ) -> None:
        self.conflicts.append(
            Conflict(
                subject=subject,
                kept=short(kept),
                other=short(other),
                kept_provenance=kp,
                other_provenance=op,
                resolution="kept the first observation; the other is reported only",
            )
        )
