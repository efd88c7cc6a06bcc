"""List the trace files under an import folder without letting symlinks lead outside it.

An import folder is untrusted: a link in it to ``~/.ssh`` or ``/etc`` must not turn an import
into a read of the host. Links that stay inside the folder are followed (each real file and
folder once, so link loops end); links that lead outside are skipped and reported, never
opened, unless the caller asks to follow them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict

__all__ = ["FolderListing", "SkippedLink", "Unread", "list_folder"]


class SkippedLink(BaseModel):
    """A symlink inside an import folder that was not followed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    """The link, inside the folder."""
    target: str
    """Where it points (resolved)."""
    reason: str

    def __str__(self) -> str:
        return f"{self.path} -> {self.target}: {self.reason}"


class Unread(NamedTuple):
    """An entry of an import folder that is not read, and why."""

    path: Path
    reason: str


@dataclass
class FolderListing:
    """Regular files found under a folder, and what was left out."""

    files: list[Path] = field(default_factory=list)
    unread: list[Unread] = field(default_factory=list)
    """FIFOs, sockets, devices (reading one can block forever), broken links, unreadable
    folders."""
    links: list[SkippedLink] = field(default_factory=list)
    """Links that lead outside the folder."""


def _inside(target: Path, root: Path) -> bool:
    return target == root or target.is_relative_to(root)


class _Walker:
    def __init__(self, root: Path, follow_symlinks: bool) -> None:
        self.root = root.resolve()
        self.follow = follow_symlinks
        self.seen = {self.root}
        self.links: list[os.DirEntry[str]] = []
        self.out = FolderListing()

    def walk(self, start: Path) -> FolderListing:
        # Real entries first, links after: a file reached both ways is listed by its own
        # path, and a link to it adds nothing.
        pending = [start]
        while pending or self.links:
            if pending:
                self._list(pending.pop(), pending)
            else:
                pending.extend(self._visit(self.links.pop(0)))
        self.out.files.sort()
        return self.out

    def _list(self, folder: Path, pending: list[Path]) -> None:
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            self.out.unread.append(Unread(folder, f"cannot list: {e.strerror or e}"))
            return
        for entry in entries:
            if entry.is_symlink():
                if self._keeps(entry):
                    self.links.append(entry)
            else:
                pending.extend(self._visit(entry))

    def _keeps(self, link: os.DirEntry[str]) -> bool:
        """Whether to follow a link; reports the ones that lead outside the folder."""
        target = Path(link.path).resolve()
        if self.follow or _inside(target, self.root):
            return True
        self.out.links.append(
            SkippedLink(
                path=link.path,
                target=str(target),
                reason=f"points outside {self.root}; not read (pass --follow-symlinks to read it)",
            )
        )
        return False

    def _visit(self, entry: os.DirEntry[str]) -> list[Path]:
        """Record a file; a folder still to walk comes back in the list."""
        path = Path(entry.path)
        real = path.resolve()
        if real in self.seen:  # a second way to the same file or folder, or a loop
            return []
        self.seen.add(real)
        if entry.is_dir():
            return [path]
        if entry.is_file():
            self.out.files.append(path)
        elif real.exists():
            self.out.unread.append(Unread(path, "not a regular file (a FIFO, device or socket)"))
        else:
            self.out.unread.append(Unread(path, "a broken symlink"))
        return []


def list_folder(root: Path, *, follow_symlinks: bool = False) -> FolderListing:
    """The regular files under ``root`` (sorted), and the links and special files left out.

    A link is followed when its resolved target is inside ``root`` (or always, with
    ``follow_symlinks``); every real file and folder is listed once, so loops end.
    """
    return _Walker(root, follow_symlinks).walk(root)
