"""The snapshot being rebuilt: parts extractors add, then written as a snapshot folder."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploysim._errors import SnapshotError
from deploysim.reconstruct._model import Conflict, FileEffect, SkippedObservation, ToolReport
from deploysim.snapshots import (
    SNAPSHOT_FILE,
    Database,
    FileEntry,
    GitRepo,
    Provenance,
    Service,
    Snapshot,
    Table,
    ToolBinding,
    rows_file_name,
    save_snapshot,
)

__all__ = ["GENERATED_BY", "SnapshotDraft"]

GENERATED_BY = "deploysim reconstruct"
_INLINE_LIMIT = 4096


@dataclass
class _DbDraft:
    path: str
    tables: list[Table] = field(default_factory=list)
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass
class SnapshotDraft:
    """Everything extractors learned, not yet written."""

    name: str
    files: dict[str, FileEntry] = field(default_factory=dict)
    contents: dict[str, bytes] = field(default_factory=dict)
    """Sandbox path -> content of large files, written under files/."""
    repos: list[GitRepo] = field(default_factory=list)
    databases: dict[str, _DbDraft] = field(default_factory=dict)
    services: list[Service] = field(default_factory=list)
    bindings: dict[str, ToolBinding] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)
    """File name under services/ -> source text."""
    env: dict[str, str] = field(default_factory=dict)
    workdir: str | None = None
    effects: list[FileEffect] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    tools: list[ToolReport] = field(default_factory=list)
    skipped: list[SkippedObservation] = field(default_factory=list)
    """System paths observed and left out (reported, and noted in the snapshot's provenance)."""
    warnings: list[str] = field(default_factory=list)
    facts: int = 0
    provenance: list[Provenance] = field(default_factory=list)

    # ------------------------------------------------------------------ adding

    def add_file(self, entry: FileEntry, content: bytes | None = None) -> None:
        """Add a file (content inline when small text, else under files/)."""
        if content is not None and entry.kind == "file":
            try:
                text = content.decode("utf-8")
            except UnicodeDecodeError:
                text = None
            if text is not None and len(content) <= _INLINE_LIMIT:
                entry = entry.model_copy(update={"content": text, "source": None})
            else:
                rel = entry.path.lstrip("/")
                entry = entry.model_copy(update={"content": None, "source": rel})
                self.contents[entry.path] = content
        self.files[entry.path] = entry

    def add_table(self, database: str, path: str, table: Table, rows: list[dict[str, Any]]) -> None:
        """Add a table (rows go to databases/<database>/<table>.jsonl)."""
        db = self.databases.setdefault(database, _DbDraft(path))
        # Table names come from traces: the file name must be safe for any of them.
        rows_file = rows_file_name(database, table.name)
        t = table.model_copy(update={"rows": None, "rows_file": rows_file})
        db.tables = [x for x in db.tables if x.name != t.name] + [t]
        db.rows[t.name] = rows

    def skip(self, skipped: list[SkippedObservation]) -> None:
        """Record system paths the traces showed and the snapshot leaves out."""
        known = {s.path for s in self.skipped}
        self.skipped += [s for s in skipped if s.path not in known]

    # ------------------------------------------------------------------ writing

    def _skip_provenance(self) -> list[Provenance]:
        return [
            s.provenance.model_copy(
                update={"detail": f"skipped {s.path}: {s.reason}; the image's own is used"}
            )
            for s in sorted(self.skipped, key=lambda s: s.path)
        ]

    def snapshot(self, description: str, clock: Any = None) -> Snapshot:
        """The Snapshot model of this draft."""
        extra: dict[str, Any] = {"workdir": self.workdir} if self.workdir else {}
        return Snapshot(
            **extra,
            name=self.name,
            description=description,
            files=sorted(self.files.values(), key=lambda f: f.path),
            repos=self.repos,
            databases=[
                Database(name=n, path=d.path, tables=d.tables) for n, d in self.databases.items()
            ],
            services=self.services,
            tool_bindings=list(self.bindings.values()),
            env=self.env,
            clock=clock,
            provenance=[*self.provenance, *self._skip_provenance()],
        )

    def write(self, folder: Path, snapshot: Snapshot, *, force: bool = False) -> Path:
        """Write the snapshot folder; refuse to overwrite one unless ``force``.

        Raises:
            SnapshotError: the folder holds a snapshot (or other files) and ``force`` is off.
        """
        _prepare(folder, force)
        for name, db in self.databases.items():
            for table, rows in db.rows.items():
                p = folder / "databases" / rows_file_name(name, table)
                p.parent.mkdir(parents=True, exist_ok=True)
                text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
                p.write_text(text, encoding="utf-8")
        for path, content in self.contents.items():
            p = folder / "files" / path.lstrip("/")
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(content)
        for name, source in self.modules.items():
            p = folder / "services" / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(source, encoding="utf-8")
        return save_snapshot(snapshot, folder)


def _prepare(folder: Path, force: bool) -> None:
    if folder.exists() and any(folder.iterdir()):
        if not force:
            raise SnapshotError(
                folder / SNAPSHOT_FILE,
                "the output folder exists and is not empty; pass --force to replace it",
            )
        if not (folder / SNAPSHOT_FILE).exists():
            raise SnapshotError(
                folder / SNAPSHOT_FILE,
                "refusing to replace a folder that holds no snapshot",
            )
        for sub in ("files", "databases", "services"):
            shutil.rmtree(folder / sub, ignore_errors=True)
        (folder / SNAPSHOT_FILE).unlink()
    folder.mkdir(parents=True, exist_ok=True)
