"""Services tables the admin dump did not hold whole are "not compared", never deleted rows.

The sidecar sends a table past its dump caps as a ``TableNotCompared`` marker (see
deploysim.services._dump); a database or table can also be missing from a dump. Reading
either as an empty table would report every snapshot row as deleted by the agent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deploysim.replay._capture import _services_rows
from deploysim.replay._load import LoadedScenario
from deploysim.replay._plan import ReplayPlan
from deploysim.replay._scenario import Scenario, TraceSet
from deploysim.sandbox import CaptureNote
from deploysim.snapshots import load_snapshot
from tests.services.conftest import SHOP_MODULE, shop_snapshot, write_snapshot

MARKER = {
    "not_compared": True,
    "rows": 250_000,
    "limit": 200_000,
    "bytes": 9_000_000,
    "sha256": "ab" * 32,
    "detail": "table not compared: 250000 rows, over the 200000-row cap",
}


def _plan(tmp_path: Path) -> ReplayPlan:
    root = write_snapshot(tmp_path / "snap", shop_snapshot(), {"shop_tools.py": SHOP_MODULE})
    sd = load_snapshot(root)
    scenario = Scenario(traces=[TraceSet(path="unused.json")], snapshot=str(root))
    return ReplayPlan(LoadedScenario(tmp_path / "case.yaml", scenario, [], root, sd))


def _orders(plan: ReplayPlan) -> list[dict[str, Any]]:
    return [dict(r) for r in plan.services_baseline()["shop"]["orders"]]


def test_marked_table_is_noted_not_compared_and_yields_no_row_changes(tmp_path: Path) -> None:
    """A table sent as a marker gives one table_rows note (count, cap, hash in the detail),
    valid as a CaptureNote, and no "deleted" rows; the other table is still diffed."""
    plan = _plan(tmp_path)
    orders = _orders(plan)
    orders[0]["status"] = "cancelled"
    got = _services_rows(plan, {"shop": {"orders": orders, "notes": MARKER}})
    assert [(r["table"], r["change"]) for r in got.rows] == [("orders", "modified")]
    [note] = got.notes
    checked = CaptureNote.model_validate(note)
    assert (checked.kind, checked.path, checked.size, checked.limit) == (
        "table_rows",
        "shop.notes",
        250_000,
        200_000,
    )
    assert "not compared" in checked.detail and MARKER["sha256"] in checked.detail


def test_missing_table_or_database_is_noted_not_read_as_empty(tmp_path: Path) -> None:
    """A table absent from the dump, or a whole database absent, is noted as not compared;
    neither turns the snapshot's rows into deletions."""
    plan = _plan(tmp_path)
    missing_table = _services_rows(plan, {"shop": {"orders": _orders(plan)}})
    assert missing_table.rows == []
    assert [(n["kind"], n["path"]) for n in missing_table.notes] == [("table_rows", "shop.notes")]
    missing_db = _services_rows(plan, {})
    assert missing_db.rows == []
    [note] = missing_db.notes
    assert CaptureNote.model_validate(note).kind == "database_unreadable"
    assert note["path"] == "shop" and "not compared" in note["detail"]


def test_whole_tables_still_report_real_deletions(tmp_path: Path) -> None:
    """A table sent whole but with a row gone is still a deletion: the marker logic does not
    hide what the agent really did."""
    plan = _plan(tmp_path)
    notes = [dict(r) for r in plan.services_baseline()["shop"]["notes"]]
    got = _services_rows(plan, {"shop": {"orders": _orders(plan)[1:], "notes": notes}})
    assert [(r["table"], r["change"], r["key"]) for r in got.rows] == [
        ("orders", "deleted", {"id": 1})
    ]
    assert got.notes == []


@pytest.mark.docker
async def test_agent_grown_table_in_a_pod_is_noted_and_the_sidecar_survives(
    base_image: str, tmp_path: Path
) -> None:
    """Through a real pod: an agent that grows a services table past the dump's 16 MiB table
    cap with 1 MB POSTs (each under the 1 MiB accept cap) leaves a sidecar that still
    answers, a dump that marks the table not compared with its true row count, and a capture
    that notes it without reporting a single deleted row."""
    from deploysim.sandbox._pod import Pod

    plan = _plan(tmp_path)
    assert plan.loaded.snapshot is not None
    pod = await Pod.start(plan.loaded.snapshot, sample_id="grown-table")
    try:
        grow = (
            "head -c 1000000 /dev/zero | tr '\\0' x > /tmp/x; "
            "for i in $(seq 18); do "
            'printf \'{"slug": "n%s", "text": "\' $i > /tmp/b; cat /tmp/x >> /tmp/b; '
            "printf '\"}' >> /tmp/b; "
            "curl -sS -o /dev/null -w '%{http_code} ' -H 'content-type: application/json' "
            "--data-binary @/tmp/b http://api.shop.test/v1/notes; done"
        )
        r = await pod.exec(["sh", "-c", grow], timeout=300)
        assert r.returncode == 0 and r.stdout.split() == ["201"] * 18, (r.stdout, r.stderr)
        state = await pod.capture_state()
        marker = state.services_tables["shop"]["notes"]
        assert marker["not_compared"] is True and marker["rows"] == 19, marker
        assert (await pod.admin("GET", "/__deploysim/health"))["ok"] is True
        got = _services_rows(plan, state.services_tables)
        assert [n["path"] for n in got.notes] == ["shop.notes"]
        assert got.notes[0]["size"] == 19
        assert not [r for r in got.rows if r["change"] == "deleted"]
    finally:
        await pod.close()
