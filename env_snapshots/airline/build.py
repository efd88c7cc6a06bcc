"""Build the airline snapshot's rows files from tau-bench's initial state.

The tau-bench data is not copied into the repository: this script reads
``traces/tau-bench-airline/initial_state/{users,flights,reservations}.json`` from the shared
data folder and writes ``databases/{users,flights,reservations}.jsonl`` next to it (that folder
is git-ignored). Rows keep the order of the source files, which tau-bench's search tools
iterate in.

Usage::

    python env_snapshots/airline/build.py                       # shared data found as in tests
    python env_snapshots/airline/build.py --source DIR --out DIR

The shared data folder is ``$DEPLOYSIM_SHARED_DATA``, else ``../shared/data`` beside the
repository, else ``/work/shared/data``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
INITIAL_STATE = Path("traces") / "tau-bench-airline" / "initial_state"


def default_source() -> Path:
    """The tau-bench airline initial_state folder of the shared data."""
    env = os.environ.get("DEPLOYSIM_SHARED_DATA")
    candidates = [
        Path(env) if env else None,
        REPO.parent / "shared" / "data",
        Path("/work/shared/data"),
    ]
    for c in candidates:
        if c is not None and (c / INITIAL_STATE).is_dir():
            return c / INITIAL_STATE
    raise SystemExit(
        "tau-bench airline initial state not found: set DEPLOYSIM_SHARED_DATA to the shared "
        "data folder (the one holding traces/), or pass --source"
    )


def _load(source: Path, name: str) -> dict[str, Any]:
    path = source / f"{name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise SystemExit(f"{path}: cannot read tau-bench data: {e}") from e
    if not isinstance(data, dict):
        raise SystemExit(f"{path}: expected an object keyed by id")
    return data


def _rows(source: Path) -> dict[str, list[dict[str, Any]]]:
    users = _load(source, "users")
    flights = _load(source, "flights")
    reservations = _load(source, "reservations")
    for key, f in flights.items():
        if f.get("flight_number") != key:
            raise SystemExit(f"flights.json: {key} holds flight_number {f.get('flight_number')}")
    for key, r in reservations.items():
        if r.get("reservation_id") != key:
            raise SystemExit(f"reservations.json: {key} holds id {r.get('reservation_id')}")
    return {
        # tau-bench keys users by id and leaves the id out of the profile; the table keeps it
        # as a column and get_user_details omits it again.
        "users": [{"user_id": k, **v} for k, v in users.items()],
        "flights": list(flights.values()),
        "reservations": list(reservations.values()),
    }


def build(source: Path, out: Path) -> dict[str, int]:
    """Write one JSONL rows file per table into ``out``; return the row counts."""
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for table, rows in _rows(source).items():
        target = out / f"{table}.jsonl"
        tmp = target.with_suffix(".jsonl.tmp")
        with tmp.open("w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        tmp.replace(target)
        counts[table] = len(rows)
    return counts


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, help="tau-bench airline initial_state folder")
    parser.add_argument("--out", type=Path, default=HERE / "databases", help="rows folder")
    args = parser.parse_args(argv)
    counts = build(args.source or default_source(), args.out)
    summary = ", ".join(f"{n} {t}" for t, n in counts.items())
    print(f"wrote {summary} to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
