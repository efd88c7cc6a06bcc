"""Fixtures: small snapshots authored per test, and the app served over real HTTP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest
import uvicorn
import yaml

from deploysim.services import create_app

REPO = Path(__file__).resolve().parents[2]
AIRLINE = REPO / "env_snapshots" / "airline"


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run ``app`` under uvicorn in a thread on a free loopback port; yield its base URL."""
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only then, and
    # without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", server_header=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def client(base_url: str, timeout: float = 30) -> httpx.Client:
    """An httpx client to a served app."""
    return httpx.Client(base_url=base_url, timeout=timeout)


def write_snapshot(root: Path, data: dict[str, Any], modules: dict[str, str] | None = None) -> Path:
    """Write snapshot.yaml (and services/<module>.py files) into ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "snapshot.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    for name, code in (modules or {}).items():
        (root / "services").mkdir(exist_ok=True)
        (root / "services" / name).write_text(code)
    return root


SHOP_MODULE = '''
from deploysim.services import ToolError


def place_order(db, customer, items):
    """Insert an order; refuse empty ones after writing, to prove the write rolls back."""
    order = db.insert("orders", {"customer": customer, "status": "open", "items": items})
    if not items:
        raise ToolError({"code": "empty_order", "message": "an order needs items"})
    return order


def stamp(db):
    return db.clock.isoformat()


def broken(db):
    db.update("orders", 1, {"status": "broken"})
    return 1 / 0
'''

ORDERS = {
    "name": "orders",
    "primary_key": ["id"],
    "columns": [
        {"name": "id", "type": "INTEGER"},
        {"name": "customer", "nullable": False},
        {"name": "status"},
        {"name": "items", "type": "JSON"},
    ],
    "rows": [
        {"id": 1, "customer": "ada", "status": "open", "items": [{"sku": "A1", "qty": 2}]},
        {"id": 2, "customer": "bob", "status": "shipped", "items": [{"sku": "B2", "qty": 1}]},
        {"id": 3, "customer": "ada", "status": "shipped", "items": []},
    ],
}

NOTES = {
    "name": "notes",
    "primary_key": ["slug"],
    "columns": [{"name": "slug"}, {"name": "text"}],
    "rows": [{"slug": "hello", "text": "first"}],
}


def ex(
    method: str,
    path: str,
    *,
    status: int = 200,
    body: Any = None,
    text: str | None = None,
    response_headers: dict[str, str] | None = None,
    **request: Any,
) -> dict[str, Any]:
    """A recorded exchange; ``request`` holds matcher fields (query, json_body, strictness...)."""
    response: dict[str, Any] = {"status": status, "json_body": body, "text": text}
    if response_headers:
        response["headers"] = response_headers
    return {"request": {"method": method, "path": path, **request}, "response": response}


def shop_snapshot() -> dict[str, Any]:
    """A shop API (exchanges, resources, tools) and a mail API with its own error shape."""
    product_404 = {"error": {"type": "invalid_request_error", "message": "No such product: x9"}}
    return {
        "name": "shop",
        "clock": "2024-05-15T15:00:00+00:00",
        "databases": [{"name": "shop", "path": "/var/lib/shop.db", "tables": [ORDERS, NOTES]}],
        "services": [
            {
                "name": "shop",
                "hostnames": ["api.shop.test"],
                "database": "shop",
                "exchanges": [
                    ex("GET", "/v1/ping", body={"pong": True}),
                    ex("GET", "/v1/products", query={"category": "tea"}, body={"data": ["p1"]}),
                    ex(
                        "GET",
                        "/v1/search",
                        query={"q": "tea"},
                        strictness="subset",
                        body={"hits": 1},
                    ),
                    ex("GET", "/v1/products/{id}", body={"id": "any", "templated": True}),
                    ex("GET", "/v1/products/p1", body={"id": "p1", "name": "Green tea"}),
                    ex("GET", "/v1/products/x9", status=404, body=product_404),
                    ex("POST", "/v1/carts", json_body={"sku": "p1", "qty": 1}, body={"cart": "c1"}),
                    ex(
                        "POST",
                        "/v1/quotes",
                        json_body={"sku": "p1"},
                        strictness="subset",
                        body={"quote": 12.5},
                    ),
                    ex(
                        "POST",
                        "/v1/events",
                        strictness="ignore_body",
                        status=202,
                        text="accepted",
                        response_headers={"X-Req": "7", "Content-Length": "99"},
                    ),
                    ex("GET", "/v1/balance", body={"amount": 100}),
                    ex("GET", "/v1/balance", body={"amount": 80}),
                    ex(
                        "GET",
                        "/v1/me",
                        headers={"Authorization": "Bearer t0k"},
                        body={"user": "ada"},
                    ),
                ],
                "resources": [
                    {
                        "path": "/v1/orders",
                        "table": "orders",
                        "filters": ["status", "customer"],
                        "envelope": "data",
                    },
                    {
                        "path": "/v1/notes",
                        "table": "notes",
                        "id_field": "slug",
                        "methods": ["list", "get", "create"],
                    },
                ],
                "function_tools": [
                    {
                        "name": "get_order",
                        "effect": "read",
                        "handler": {
                            "kind": "lookup",
                            "table": "orders",
                            "key": {"order_id": "id"},
                            "not_found": "Error: order {order_id} not found",
                        },
                    },
                    {
                        "name": "order_status",
                        "effect": "read",
                        "handler": {
                            "kind": "lookup",
                            "table": "orders",
                            "key": {"order_id": "id"},
                            "field": "status",
                        },
                    },
                    {
                        "name": "orders_by_status",
                        "effect": "read",
                        "handler": {
                            "kind": "query",
                            "sql": "SELECT id, items FROM orders WHERE status = :status "
                            "ORDER BY id",
                        },
                    },
                    {
                        "name": "ship_order",
                        "effect": "write",
                        "handler": {
                            "kind": "update",
                            "table": "orders",
                            "key": {"order_id": "id"},
                            "set": {"status": "shipped", "customer": "$to"},
                        },
                    },
                    {
                        "name": "place_order",
                        "effect": "write",
                        "handler": {
                            "kind": "python",
                            "module": "shop_tools.py",
                            "function": "place_order",
                        },
                    },
                    {
                        "name": "stamp",
                        "handler": {
                            "kind": "python",
                            "module": "shop_tools.py",
                            "function": "stamp",
                        },
                    },
                    {
                        "name": "broken",
                        "handler": {
                            "kind": "python",
                            "module": "shop_tools.py",
                            "function": "broken",
                        },
                    },
                    {
                        "name": "weather",
                        "effect": "read",
                        "handler": {
                            "kind": "recorded",
                            "pairs": [
                                {"arguments": {"city": "Paris"}, "output": "Sunny, 21C"},
                                {
                                    "arguments": {"city": "Atlantis"},
                                    "output": "Error: unknown city",
                                    "is_error": True,
                                },
                            ],
                        },
                    },
                ],
            },
            {
                "name": "mail",
                "hostnames": ["mail.example.test"],
                "error_body": {"status": "{status}", "reason": "{message}", "ok": False},
                "exchanges": [ex("GET", "/inbox", body={"messages": []})],
            },
        ],
    }


@pytest.fixture
def shop_dir(tmp_path: Path) -> Path:
    """A fresh copy of the shop snapshot folder, for tests that create their own app."""
    return write_snapshot(tmp_path / "shop", shop_snapshot(), {"shop_tools.py": SHOP_MODULE})


class ShopServer(NamedTuple):
    """The shop app served over HTTP, with where its state lives."""

    url: str
    state_dir: Path


@pytest.fixture(scope="module")
def shop_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopServer]:
    """One shop app per test module, served by uvicorn on a free loopback port."""
    root = tmp_path_factory.mktemp("shop")
    snap = write_snapshot(root / "snapshot", shop_snapshot(), {"shop_tools.py": SHOP_MODULE})
    app = create_app(snap, root / "state")
    with serve(app) as url:
        yield ShopServer(url, root / "state")


@pytest.fixture
def shop(shop_server: ShopServer) -> Iterator[httpx.Client]:
    """A client to the shop app, reset to the snapshot (databases, log) before the test."""
    with client(shop_server.url) as c:
        c.post("/__deploysim/reset").raise_for_status()
        yield c


@pytest.fixture(scope="session")
def airline(airline_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """An httpx client to the airline app over real HTTP."""
    app = create_app(airline_dir, tmp_path_factory.mktemp("airline-state"))
    with serve(app) as url, client(url) as c:
        yield c
