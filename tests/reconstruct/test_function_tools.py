"""Function tools on small hand-made traces: entities, conflicts, learned writes, open world."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from deploysim.reconstruct import fidelity, reconstruct
from deploysim.services import create_app
from deploysim.snapshots import load_snapshot
from deploysim.tools import CallContext, InProcessServices, Router, ToolRequest
from tests.reconstruct.builders import spec, trace

GET = spec("get_order", effect="read", order_id="string")
CANCEL = spec("cancel_order", effect="write", order_id="string")
SHIP = spec("ship_order", effect="write", order_id="string", carrier="string")
TOOLS = [GET, CANCEL, SHIP]


def order(oid: str, status: str = "pending", **extra: Any) -> dict[str, Any]:
    return {"order_id": oid, "customer": "ada", "total": 10.5, "status": status, **extra}


def shop_traces() -> list[Any]:
    t1 = trace(
        "t1",
        [
            ("get_order", {"order_id": "o1"}, order("o1")),
            ("cancel_order", {"order_id": "o1"}, order("o1", "cancelled")),
            ("get_order", {"order_id": "o1"}, order("o1", "cancelled")),
        ],
        TOOLS,
    )
    t2 = trace(
        "t2",
        [
            ("get_order", {"order_id": "o2"}, order("o2")),
            ("cancel_order", {"order_id": "o2"}, order("o2", "cancelled")),
            ("get_order", {"order_id": "o3"}, order("o3", "shipped")),
            ("cancel_order", {"order_id": "o3"}, "Error: order o3 cannot be cancelled"),
            ("get_order", {"order_id": "zz"}, "Error: order zz not found"),
        ],
        TOOLS,
    )
    return [t1, t2]


def call(folder: Path, tmp: Path, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Run calls in order against the snapshot's services, in this process."""

    async def run() -> list[Any]:
        services = InProcessServices(load_snapshot(folder), tmp / "state")
        try:
            router = Router(TOOLS, CallContext(services=services), load_snapshot(folder))
            out = []
            for name, args in calls:
                o = await router.call(ToolRequest(name=name, arguments=args))
                out.append((o.provenance, o.output))
            return out
        finally:
            await services.aclose()

    return asyncio.run(run())


def test_entities_become_rows_with_provenance(tmp_path: Path) -> None:
    """Objects returned by reads become rows keyed by their id field, each with provenance."""
    result = reconstruct(shop_traces(), tmp_path / "shop")
    sd = load_snapshot(tmp_path / "shop")
    (db,) = sd.snapshot.databases
    (table,) = db.tables
    assert table.name == "orders" and table.primary_key == ["order_id"]
    rows = {r["order_id"]: r for r in sd.table_rows(db, table)}
    # o1 and o2 as first seen (before their cancellation), o3 shipped; nothing about zz
    assert {k: r["status"] for k, r in rows.items()} == {
        "o1": "pending",
        "o2": "pending",
        "o3": "shipped",
    }
    details = [p.detail or "" for p in table.provenance]
    assert any(d.startswith("orders[o1]") for d in details)
    assert all(p.trace_id and p.call_id and p.message_index is not None for p in table.provenance)
    assert result.rows == 3


def test_a_write_learned_from_examples_answers_a_call_never_recorded(tmp_path: Path) -> None:
    """cancel_order learned as status='cancelled' from pending orders: cancelling o4 (pending,
    never cancelled in the traces) is answered by the rule, and a later read reflects it."""
    traces = shop_traces()
    extra = trace("t3", [("get_order", {"order_id": "o4"}, order("o4"))], TOOLS)
    reconstruct([*traces, extra], tmp_path / "shop")
    out = call(
        tmp_path / "shop",
        tmp_path,
        [
            ("cancel_order", {"order_id": "o4"}),
            ("get_order", {"order_id": "o4"}),
            ("cancel_order", {"order_id": "o3"}),
        ],
    )
    assert out[0] == ("live", json.dumps(order("o4", "cancelled")))
    assert out[1] == ("live", json.dumps(order("o4", "cancelled")))
    # a shipped order: the recorded refusal for that state is replayed
    assert out[2] == ("live", "Error: order o3 cannot be cancelled")


