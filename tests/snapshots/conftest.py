from __future__ import annotations

from pathlib import Path

import pytest

from deploysim.snapshots import (
    Column,
    Database,
    Exchange,
    FileEntry,
    FunctionTool,
    LookupHandler,
    PythonHandler,
    RequestMatcher,
    Resource,
    ResponseSpec,
    Service,
    Snapshot,
    Table,
    ToolBinding,
    save_snapshot,
)

REPO = Path(__file__).resolve().parents[2]
ENV_SNAPSHOTS = REPO / "env_snapshots"


def mini_snapshot() -> Snapshot:
    customers = Table(
        name="customers",
        columns=[Column(name="id", nullable=False), Column(name="email"), Column(name="tier")],
        primary_key=["id"],
        rows_file="shop/customers.jsonl",
    )
    orders = Table(
        name="orders",
        columns=[
            Column(name="id", type="INTEGER", nullable=False),
            Column(name="customer_id", references="customers.id"),
            Column(name="status", values=["paid", "shipped"]),
            Column(name="total", type="REAL"),
        ],
        primary_key=["id"],
        rows=[
            {"id": 1, "customer_id": "cus_a", "status": "paid", "total": 12.5},
            {"id": 2, "customer_id": "cus_b", "status": "shipped", "total": 40.0},
        ],
    )
    return Snapshot(
        name="mini",
        clock="2026-01-15T12:00:00Z",  # type: ignore[arg-type]
        files=[
            FileEntry(path="/home/agent/notes.txt", content="hello\n"),
            FileEntry(path="/home/agent/logo.bin", source="logo.bin", mode="0600"),
        ],
        databases=[Database(name="shop", path="/srv/shop.db", tables=[customers, orders])],
        services=[
            Service(
                name="api",
                hostnames=["api.tallyfin.com"],
                database="shop",
                exchanges=[
                    Exchange(
                        request=RequestMatcher(path="/v1/ping"),
                        response=ResponseSpec(json_body={"ok": True}),
                    )
                ],
                resources=[Resource(path="/v1/orders", table="orders", filters=["status"])],
                function_tools=[
                    FunctionTool(
                        name="get_customer",
                        handler=LookupHandler(table="customers", key={"customer_id": "id"}),
                    ),
                    FunctionTool(
                        name="refund", handler=PythonHandler(module="refund.py", function="refund")
                    ),
                ],
            )
        ],
        tool_bindings=[ToolBinding(tool="get_customer", service="api")],
    )


def write_mini(root: Path, snap: Snapshot | None = None) -> Path:
    """A valid snapshot folder with inline and file content, two related tables, a service."""
    save_snapshot(snap or mini_snapshot(), root)
    (root / "files").mkdir(exist_ok=True)
    (root / "files" / "logo.bin").write_bytes(bytes(range(256)))
    (root / "databases" / "shop").mkdir(parents=True, exist_ok=True)
    (root / "databases" / "shop" / "customers.jsonl").write_text(
        '{"id": "cus_a", "email": "ana.rios@gmail.com", "tier": "gold"}\n'
        '{"id": "cus_b", "email": "li.wei@yahoo.com", "tier": null}\n'
    )
    (root / "services").mkdir(exist_ok=True)
    (root / "services" / "refund.py").write_text("def refund(db, order_id):\n    return {}\n")
    return root


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    return write_mini(tmp_path / "mini")
