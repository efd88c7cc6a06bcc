"""The app's mutable state: one SQLite file per service database, kept in ``state_dir``.

At start every database a service uses is materialized once into ``state_dir/pristine/``;
the live files in ``state_dir/`` are copies of those. Reset closes the connections and copies
the pristine files back, which takes milliseconds even for large tables.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

from deploysim._errors import SnapshotError
from deploysim.services._db import Db
from deploysim.services._dump import DumpBudget, DumpLimits, dump_table
from deploysim.services._protocol import TableNotCompared
from deploysim.snapshots import Database, SnapshotDir, materialize_database

__all__ = ["ServiceState"]

BUILD_SCRIPT = "build.py"


def _used_databases(sd: SnapshotDir) -> list[Database]:
    snap = sd.snapshot
    out: list[Database] = []
    for i, svc in enumerate(snap.services):
        if svc.database is None:
            continue
        db = snap.database(svc.database)
        if db is None:
            raise SnapshotError(
                sd.root / "snapshot.yaml",
                f"service {svc.name!r} uses database {svc.database!r}, which is not defined",
                field=f"services[{i}].database",
            )
        if db not in out:
            out.append(db)
    return out


def _materialize(sd: SnapshotDir, db: Database, out: Path) -> None:
    try:
        materialize_database(sd, db, out)
    except SnapshotError as e:
        if not isinstance(e.__cause__, FileNotFoundError):
            raise
        layer = Path(e.path).parent.parent
        script = layer / BUILD_SCRIPT
        how = (
            f"these rows are generated, not committed: build them with `python {script}`"
            if script.exists()
            else "the rows file is missing"
        )
        raise SnapshotError(e.path, f"{e.reason}; {how}") from e


class ServiceState:
    """The live SQLite files of a snapshot's service databases.

    Raises:
        SnapshotError: a service names an unknown database, or rows cannot be materialized
            (a missing generated rows file names the script that builds it).
    """

    def __init__(self, sd: SnapshotDir, state_dir: str | Path) -> None:
        self.sd = sd
        self.dir = Path(state_dir)
        self.databases = {d.name: d for d in _used_databases(sd)}
        pristine = self.dir / "pristine"
        pristine.mkdir(parents=True, exist_ok=True)
        for db in self.databases.values():
            _materialize(sd, db, pristine / f"{db.name}.db")
        self._conns: dict[str, sqlite3.Connection] = {}
        self._empty = sqlite3.connect(":memory:", check_same_thread=False)
        self._open()

    def path(self, database: str) -> Path:
        """The live SQLite file of ``database``."""
        return self.dir / f"{database}.db"

    def _open(self) -> None:
        for name in self.databases:
            shutil.copyfile(self.dir / "pristine" / f"{name}.db", self.path(name))
            # One connection, used under the app's lock from whichever thread serves.
            conn = sqlite3.connect(self.path(name), check_same_thread=False)
            conn.execute("PRAGMA foreign_keys = OFF")
            # Writes reach the OS before each answer, so a killed process loses nothing; only
            # a machine crash could, and then the sandbox is gone anyway. Saves an fsync per call.
            conn.execute("PRAGMA synchronous = OFF")
            self._conns[name] = conn

    def commit(self) -> None:
        """Commit every open transaction."""
        for conn in self._conns.values():
            conn.commit()

    def rollback(self) -> None:
        """Roll back every open transaction."""
        for conn in self._conns.values():
            conn.rollback()

    def close(self) -> None:
        """Close every connection (the files stay)."""
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()

    def reset(self) -> None:
        """Back to the snapshot: the live files become copies of the pristine ones again."""
        self.close()
        self._open()

    def db(self, database: str | None) -> Db:
        """The handler view of ``database`` (an empty one for services without a database)."""
        if database is None:
            return Db(self._empty, {}, self.clock)
        spec = self.databases[database]
        return Db(self._conns[database], {t.name: t for t in spec.tables}, self.clock)

    @property
    def clock(self) -> datetime | None:
        """The snapshot's frozen clock, or None."""
        return self.sd.snapshot.clock

    def dump(
        self, limits: DumpLimits | None = None
    ) -> dict[str, dict[str, list[dict[str, Any]] | TableNotCompared]]:
        """Every table's rows, by database and table, ordered by primary key.

        A table past ``limits`` is a :class:`TableNotCompared` instead (see ``_dump``).
        """
        self.commit()
        budget = DumpBudget(limits or DumpLimits())
        return {
            name: {t.name: dump_table(self._conns[name], t, budget) for t in db.tables}
            for name, db in self.databases.items()
        }