def test_writes_without_a_learnable_rule_replay_only_their_recorded_state(tmp_path: Path) -> None:
    """A write whose effect is not explained by its arguments is not generalized: a recorded
    call replays in its recorded state; any other call gets no answer, never a guess."""
    t = trace(
        "t",
        [
            ("get_order", {"order_id": "o1"}, order("o1")),
            (
                "ship_order",
                {"order_id": "o1", "carrier": "ups"},
                order("o1", "shipped", total=12.0),
            ),
            ("get_order", {"order_id": "o2"}, order("o2")),
        ],
        TOOLS,
    )
    result = reconstruct([t], tmp_path / "shop")
    ship = next(r for r in result.tools if r.tool == "ship_order")
    assert "total" in ship.notes[0]
    out = call(
        tmp_path / "shop",
        tmp_path,
        [
            ("ship_order", {"order_id": "o1", "carrier": "ups"}),
            ("ship_order", {"order_id": "o2", "carrier": "ups"}),
        ],
    )
    assert out[0] == ("live", json.dumps(order("o1", "shipped", total=12.0)))
    assert out[1][0] == "unavailable"


def test_conflicting_observations_are_reported_with_both_provenances(tmp_path: Path) -> None:
    """Two traces showing different initial values for one field: the first is kept, and the
    conflict names both observations; nothing is merged silently."""
    a = trace("a", [("get_order", {"order_id": "o1"}, order("o1", total=10.5))], TOOLS)
    b = trace("b", [("get_order", {"order_id": "o1"}, order("o1", total=99.0))], TOOLS)
    result = reconstruct([a, b], tmp_path / "shop")
    (conflict,) = result.conflicts
    assert conflict.subject == "orders[o1].total"
    assert (conflict.kept, conflict.other) == ("10.5", "99.0")
    assert conflict.kept_provenance.trace_id == "a"
    assert conflict.other_provenance.trace_id == "b"
    assert result.summary()["conflicts"] == 1


def test_unknown_keys_are_unanswered_unless_the_world_is_closed(tmp_path: Path) -> None:
    """By default a key nothing showed gets no answer (the router falls back); a recorded
    'not found' key keeps its answer; --closed-world answers the tool's own 'not found'."""
    reconstruct(shop_traces(), tmp_path / "open")
    reconstruct(shop_traces(), tmp_path / "closed", closed_world=True)
    ask = [("get_order", {"order_id": "o9"}), ("get_order", {"order_id": "zz"})]
    opened = call(tmp_path / "open", tmp_path / "1", ask)
    closed = call(tmp_path / "closed", tmp_path / "2", ask)
    assert opened[0][0] == "unavailable"
    assert opened[1] == ("live", "Error: order zz not found")
    assert closed[0] == ("live", "Error: order o9 not found")


def test_effect_is_learned_from_the_traces_when_nothing_declares_it(tmp_path: Path) -> None:
    """A tool with no declared effect whose result shows a changed entity is learned as a write."""
    get = spec("fetch_ticket", ticket_id="string")
    close = spec("ticket_close", ticket_id="string")
    t = trace(
        "t",
        [
            ("fetch_ticket", {"ticket_id": "k1"}, {"ticket_id": "k1", "state": "open"}),
            ("ticket_close", {"ticket_id": "k1"}, {"ticket_id": "k1", "state": "closed"}),
        ],
        [get, close],
    )
    result = reconstruct([t], tmp_path / "t")
    effects = {r.tool: r.effect for r in result.tools}
    assert effects == {"fetch_ticket": "read", "ticket_close": "write"}
    report = fidelity(tmp_path / "t", [t], in_process=True)
    assert report.rate == 1.0


def test_recorded_pairs_are_the_fallback_and_generated_code_is_only_data(tmp_path: Path) -> None:
    """A tool nothing can compute keeps its recorded pairs (declarative); the generated module
    holds learned facts and thin functions, and the services app loads it."""
    search = spec("search_flights", effect="read", origin="string")
    t = trace(
        "t",
        [
            ("search_flights", {"origin": "JFK"}, [{"flight": "HA1"}]),
            ("get_order", {"order_id": "o1"}, order("o1")),
        ],
        [search, GET],
    )
    reconstruct([t], tmp_path / "s")
    sd = load_snapshot(tmp_path / "s")
    (service,) = sd.snapshot.services
    kinds = {ft.name: ft.handler.kind for ft in service.function_tools}
    assert kinds == {"search_flights": "recorded", "get_order": "python"}
    module = (tmp_path / "s" / "services" / "s_tools.py").read_text()
    assert "FACTS: dict[str, Any] = " in module and "def get_order(" in module
    app = create_app(sd, tmp_path / "state")
    assert set(app.state.services.tools.tools) == {"search_flights", "get_order"}
