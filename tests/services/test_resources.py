"""Resources over real HTTP: CRUD answered from, and written to, real SQLite files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from tests.services.conftest import ShopServer

SHOP = {"host": "api.shop.test"}


def _rows(state_dir: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(state_dir / "shop.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_list_wraps_rows_in_the_envelope_with_json_decoded(shop: httpx.Client) -> None:
    """GET on the collection lists every row under 'data', JSON columns as values."""
    r = shop.get("/v1/orders", headers=SHOP)
    assert r.status_code == 200
    data = r.json()["data"]
    assert [o["id"] for o in data] == [1, 2, 3]
    assert data[0]["items"] == [{"sku": "A1", "qty": 2}]


def test_list_filters_on_allowed_columns_only(shop: httpx.Client) -> None:
    """Query parameters on filter columns filter (and combine); others are ignored."""
    r = shop.get("/v1/orders?customer=ada&status=shipped&page=3", headers=SHOP)
    assert [o["id"] for o in r.json()["data"]] == [3]
    assert [o["id"] for o in shop.get("/v1/orders?items=x", headers=SHOP).json()["data"]] == [
        1,
        2,
        3,
    ]


def test_bare_list_without_envelope(shop: httpx.Client) -> None:
    """A resource without envelope lists a bare JSON array."""
    assert shop.get("/v1/notes", headers=SHOP).json() == [{"slug": "hello", "text": "first"}]


def test_get_item_and_missing_item(shop: httpx.Client) -> None:
    """GET /coll/{id} answers the row; an unknown or ill-typed id answers 404."""
    assert shop.get("/v1/orders/2", headers=SHOP).json()["customer"] == "bob"
    assert shop.get("/v1/orders/99", headers=SHOP).status_code == 404
    assert shop.get("/v1/orders/abc", headers=SHOP).status_code == 404
    assert shop.get("/v1/notes/hello", headers=SHOP).json()["text"] == "first"


def test_create_generates_integer_id_and_writes_sqlite(
    shop: httpx.Client, shop_server: ShopServer
) -> None:
    """POST without an id stores the row with max(id)+1 and answers 201 with it."""
    r = shop.post("/v1/orders", json={"customer": "cy", "items": [{"sku": "C"}]}, headers=SHOP)
    assert r.status_code == 201
    assert r.json() == {"id": 4, "customer": "cy", "status": None, "items": [{"sku": "C"}]}
    assert _rows(shop_server.state_dir, "SELECT id, customer, items FROM orders WHERE id = 4") == [
        (4, "cy", '[{"sku": "C"}]')
    ]


def test_create_text_id_is_deterministic(shop: httpx.Client) -> None:
    """Generated text ids are UUIDs that come out the same on a fresh state."""
    first = shop.post("/v1/notes", json={"text": "x"}, headers=SHOP).json()["slug"]
    shop.post("/__deploysim/reset").raise_for_status()
    again = shop.post("/v1/notes", json={"text": "x"}, headers=SHOP).json()["slug"]
    assert first == again
    assert len(first) == 36


def test_create_conflict_and_bad_bodies(shop: httpx.Client, shop_server: ShopServer) -> None:
    """An existing id is 409; unknown fields, a non-object or a NOT NULL gap is 422; no write."""
    assert shop.post("/v1/orders", json={"id": 1, "customer": "z"}, headers=SHOP).status_code == 409
    assert shop.post("/v1/orders", json={"customer": "z", "x": 1}, headers=SHOP).status_code == 422
    assert shop.post("/v1/orders", json=[1], headers=SHOP).status_code == 422
    assert shop.post("/v1/orders", json={"status": "open"}, headers=SHOP).status_code == 422
    assert _rows(shop_server.state_dir, "SELECT COUNT(*) FROM orders") == [(3,)]


def test_put_replaces_the_row(shop: httpx.Client, shop_server: ShopServer) -> None:
    """PUT sets every column from the body (absent ones become NULL) and answers the row."""
    r = shop.put("/v1/orders/1", json={"customer": "ada", "status": "done"}, headers=SHOP)
    assert r.json() == {"id": 1, "customer": "ada", "status": "done", "items": None}
    assert _rows(shop_server.state_dir, "SELECT status, items FROM orders WHERE id = 1") == [
        ("done", None)
    ]


def test_put_rejects_a_different_id_and_missing_rows(shop: httpx.Client) -> None:
    """PUT with another id in the body is 422; on an unknown id it is 404."""
    assert (
        shop.put("/v1/orders/1", json={"id": 2, "customer": "a"}, headers=SHOP).status_code == 422
    )
    assert shop.put("/v1/orders/9", json={"customer": "a"}, headers=SHOP).status_code == 404


def test_patch_merges_fields(shop: httpx.Client, shop_server: ShopServer) -> None:
    """PATCH changes only the given columns."""
    r = shop.patch("/v1/orders/2", json={"status": "lost"}, headers=SHOP)
    assert r.json()["status"] == "lost"
    assert r.json()["items"] == [{"sku": "B2", "qty": 1}]
    assert _rows(shop_server.state_dir, "SELECT status FROM orders WHERE id = 2") == [("lost",)]


def test_delete_removes_the_row(shop: httpx.Client, shop_server: ShopServer) -> None:
    """DELETE answers 204 with no body; the row is gone and a second delete is 404."""
    r = shop.delete("/v1/orders/3", headers=SHOP)
    assert (r.status_code, r.content) == (204, b"")
    assert _rows(shop_server.state_dir, "SELECT id FROM orders") == [(1,), (2,)]
    assert shop.delete("/v1/orders/3", headers=SHOP).status_code == 404


def test_methods_not_offered_are_405(shop: httpx.Client) -> None:
    """A resource limited to list/get/create answers 405 to DELETE, listing what it allows."""
    r = shop.delete("/v1/notes/hello", headers=SHOP)
    assert r.status_code == 405
    assert r.headers["allow"] == "GET"
    assert shop.put("/v1/notes", json={}, headers=SHOP).headers["allow"] == "GET, POST"
