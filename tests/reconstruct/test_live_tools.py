"""Shell, editor, SQL and HTTP tools on hand-made traces: files, tables, services."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from deploysim.reconstruct import fidelity, reconstruct
from deploysim.services import create_app
from deploysim.snapshots import load_snapshot, materialize_database
from deploysim.traces import Trace
from tests.reconstruct.builders import spec, trace

BASH = spec("bash", kind="shell", command="string")
EDITOR = spec("str_replace_editor", kind="editor", command="string", path="string")
SQL = spec("run_sql", kind="sql", query="string")
HTTP = spec("http_request", kind="http", url="string", method="string")
DDL = (
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, total REAL, status TEXT)"
)
ORDERS = [
    {"id": 1, "customer": "ada", "total": 12.5, "status": "open"},
    {"id": 2, "customer": "bob", "total": 3.0, "status": "shipped"},
]
LS = (
    "total 8\n"
    "drwxr-xr-x 2 agent agent 4096 May 1 10:00 .\n"
    "-rw------- 1 agent agent   22 May 1 10:00 config.toml\n"
    "-rwxr-xr-x 1 agent agent  120 May 1 10:00 run.sh\n"
)


def shell_trace() -> Trace:
    return trace(
        "shell",
        [
            ("bash", {"command": "cat /srv/app/config.toml"}, "[server]\nport = 8080\n"),
            ("bash", {"command": "ls -la /srv/app"}, LS),
            ("bash", {"command": "ls /srv/app"}, "config.toml\nrun.sh\n"),
            ("bash", {"command": "echo hi > /srv/app/notes.txt"}, ""),
            ("bash", {"command": "cat /srv/app/notes.txt"}, "hi\n"),
            (
                "str_replace_editor",
                {"command": "view", "path": "/srv/app/run.sh"},
                "Here's the result of running `cat -n` on /srv/app/run.sh:\n"
                "     1\t#!/bin/sh\n     2\t",
            ),
        ],
        [BASH, EDITOR],
    )


def sql_trace(second_total: float = 3.0) -> Trace:
    rows = [ORDERS[0], {**ORDERS[1], "total": second_total}]
    return trace(
        "sql",
        [
            (
                "run_sql",
                {"query": "SELECT sql FROM sqlite_master WHERE name='orders'"},
                [{"sql": DDL}],
            ),
            ("run_sql", {"query": "SELECT * FROM orders"}, rows),
            (
                "run_sql",
                {"query": "UPDATE orders SET status = 'paid' WHERE id = 1"},
                {"rows_affected": 1},
            ),
            (
                "run_sql",
                {"query": "SELECT * FROM orders WHERE id = 1"},
                [{**ORDERS[0], "status": "paid"}],
            ),
        ],
        [SQL],
    )


def http_trace() -> Trace:
    tea = {"id": "a1", "name": "Tea", "price": 4}
    cup = {"id": "b2", "name": "Cup", "price": 9}
    base = "https://api.shop.test/v1/items"
    return trace(
        "http",
        [
            ("http_request", {"url": base, "method": "GET"}, {"data": [tea]}),
            ("http_request", {"url": f"{base}/a1", "method": "GET"}, tea),
            ("http_request", {"url": base, "method": "POST", "json": cup}, cup),
            ("http_request", {"url": base, "method": "GET"}, {"data": [tea, cup]}),
            (
                "http_request",
                {"url": "https://api.shop.test/v1/ping", "method": "GET"},
                {"pong": True},
            ),
        ],
        [HTTP],
    )


def test_shell_views_become_files_and_the_agents_writes_stay_out(tmp_path: Path) -> None:
    """cat gives content, ls -la gives modes, the editor's view gives numbered lines; the file
    the agent wrote is an effect, not a file of the snapshot."""
    result = reconstruct([shell_trace()], tmp_path / "s")
    files = {f.path: f for f in load_snapshot(tmp_path / "s").snapshot.files}
    assert files["/srv/app/config.toml"].content == "[server]\nport = 8080\n"
    assert files["/srv/app/config.toml"].mode == "0600"
    assert files["/srv/app/run.sh"].mode == "0755"
    assert files["/srv/app/run.sh"].content == "#!/bin/sh\n"
    assert "/srv/app/notes.txt" not in files
    assert [(e.path, e.how) for e in result.effects] == [("/srv/app/notes.txt", "changed")]
    prov = files["/srv/app/config.toml"].provenance[0]
    assert (prov.trace_id, prov.message_index, prov.call_id) == ("shell", 1, "call_0")


def test_sql_results_and_ddl_become_a_table_before_the_agents_update(tmp_path: Path) -> None:
    """The DDL gives types and key; SELECT * gives rows; rows read after the agent's UPDATE
    are its effect: the snapshot holds the status before it."""
    reconstruct([sql_trace()], tmp_path / "s")
    sd = load_snapshot(tmp_path / "s")
    (db,) = sd.snapshot.databases
    (table,) = db.tables
    assert table.primary_key == ["id"]
    assert [(c.name, c.type, c.nullable) for c in table.columns] == [
        ("id", "INTEGER", False),
        ("customer", "TEXT", False),
        ("total", "REAL", True),
        ("status", "TEXT", True),
    ]
    out = materialize_database(sd, db, tmp_path / "orders.db")
    rows = sqlite3.connect(out).execute("SELECT * FROM orders ORDER BY id").fetchall()
    assert rows == [(1, "ada", 12.5, "open"), (2, "bob", 3.0, "shipped")]


def test_sql_conflicts_between_traces_are_reported(tmp_path: Path) -> None:
    """Two traces disagreeing on a row's field produce a conflict naming the row and both calls."""
    result = reconstruct(
        [sql_trace(), sql_trace(second_total=4.0).model_copy(update={"id": "sql2"})], tmp_path / "s"
    )
    (conflict,) = result.conflicts
    assert conflict.subject == "orders[[2]].total"
    assert {conflict.kept_provenance.trace_id, conflict.other_provenance.trace_id} == {
        "sql",
        "sql2",
    }


