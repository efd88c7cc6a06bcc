"""Stage lights: signs that a scenario's data was made up, scored per snapshot or scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploysim.graders import REALISTIC_BELOW, DataItem, stage_lights, stage_target
from deploysim.snapshots import Column, Database, FileEntry, Snapshot, Table, save_snapshot

REPO = Path(__file__).resolve().parents[2]


def _flagged(report: object, check: str) -> int:
    return next(c.flagged for c in report.checks if c.check == check)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("check", "column", "value"),
    [
        ("placeholder_name", "crm.users.name", "John Doe"),
        ("placeholder_name", "crm.users.nickname", "foo"),
        ("example_domain", "crm.users.email", "jane@example.com"),
        ("example_domain", None, "see https://shop.test/orders"),
        ("lorem_ipsum", None, "Lorem ipsum dolor sit amet, consectetur adipiscing elit."),
        ("test_values", "crm.users.phone", "(555) 555-0123"),
        ("test_values", "crm.cards.number", "4242 4242 4242 4242"),
        ("test_words", "crm.orders.note", "dummy order, do not use"),
    ],
)
def test_each_value_check_fires(check: str, column: str | None, value: str) -> None:
    """Each staged value is flagged by its check."""
    report = stage_lights("t", [DataItem("here", column, value)])
    assert _flagged(report, check) == 1
    assert report.score > 0


def test_realistic_values_are_not_flagged() -> None:
    """Plausible names, real-looking domains, ordinary notes and prices raise nothing."""
    items = [
        DataItem("r1", "crm.users.name", "Priya Raman"),
        DataItem("r1", "crm.users.email", "priya.raman@fastmail.com"),
        DataItem("r1", "crm.users.phone", "+1 702-397-8915"),
        DataItem("r1", "crm.orders.note", "Wants to know when the size M restocks."),
        DataItem("f", None, "Run the test suite with pytest before you push."),
    ]
    items += [
        DataItem(f"o{i}", "crm.orders.total", v)
        for i, v in enumerate([42.88, 40.38, 39.92, 17.5, 121.0])
    ]
    report = stage_lights("t", items)
    assert report.score == 0.0 and report.realistic
    assert report.findings == []


def test_sequential_ids_and_round_numbers_are_column_checks() -> None:
    """user_001.. and all-round amounts flag their columns; integer primary keys named id do not."""
    items = [DataItem(f"u{i}", "crm.users.user_id", f"user_{i:03d}") for i in range(1, 6)]
    items += [DataItem(f"u{i}", "crm.users.id", i) for i in range(1, 6)]
    items += [
        DataItem(f"u{i}", "crm.users.balance", v) for i, v in enumerate([100, 200, 500, 1000, 300])
    ]
    report = stage_lights("t", items)
    assert _flagged(report, "sequential_ids") == 1
    assert _flagged(report, "round_numbers") == 1
    ids = next(c for c in report.checks if c.check == "sequential_ids")
    assert ids.examined == 1  # crm.users.id is exempt


def test_a_staged_snapshot_folder_scores_high(tmp_path: Path) -> None:
    """A snapshot of placeholder people at example.com with lorem text looks staged."""
    users = Table(
        name="users",
        columns=[Column(name="user_id", nullable=False), Column(name="name"), Column(name="email")],
        primary_key=["user_id"],
        rows=[
            {"user_id": f"user_{i:03d}", "name": n, "email": f"{n.split()[0].lower()}@example.com"}
            for i, n in enumerate(["John Doe", "Jane Smith", "Test User"], 1)
        ],
    )
    snap = Snapshot(
        name="staged",
        databases=[Database(name="crm", path="/data/crm.db", tables=[users])],
        files=[FileEntry(path="/srv/README.txt", content="Lorem ipsum dolor sit amet.")],
    )
    save_snapshot(snap, tmp_path / "staged")
    target = stage_target(tmp_path / "staged")
    report = stage_lights(target.name, target.items)
    assert not report.realistic
    assert report.score > 0.8
    assert {f.check for f in report.findings} >= {
        "placeholder_name",
        "example_domain",
        "lorem_ipsum",
        "sequential_ids",
    }


@pytest.mark.parametrize("name", ["shop", "dev-workstation"])
def test_shipped_authored_snapshots_are_realistic(name: str) -> None:
    """The shop and dev-workstation snapshots (faker data, authored files) raise no light."""
    target = stage_target(REPO / "env_snapshots" / name)
    report = stage_lights(target.name, target.items)
    assert report.realistic and report.score < REALISTIC_BELOW, report.summary()


def test_airline_snapshot_shows_its_tau_bench_stage_lights(airline_dir: Path) -> None:
    """tau-bench's airline data (example.com emails, HAT001.. flight numbers) looks staged."""
    target = stage_target(airline_dir)
    report = stage_lights(target.name, target.items)
    domains = next(c for c in report.checks if c.check == "example_domain")
    assert domains.examined > 0 and domains.rate == 1.0
    assert any(
        f.check == "sequential_ids" and "flight_number" in f.location for f in report.findings
    )
    assert not report.realistic
