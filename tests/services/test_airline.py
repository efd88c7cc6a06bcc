"""The airline snapshot: tau-bench's tools served from its initial state, checked against
the results recorded in traces.json."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.services.tau_replay import WRITE_TOOLS, Replayed, recorded_calls, replay

TOOLS = {
    "book_reservation",
    "calculate",
    "cancel_reservation",
    "get_reservation_details",
    "get_user_details",
    "list_all_airports",
    "search_direct_flight",
    "search_onestop_flight",
    "send_certificate",
    "think",
    "transfer_to_human_agents",
    "update_reservation_baggages",
    "update_reservation_flights",
    "update_reservation_passengers",
}


@pytest.fixture(scope="module")
def replayed(airline: httpx.Client, shared_traces: Path) -> list[Replayed]:
    """Every recorded call of traces.json, replayed trace by trace from a fresh state."""
    traces = recorded_calls(shared_traces / "tau-bench-airline" / "traces.json")
    return replay(airline, traces)


def _mismatches(results: list[Replayed]) -> list[str]:
    return [
        f"trace {r.call.trace} {r.call.name}({r.call.arguments}): "
        f"got {str(r.live)[:200]!r}, recorded {r.call.output[:200]!r}"
        for r in results
        if not r.same_json
    ]


def test_every_recorded_tool_is_served(replayed: list[Replayed]) -> None:
    """All 14 tau-bench tools appear in the traces and are answered by the app."""
    assert {r.call.name for r in replayed} == TOOLS


def test_read_tools_reproduce_recorded_results(replayed: list[Replayed]) -> None:
    """Every read (non-write) call gives the recorded result: same parsed JSON, or same text."""
    reads = [r for r in replayed if r.call.name not in WRITE_TOOLS]
    assert len(reads) == 224
    assert _mismatches(reads) == []


def test_write_tools_reproduce_recorded_results(replayed: list[Replayed]) -> None:
    """Every write call, replayed in order from the initial state, gives the recorded result."""
    writes = [r for r in replayed if r.call.name in WRITE_TOOLS]
    assert len(writes) == 58
    assert _mismatches(writes) == []


def test_results_are_reproduced_to_the_character(replayed: list[Replayed]) -> None:
    """The result text (str as is, else json.dumps) equals the recorded text exactly."""
    differ = [r.call.name for r in replayed if not r.same_text]
    assert differ == []


def test_not_found_errors_use_tau_bench_text(airline: httpx.Client) -> None:
    """Unknown users and reservations answer tau-bench's error strings as tool errors."""
    airline.post("/__deploysim/reset").raise_for_status()
    user = airline.post("/tools/get_user_details", json={"user_id": "nobody_1"}).json()
    assert user == {"output": "Error: user not found", "is_error": True}
    res = airline.post("/tools/cancel_reservation", json={"reservation_id": "ZZZZZZ"}).json()
    assert res == {"output": "Error: reservation not found", "is_error": True}
    calc = airline.post("/tools/calculate", json={"expression": "1 / 0"}).json()
    assert calc == {"output": "Error: division by zero", "is_error": True}


def test_writes_change_the_tables_and_reset_restores_them(airline: httpx.Client) -> None:
    """A booking adds the reservation, charges the gift card and links the user; reset undoes it."""
    airline.post("/__deploysim/reset").raise_for_status()
    before = airline.post("/tools/get_user_details", json={"user_id": "mia_kim_4397"}).json()
    booking = {
        "user_id": "mia_kim_4397",
        "origin": "JFK",
        "destination": "SEA",
        "flight_type": "round_trip",
        "cabin": "basic_economy",
        "flights": [
            {"flight_number": "HAT069", "date": "2024-05-20"},
            {"flight_number": "HAT276", "date": "2024-05-25"},
        ],
        "passengers": [{"first_name": "Mia", "last_name": "Kim", "dob": "1965-06-09"}],
        "payment_methods": [
            {"payment_id": "gift_card_7359776", "amount": 39},
            {"payment_id": "gift_card_7773485", "amount": 67},
        ],
        "total_baggages": 2,
        "nonfree_baggages": 0,
        "insurance": "no",
    }
    booked = airline.post("/tools/book_reservation", json=booking).json()["output"]
    assert booked["reservation_id"] == "HATHAT"
    assert booked["created_at"] == "2024-05-15T15:00:00"
    state = airline.get("/__deploysim/state").json()["databases"]["airline"]
    user = next(u for u in state["users"] if u["user_id"] == "mia_kim_4397")
    card = "gift_card_7359776"
    spent = before["output"]["payment_methods"][card]["amount"] - 39
    assert user["payment_methods"][card]["amount"] == spent
    assert user["reservations"][-1] == "HATHAT"
    assert any(r["reservation_id"] == "HATHAT" for r in state["reservations"])
    cancelled = airline.post("/tools/cancel_reservation", json={"reservation_id": "HATHAT"})
    assert cancelled.json()["output"]["status"] == "cancelled"
    airline.post("/__deploysim/reset").raise_for_status()
    gone = airline.post("/tools/get_reservation_details", json={"reservation_id": "HATHAT"})
    assert gone.json()["is_error"] is True


def test_failed_write_leaves_no_trace(airline: httpx.Client) -> None:
    """A write that reports an error changes nothing (the transaction rolls back)."""
    airline.post("/__deploysim/reset").raise_for_status()
    before = airline.get("/__deploysim/state").json()["databases"]
    r = airline.post(
        "/tools/update_reservation_baggages",
        json={
            "reservation_id": "4WQ150",
            "total_baggages": 9,
            "nonfree_baggages": 9,
            "payment_id": "no_such_card",
        },
    ).json()
    assert r == {"output": "Error: payment method not found", "is_error": True}
    assert airline.get("/__deploysim/state").json()["databases"] == before
