"""An agent that grows a services table cannot make the admin dump exhaust the sidecar.

``GET /__deploysim/state`` reads each table row by row within :class:`DumpLimits`. A table
past a cap (rows, bytes per table, bytes left of the whole dump) is sent as a
:class:`TableNotCompared` with its row count, the cap, and a sha256 when cheap: never cut
short, so no reader can take the missing rows for deleted ones.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from deploysim.services import DumpLimits, StateDump, TableNotCompared, create_app
from tests.services.conftest import SHOP_MODULE, client, serve, shop_snapshot, write_snapshot

SHOP = {"host": "api.shop.test"}


def _dump(tmp_path: Path, limits: DumpLimits | None, notes: int, text: str = "x") -> StateDump:
    """Serve the shop app, POST ``notes`` notes through its REST resource, then dump it."""
    snap = write_snapshot(tmp_path / "snap", shop_snapshot(), {"shop_tools.py": SHOP_MODULE})
    app = create_app(snap, tmp_path / "state", dump_limits=limits)
    with serve(app) as url, client(url) as http:
        for i in range(notes):
            made = http.post("/v1/notes", json={"slug": f"n{i:03}", "text": text}, headers=SHOP)
            assert made.status_code == 201, made.text
        got = http.get("/__deploysim/state")
        assert got.status_code == 200
        return StateDump.model_validate(got.json())


def test_table_over_the_row_cap_is_marked_not_compared_with_count_and_hash(
    tmp_path: Path,
) -> None:
    """Past ``max_rows`` a table is a TableNotCompared holding its true row count, the cap
    and the sha256 of its rows (sorted JSON lines by key), while small tables stay whole."""
    dump = _dump(tmp_path, DumpLimits(max_rows=5), notes=9)
    notes = dump.databases["shop"]["notes"]
    assert isinstance(notes, TableNotCompared)
    assert (notes.rows, notes.limit, notes.not_compared) == (10, 5, True)
    assert "row cap" in notes.detail
    rows = [{"slug": "hello", "text": "first"}] + [
        {"slug": f"n{i:03}", "text": "x"} for i in range(9)
    ]
    rows.sort(key=lambda r: r["slug"])
    lines = b"".join(json.dumps(r, sort_keys=True).encode() + b"\n" for r in rows)
    assert notes.sha256 == hashlib.sha256(lines).hexdigest() and notes.bytes == len(lines)
    orders = dump.databases["shop"]["orders"]
    assert isinstance(orders, list) and [o["id"] for o in orders] == [1, 2, 3]


def test_table_over_the_byte_cap_is_not_truncated(tmp_path: Path) -> None:
    """A table whose rows' JSON passes ``table_bytes`` is not sent at all (no prefix of its
    rows), and over ``hash_bytes`` it carries no hash rather than a partial one."""
    limits = DumpLimits(table_bytes=2000, hash_bytes=3000)
    dump = _dump(tmp_path, limits, notes=6, text="y" * 500)
    notes = dump.databases["shop"]["notes"]
    assert isinstance(notes, TableNotCompared)
    assert notes.rows == 7 and notes.limit == 2000 and notes.sha256 is None
    assert "not hashed" in notes.detail


def test_whole_dump_budget_spans_tables(tmp_path: Path) -> None:
    """Tables share ``total_bytes``: once the earlier tables used it, a later table that fits
    its own cap is still marked, naming the dump's remaining budget as the cap."""
    dump = _dump(tmp_path, DumpLimits(total_bytes=1500), notes=4, text="z" * 300)
    orders, notes = dump.databases["shop"]["orders"], dump.databases["shop"]["notes"]
    assert isinstance(orders, list) and len(orders) == 3
    assert isinstance(notes, TableNotCompared) and notes.rows == 5
    assert notes.limit < 1500 and "remaining" in notes.detail


def test_default_caps_send_small_tables_whole(tmp_path: Path) -> None:
    """Under the default caps the dump is what it always was: every row, by primary key."""
    dump = _dump(tmp_path, None, notes=3)
    notes = dump.databases["shop"]["notes"]
    assert isinstance(notes, list)
    assert [n["slug"] for n in notes] == ["hello", "n000", "n001", "n002"]
