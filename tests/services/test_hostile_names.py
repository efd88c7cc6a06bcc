"""Hostile table and column names in the services app: always data, never SQL.

Names with quotes, brackets, spaces, semicolons and unicode pass snapshot validation, so
every statement the app builds (resources, the handlers' Db, new ids, the state dump) must
quote them.
"""

from __future__ import annotations

from pathlib import Path

from deploysim.services import create_app
from tests.services.conftest import client, serve, write_snapshot

TABLE = 'o"rd]ers; DROP TABLE x;-- ü'
KEY, STATUS, TAGS = "i]d; x", "st]at us", "ta'gs"
HOST = {"host": "api.shop.test"}

HANDLERS = f'''
TABLE, KEY, STATUS = {TABLE!r}, {KEY!r}, {STATUS!r}


def churn(db):
    """Every Db call on the hostile table; returns what it saw."""
    made = db.insert(TABLE, {{KEY: 10, STATUS: "new", {TAGS!r}: ["z"]}})
    db.update(TABLE, 10, {{STATUS: "done"}})
    seen = db.get(TABLE, 10)
    gone = db.delete(TABLE, 1)
    left = db.select(TABLE, {{STATUS: "shipped"}})
    return {{"made": made, "seen": seen, "gone": gone, "left": left}}
'''


def _snapshot() -> dict[str, object]:
    table = {
        "name": TABLE,
        "primary_key": [KEY],
        "columns": [
            {"name": KEY, "type": "INTEGER"},
            {"name": STATUS},
            {"name": TAGS, "type": "JSON"},
        ],
        "rows": [{KEY: 1, STATUS: "open", TAGS: ["a"]}, {KEY: 2, STATUS: "shipped", TAGS: []}],
    }
    return {
        "name": "hostile-names",
        "databases": [{"name": "shop", "path": "/srv/shop.db", "tables": [table]}],
        "services": [
            {
                "name": "shop",
                "hostnames": ["api.shop.test"],
                "database": "shop",
                "resources": [
                    {"path": "/v1/orders", "table": TABLE, "id_field": KEY, "filters": [STATUS]}
                ],
                "function_tools": [
                    {
                        "name": "churn",
                        "handler": {"kind": "python", "module": "h.py", "function": "churn"},
                    }
                ],
            }
        ],
    }


def test_resources_handlers_and_dump_quote_hostile_names(tmp_path: Path) -> None:
    """Resources (list, filter, create with a new id, get, patch, put, delete), every Db call
    of a handler, and the state dump work on a table and columns with hostile names."""
    snap = write_snapshot(tmp_path / "snap", _snapshot(), {"h.py": HANDLERS})
    with serve(create_app(snap, tmp_path / "state")) as url, client(url) as http:
        assert http.get("/v1/orders", params={STATUS: "open"}, headers=HOST).json() == [
            {KEY: 1, STATUS: "open", TAGS: ["a"]}
        ]
        created = http.post("/v1/orders", json={STATUS: "new", TAGS: []}, headers=HOST)
        assert (created.status_code, created.json()[KEY]) == (201, 3)
        patched = http.patch("/v1/orders/3", json={STATUS: "paid"}, headers=HOST)
        assert patched.json() == {KEY: 3, STATUS: "paid", TAGS: []}
        put = http.put("/v1/orders/3", json={STATUS: "boxed", TAGS: ["q"]}, headers=HOST)
        assert put.json() == {KEY: 3, STATUS: "boxed", TAGS: ["q"]}
        assert http.delete("/v1/orders/3", headers=HOST).status_code == 204
        tool = http.post("/tools/churn", json={}).json()["output"]
        assert tool["made"] == {KEY: 10, STATUS: "new", TAGS: ["z"]}
        assert (tool["seen"][STATUS], tool["gone"]) == ("done", True)
        assert tool["left"] == [{KEY: 2, STATUS: "shipped", TAGS: []}]
        rows = http.get("/__deploysim/state").json()["databases"]["shop"][TABLE]
    assert [(r[KEY], r[STATUS]) for r in rows] == [(2, "shipped"), (10, "done")]
