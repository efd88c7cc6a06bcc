"""One rule for table and column names (issue 11, finding 11, the snapshot side).

Names are quoted everywhere, so any text SQLite can hold is a fine name; refused are only
names it cannot hold or that collide: empty, NUL, a 'sqlite_' prefix, and two names that
differ only in ASCII case (SQLite takes them for one). Tables and columns alike.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import yaml

from deploysim.errors import SnapshotError
from deploysim.snapshots import (
    Column,
    Database,
    Table,
    add_table,
    fake_table,
    identifier_problem,
    load_snapshot,
    materialize_database,
    new_snapshot,
    read_rows,
    read_rows_file,
    validate_snapshot,
)

HOSTILE = 'orders"; DROP TABLE users; --'
COLUMN = 'total [EUR] "net"'


@pytest.mark.parametrize("bad", ["", "a\x00b", "sqlite_stat1", "SQLite_x", "\ud800"])
def test_names_sqlite_cannot_hold_are_refused_for_tables_and_columns(bad: str) -> None:
    """The same names are refused as a table's and as a column's."""
    assert identifier_problem(bad)
    with pytest.raises(ValueError):
        Table(name=bad, columns=[Column(name="id")], primary_key=["id"])
    with pytest.raises(ValueError):
        Column(name=bad)


def test_names_differing_only_in_case_collide() -> None:
    """Orders/orders are one table to SQLite, and ID/id one column; Ä/ä are two (ASCII only)."""
    with pytest.raises(ValueError, match="duplicate column"):
        Table(name="t", columns=[Column(name="ID"), Column(name="id")], primary_key=["id"])
    t = Table(name="Orders", columns=[Column(name="id")], primary_key=["id"])
    with pytest.raises(ValueError, match="duplicate table"):
        Database(name="d", path="/srv/d.db", tables=[t, t.model_copy(update={"name": "orders"})])
    Table(name="t", columns=[Column(name="Ä"), Column(name="ä")], primary_key=["Ä"])


def test_a_hostile_name_is_data_from_validate_to_sqlite(tmp_path: Path) -> None:
    """A table and a column named like SQL injections validate, materialize, read back and
    compile in query handlers; the database holds exactly those names and no table dropped."""
    root = tmp_path / "hostile"
    new_snapshot(root)
    data = tmp_path / "rows.jsonl"
    data.write_text(f'{{"id": 1, "{COLUMN.replace(chr(34), chr(92) + chr(34))}": 2.5}}\n')
    added = add_table(
        root, database="shop", table=HOSTILE, db_path="/srv/shop.db", data=data, primary_key=["id"]
    )
    assert added.table.name == HOSTILE and ".." not in (added.table.rows_file or "")
    assert (root / "databases" / (added.table.rows_file or "")).is_file()
    fake_table(root, table=HOSTILE, rows=3, seed=1, append=True)
    raw = yaml.safe_load((root / "snapshot.yaml").read_text())
    raw["services"] = [
        {
            "name": "api",
            "database": "shop",
            "function_tools": [
                {
                    "name": "q",
                    "handler": {
                        "kind": "query",
                        "sql": 'SELECT "total [EUR] ""net""" FROM "orders""; DROP TABLE users; --"',
                    },
                }
            ],
        }
    ]
    (root / "snapshot.yaml").write_text(yaml.safe_dump(raw))
    report = validate_snapshot(root)
    assert report.ok, report.errors
    sd = load_snapshot(root)
    db = sd.snapshot.databases[0]
    out = materialize_database(sd, db, tmp_path / "shop.db")
    rows = read_rows(out, db.tables[0])
    assert len(rows) == 4 and rows[0][COLUMN] == 2.5
    con = sqlite3.connect(out)
    names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    cols = [
        r[1] for r in con.execute(f'PRAGMA table_info("{HOSTILE.replace(chr(34), 2 * chr(34))}")')
    ]
    con.close()
    assert names == [HOSTILE] and COLUMN in cols
    upper = HOSTILE.upper()
    with pytest.raises(SnapshotError, match=r"takes .* for the same name"):
        add_table(root, database="shop", table=upper, data=data, primary_key=["id"])
    assert load_snapshot(root).snapshot.databases[0].table(upper) is None


def test_validate_reports_reserved_and_colliding_names_with_their_fields(tmp_path: Path) -> None:
    """Each bad name is an error of its own field; the good table beside them is not."""
    root = tmp_path / "names"
    root.mkdir()
    cols = [{"name": "id"}]
    (root / "snapshot.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "names",
                "databases": [
                    {
                        "name": "d",
                        "path": "/srv/d.db",
                        "tables": [
                            {"name": "sqlite_sequence", "columns": cols, "primary_key": ["id"]},
                            {
                                "name": "ok",
                                "columns": [{"name": "id"}, {"name": "ID"}],
                                "primary_key": ["id"],
                            },
                            {
                                "name": "fine",
                                "columns": [{"name": ""}, *cols],
                                "primary_key": ["id"],
                            },
                        ],
                    }
                ],
            }
        )
    )
    fields = {i.field for i in validate_snapshot(root).errors}
    assert {
        "databases[0].tables[0].name",
        "databases[0].tables[1]",
        "databases[0].tables[2].columns[0].name",
    } <= fields


def test_data_files_with_awkward_headers(tmp_path: Path) -> None:
    """A CSV column named like the importer's own row counter is kept; headers that differ
    only in case are refused with the file named."""
    f = tmp_path / "a.csv"
    f.write_text("id,_n,_n0,note\n1,x,y,z\n2,u,v,w\n")
    imported = read_rows_file(f)
    assert [c.name for c in imported.columns] == ["id", "_n", "_n0", "note"]
    assert imported.rows[1] == {"id": 2, "_n": "u", "_n0": "v", "note": "w"}
    g = tmp_path / "b.csv"
    g.write_text("id,ID\n1,2\n")
    with pytest.raises(SnapshotError, match="differ only in case") as e:
        read_rows_file(g)
    assert e.value.path == str(g)
