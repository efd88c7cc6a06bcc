"""The request log, state dump and reset, and guarding the admin endpoints with a token."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from deploysim.services import LOG_FILE, LogEntry, StateDump, create_app
from tests.services.conftest import ShopServer, client, serve

SHOP = {"host": "api.shop.test"}


def test_every_request_is_logged_with_its_response(shop: httpx.Client) -> None:
    """Each backend's requests are logged in order with host, query, body, status, response."""
    shop.get("/v1/products?category=tea", headers=SHOP)
    shop.post("/v1/orders", json={"customer": "cy"}, headers=SHOP)
    shop.post("/tools/get_order", json={"order_id": 7})
    shop.get("/v1/nowhere", headers={"host": "api.shop.test:443"})
    entries = [LogEntry.model_validate(e) for e in shop.get("/__deploysim/log").json()]
    assert [(e.seq, e.backend, e.status) for e in entries] == [
        (0, "exchange", 200),
        (1, "resource", 201),
        (2, "function", 200),
        (3, "unmatched", 404),
    ]
    first, created, tool, miss = entries
    assert (first.host, first.method, first.path) == ("api.shop.test", "GET", "/v1/products")
    assert first.query == {"category": ["tea"]}
    assert first.response == {"data": ["p1"]}
    assert created.body == {"customer": "cy"}
    assert created.response["id"] == 4
    assert (tool.tool, tool.is_error, tool.service) == ("get_order", True, "shop")
    assert tool.response == {"output": "Error: order 7 not found", "is_error": True}
    assert miss.note == "no recorded exchange has this path"
    assert {e.time.isoformat() for e in entries} == {"2024-05-15T15:00:00+00:00"}


def test_log_since_and_admin_requests_are_not_logged(shop: httpx.Client) -> None:
    """?since=N gives entries from N on; reading the log or state adds nothing to it."""
    for _ in range(3):
        shop.get("/v1/ping", headers=SHOP)
    shop.get("/__deploysim/state")
    assert [e["seq"] for e in shop.get("/__deploysim/log?since=1").json()] == [1, 2]
    assert shop.get("/__deploysim/log?since=x").status_code == 422


def test_log_file_matches_the_log(shop: httpx.Client, shop_server: ShopServer) -> None:
    """requests.jsonl in the state dir holds the same entries, one per line, as they happen."""
    shop.get("/v1/ping", headers=SHOP)
    shop.post("/tools/order_status", json={"order_id": 1})
    lines = (shop_server.state_dir / LOG_FILE).read_text().splitlines()
    assert [json.loads(line) for line in lines] == shop.get("/__deploysim/log").json()
    assert len(lines) == 2


def test_state_dump_has_every_table_and_the_log(shop: httpx.Client) -> None:
    """GET /__deploysim/state dumps all rows by database and table, plus the log."""
    shop.patch("/v1/orders/1", json={"status": "held"}, headers=SHOP)
    dump = StateDump.model_validate(shop.get("/__deploysim/state").json())
    assert dump.snapshot == "shop"
    assert sorted(dump.databases["shop"]) == ["notes", "orders"]
    assert dump.databases["shop"]["orders"][0]["status"] == "held"
    assert dump.databases["shop"]["notes"] == [{"slug": "hello", "text": "first"}]
    assert [e.backend for e in dump.log] == ["resource"]


def test_reset_restores_tables_log_and_playback(shop: httpx.Client) -> None:
    """After reset: rows as in the snapshot, empty log, recorded sequences from the start."""
    shop.delete("/v1/orders/1", headers=SHOP)
    shop.post("/tools/place_order", json={"customer": "x", "items": [1]})
    assert shop.get("/v1/balance", headers=SHOP).json() == {"amount": 100}
    assert shop.post("/__deploysim/reset").json() == {"ok": True}
    dump = shop.get("/__deploysim/state").json()
    assert [o["id"] for o in dump["databases"]["shop"]["orders"]] == [1, 2, 3]
    assert dump["log"] == []
    assert shop.get("/v1/balance", headers=SHOP).json() == {"amount": 100}
    assert shop.get("/__deploysim/log").json()[0]["seq"] == 0


def test_health(shop: httpx.Client) -> None:
    """GET /__deploysim/health answers ok and the snapshot's name; unknown admin paths 404."""
    assert shop.get("/__deploysim/health").json() == {"ok": True, "snapshot": "shop"}
    assert shop.get("/__deploysim/nothing").status_code == 404


def test_admin_paths_belong_to_the_api_on_mocked_hosts(shop: httpx.Client) -> None:
    """On a mocked host /__deploysim/... is just an unknown path of that API (and logged)."""
    r = shop.post("/__deploysim/reset", headers=SHOP)
    assert r.status_code == 404
    assert r.json()["error"]["type"] == "invalid_request_error"
    assert shop.get("/__deploysim/log").json()[0]["path"] == "/__deploysim/reset"


def test_admin_token_hides_internal_endpoints(shop_dir: Path, tmp_path: Path) -> None:
    """With a token, admin and tool endpoints need it; without it they look like unknown paths."""
    app = create_app(shop_dir, tmp_path / "state", admin_token="s3cret")
    with serve(app) as url, client(url) as c:
        token = {"x-deploysim-token": "s3cret"}
        assert c.post("/__deploysim/reset").status_code == 404
        assert c.post("/tools/order_status", json={"order_id": 1}).status_code == 404
        assert (
            c.get("/__deploysim/health", headers={"x-deploysim-token": "wrong"}).status_code == 404
        )
        assert c.get("/__deploysim/health", headers=token).json()["ok"] is True
        tool = c.post("/tools/order_status", json={"order_id": 1}, headers=token)
        assert tool.json()["output"] == "open"
        logged = c.get("/__deploysim/log", headers=token).json()
        assert [e["backend"] for e in logged] == ["unmatched"] * 3 + ["function"]