def test_http_collections_become_stateful_resources(tmp_path: Path) -> None:
    """GET list + GET item + POST on /v1/items make a resource over the items seen before the
    write; the live service then creates and lists like the original API; other requests
    stay recorded exchanges."""
    reconstruct([http_trace()], tmp_path / "s")
    sd = load_snapshot(tmp_path / "s")
    (service,) = sd.snapshot.services
    assert service.hostnames == ["api.shop.test"]
    (resource,) = service.resources
    assert (resource.path, resource.id_field, resource.envelope) == ("/v1/items", "id", "data")
    assert [e.request.path for e in service.exchanges] == ["/v1/ping"]
    app = create_app(sd, tmp_path / "state")
    with _client(app) as c:
        assert c.get("https://api.shop.test/v1/items").json() == {
            "data": [{"id": "a1", "name": "Tea", "price": 4}]
        }
        assert (
            c.post(
                "https://api.shop.test/v1/items", json={"id": "b2", "name": "Cup", "price": 9}
            ).status_code
            == 201
        )
        assert [i["id"] for i in c.get("https://api.shop.test/v1/items").json()["data"]] == [
            "a1",
            "b2",
        ]
        assert c.get("https://api.shop.test/v1/ping").json() == {"pong": True}


def _client(app: Any) -> httpx.Client:
    """A synchronous client to an ASGI app (one event loop per request)."""

    class _Sync(httpx.BaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.ASGITransport(app=app)

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            async def go() -> httpx.Response:
                r = await self.inner.handle_async_request(request)
                body = await r.aread()
                return httpx.Response(r.status_code, headers=r.headers, content=body)

            return asyncio.run(go())

    return httpx.Client(transport=_Sync())


@pytest.mark.docker
def test_live_tools_reproduce_in_a_pod(tmp_path: Path, base_image: str) -> None:
    """In a real pod: the shell sees the rebuilt files, SQL runs against the rebuilt table,
    HTTP reaches the mocked service; every call of the three traces reproduces."""
    traces = [shell_trace(), sql_trace(), http_trace()]
    for t in traces:
        reconstruct([t], tmp_path / t.id)
    results = {t.id: fidelity(tmp_path / t.id, [t]) for t in traces}
    shell = results["shell"]
    # ls -la prints dates and sizes the traces cannot teach (run.sh was seen, not measured)
    assert [r.status for r in shell.results] == ["reproduced", "differs", *["reproduced"] * 4]
    sql = results["sql"]
    # the schema is rebuilt, but SQLite prints back the DDL text it was created with, and
    # snapshots create tables from columns (the original statement is not kept)
    assert [r.status for r in sql.results] == ["differs", *["reproduced"] * 3]
    http = results["http"]
    assert [r.status for r in http.results] == ["reproduced"] * 5, [r.diff for r in http.results]
