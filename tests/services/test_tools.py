"""Function tools over real HTTP: POST /tools/<name>, every handler kind, errors."""

from __future__ import annotations

import sqlite3

import httpx

from tests.services.conftest import ShopServer


def _status(server: ShopServer, order_id: int) -> tuple[object, ...]:
    conn = sqlite3.connect(server.state_dir / "shop.db")
    try:
        return conn.execute(
            "SELECT status, customer FROM orders WHERE id = ?", (order_id,)
        ).fetchone()
    finally:
        conn.close()


def test_lookup_returns_the_row(shop: httpx.Client) -> None:
    """A lookup answers the row found by its key argument, JSON columns decoded."""
    r = shop.post("/tools/get_order", json={"order_id": 1})
    assert r.status_code == 200
    assert r.json() == {
        "output": {
            "id": 1,
            "customer": "ada",
            "status": "open",
            "items": [{"sku": "A1", "qty": 2}],
        },
        "is_error": False,
    }


def test_lookup_miss_is_a_tool_error_with_the_template_text(shop: httpx.Client) -> None:
    """A missing row answers the not_found text, with arguments filled in, as a tool error."""
    r = shop.post("/tools/get_order", json={"order_id": 42})
    assert r.json() == {"output": "Error: order 42 not found", "is_error": True}


def test_lookup_field_returns_one_value(shop: httpx.Client) -> None:
    """A lookup with 'field' answers that column's value only."""
    assert shop.post("/tools/order_status", json={"order_id": 2}).json()["output"] == "shipped"


def test_query_returns_rows(shop: httpx.Client) -> None:
    """A query handler binds named arguments and decodes JSON columns."""
    r = shop.post("/tools/orders_by_status", json={"status": "shipped"})
    assert r.json()["output"] == [
        {"id": 2, "items": [{"sku": "B2", "qty": 1}]},
        {"id": 3, "items": []},
    ]


def test_missing_and_unexpected_arguments_are_tool_errors(shop: httpx.Client) -> None:
    """Wrong arguments are reported to the agent as tool errors, like a function call would."""
    missing = shop.post("/tools/orders_by_status", json={}).json()
    assert missing == {"output": "Error: missing a required argument: 'status'", "is_error": True}
    extra = shop.post("/tools/get_order", json={"order_id": 1, "verbose": True}).json()
    assert extra["is_error"] is True
    assert "verbose" in extra["output"]


def test_update_changes_sqlite(shop: httpx.Client, shop_server: ShopServer) -> None:
    """An update handler sets constant and argument values and answers the updated row."""
    r = shop.post("/tools/ship_order", json={"order_id": 1, "to": "zoe"})
    assert r.json()["output"]["status"] == "shipped"
    assert _status(shop_server, 1) == ("shipped", "zoe")
    miss = shop.post("/tools/ship_order", json={"order_id": 9, "to": "x"}).json()
    assert miss == {"output": "Error: orders not found", "is_error": True}


def test_python_handler_writes_and_returns(shop: httpx.Client, shop_server: ShopServer) -> None:
    """A python handler gets the Db, inserts a row (committed) and returns it."""
    r = shop.post("/tools/place_order", json={"customer": "eve", "items": [{"sku": "E"}]})
    assert r.json()["output"] == {
        "id": 4,
        "customer": "eve",
        "status": "open",
        "items": [{"sku": "E"}],
    }
    assert _status(shop_server, 4) == ("open", "eve")


def test_tool_error_rolls_back_the_handlers_writes(
    shop: httpx.Client, shop_server: ShopServer
) -> None:
    """A ToolError answers its (JSON) output as an error, and the row it inserted is gone."""
    r = shop.post("/tools/place_order", json={"customer": "eve", "items": []})
    assert r.json() == {
        "output": {"code": "empty_order", "message": "an order needs items"},
        "is_error": True,
    }
    assert _status(shop_server, 4) is None


def test_handler_bug_is_a_harness_failure_not_a_tool_result(
    shop: httpx.Client, shop_server: ShopServer
) -> None:
    """An unexpected exception answers 500 handler_failed with the traceback; writes roll back."""
    r = shop.post("/tools/broken", json={})
    assert r.status_code == 500
    body = r.json()
    assert body["error"] == "handler_failed"
    assert "ZeroDivisionError" in body["detail"]
    assert _status(shop_server, 1) == ("open", "ada")


def test_handler_sees_the_frozen_clock(shop: httpx.Client) -> None:
    """db.clock is the snapshot's frozen clock."""
    assert shop.post("/tools/stamp").json()["output"] == "2024-05-15T15:00:00+00:00"


def test_recorded_handler_hit_error_and_miss(shop: httpx.Client) -> None:
    """Recorded pairs answer by exact arguments (errors flagged); a miss is no_recorded_match."""
    assert shop.post("/tools/weather", json={"city": "Paris"}).json() == {
        "output": "Sunny, 21C",
        "is_error": False,
    }
    assert shop.post("/tools/weather", json={"city": "Atlantis"}).json() == {
        "output": "Error: unknown city",
        "is_error": True,
    }
    miss = shop.post("/tools/weather", json={"city": "Rome"})
    assert miss.status_code == 404
    assert miss.json()["error"] == "no_recorded_match"


def test_protocol_errors(shop: httpx.Client) -> None:
    """Unknown tools are 404 unknown_tool; non-object bodies 422 bad_request; GET is 405."""
    unknown = shop.post("/tools/nope", json={})
    assert (unknown.status_code, unknown.json()["error"]) == (404, "unknown_tool")
    bad = shop.post("/tools/get_order", json=[1])
    assert (bad.status_code, bad.json()["error"]) == (422, "bad_request")
    text = shop.post("/tools/get_order", content=b"order 1")
    assert (text.status_code, text.json()["error"]) == (422, "bad_request")
    assert shop.get("/tools/get_order").status_code == 405


def test_tools_answer_on_the_internal_host_not_on_mocked_hosts(shop: httpx.Client) -> None:
    """tools.deploysim.internal reaches the tools; a mocked API's host keeps its own paths."""
    internal = shop.post(
        "/tools/order_status", json={"order_id": 1}, headers={"host": "tools.deploysim.internal"}
    )
    assert internal.json()["output"] == "open"
    mocked = shop.post(
        "/tools/order_status", json={"order_id": 1}, headers={"host": "api.shop.test"}
    )
    assert mocked.status_code == 404
    assert "output" not in mocked.json()
