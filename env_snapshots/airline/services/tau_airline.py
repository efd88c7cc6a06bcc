"""tau-bench airline tools, served from the snapshot's SQLite tables.

Written from tau-bench's airline domain (``tau_bench/envs/airline/tools``) and checked against
the recorded results of its traces: every read and write recorded in traces.json is
reproduced when the calls are replayed in order from the initial state. The original's quirks
are kept on purpose, because the recorded results show them:

- ``update_reservation_flights`` prices the new flights in the new cabin but leaves the
  reservation's ``cabin`` unchanged, and ``book_reservation`` does not decrement seats;
- ``search_onestop_flight`` fills the second leg's status, seats and prices from the first
  leg's date even when the second leg departs the next day;
- reservation ids are ``HATHAT``, then ``HATHAU``, ``HATHAV``; certificates are
  ``certificate_3221322`` and the next two numbers;
- tau-bench turned any exception raised by a tool into the result ``"Error: <exception>"``;
  :func:`_tau` does the same here.

Errors are reported as :class:`~deploysim.services.ToolError` with tau-bench's exact text, so
the call's writes roll back and the result is flagged ``is_error``.

Runs only inside the services app (the sandbox sidecar), which passes a
:class:`~deploysim.services.Db` first.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from deploysim.services import Db, ToolError

F = TypeVar("F", bound=Callable[..., Any])

# tau-bench's hard-coded booking time, used when the snapshot has no frozen clock.
_DEFAULT_NOW = "2024-05-15T15:00:00"

_AIRPORTS = {
    "SFO": "San Francisco",
    "JFK": "New York",
    "LAX": "Los Angeles",
    "ORD": "Chicago",
    "DFW": "Dallas",
    "DEN": "Denver",
    "SEA": "Seattle",
    "ATL": "Atlanta",
    "MIA": "Miami",
    "BOS": "Boston",
    "PHX": "Phoenix",
    "IAH": "Houston",
    "LAS": "Las Vegas",
    "MCO": "Orlando",
    "EWR": "Newark",
    "CLT": "Charlotte",
    "MSP": "Minneapolis",
    "DTW": "Detroit",
    "PHL": "Philadelphia",
    "LGA": "LaGuardia",
}


def _tau(fn: F) -> F:
    """Report any exception as tau-bench's environment did: the text ``Error: <exception>``."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ToolError:
            raise
        except Exception as e:  # the original environment caught everything
            raise ToolError(f"Error: {e}") from e

    return wrapper  # type: ignore[return-value]


def _now(db: Db) -> str:
    return db.clock.strftime("%Y-%m-%dT%H:%M:%S") if db.clock else _DEFAULT_NOW


def _user(db: Db, user_id: str) -> dict[str, Any]:
    # A dict lookup in the original: a missing key raises KeyError, reported as "Error: 'id'".
    user: dict[str, Any] | None = db.get("users", user_id)
    if user is None:
        raise KeyError(user_id)
    return user


def _reservation_doc(row: dict[str, Any]) -> dict[str, Any]:
    """A reservation as tau-bench held it: 'status' exists only once cancelled."""
    return {k: v for k, v in row.items() if not (k == "status" and v is None)}


def _flight_result(flight: dict[str, Any], day: dict[str, Any]) -> dict[str, Any]:
    result = {k: v for k, v in flight.items() if k != "dates"}
    result.update(day)
    return result


# --------------------------------------------------------------------------- reads


@_tau
def list_all_airports(db: Db) -> dict[str, str]:
    """All airports and their cities."""
    return dict(_AIRPORTS)


@_tau
def search_direct_flight(db: Db, origin: str, destination: str, date: str) -> list[Any]:
    """Direct flights on ``date`` whose status is 'available'."""
    results = []
    for flight in db.select("flights", {"origin": origin, "destination": destination}):
        day = flight["dates"].get(date)
        if day is not None and day["status"] == "available":
            results.append(_flight_result(flight, day))
    return results


@_tau
def search_onestop_flight(db: Db, origin: str, destination: str, date: str) -> list[Any]:
    """Pairs of connecting flights, both available, the second departing after the first lands."""
    firsts = db.select("flights", {"origin": origin})
    seconds = db.select("flights", {"destination": destination})
    results = []
    for flight1 in firsts:
        for flight2 in seconds:
            if flight1["destination"] != flight2["origin"]:
                continue
            arrival = flight1["scheduled_arrival_time_est"]
            date2 = f"2024-05-{int(date[-2:]) + 1}" if "+1" in arrival else date
            if arrival > flight2["scheduled_departure_time_est"]:
                continue
            if date in flight1["dates"] and date2 in flight2["dates"]:
                day1, day2 = flight1["dates"][date], flight2["dates"][date2]
                if day1["status"] == "available" and day2["status"] == "available":
                    result1 = _flight_result(flight1, day1)
                    result1["date"] = date
                    # The original reads the second leg's day with the first leg's date.
                    result2 = _flight_result(flight2, flight2["dates"][date])
                    result2["date"] = date2
                    results.append([result1, result2])
    return results


@_tau
def calculate(db: Db, expression: str) -> str:
    """Evaluate an arithmetic expression; the result as text, rounded to 2 decimals."""
    if not all(char in "0123456789+-*/(). " for char in expression):
        raise ToolError("Error: invalid characters in expression")
    # Only digits, operators, dots, parentheses and spaces reach eval: no names, no calls.
    return str(round(float(eval(expression, {"__builtins__": None}, {})), 2))


@_tau
def think(db: Db, thought: str) -> str:
    """Nothing happens; the thought is only logged."""
    return ""


@_tau
def transfer_to_human_agents(db: Db, summary: str) -> str:
    """Hand the conversation to a human."""
    return "Transfer successful"


# --------------------------------------------------------------------------- writes


def _price_flights(db: Db, flights: list[dict[str, Any]], cabin: str, passengers: int) -> int:
    """Fill price/origin/destination of new flights (in place); return their total price."""
    total = 0
    for flight in flights:
        number = flight["flight_number"]
        data = db.get("flights", number)
        if data is None:
            raise ToolError(f"Error: flight {number} not found")
        if flight["date"] not in data["dates"]:
            raise ToolError(f"Error: flight {number} not found on date {flight['date']}")
        day = data["dates"][flight["date"]]
        if day["status"] != "available":
            raise ToolError(f"Error: flight {number} not available on date {flight['date']}")
        if day["available_seats"][cabin] < passengers:
            raise ToolError(f"Error: not enough seats on flight {number}")
        flight["price"] = day["prices"][cabin]
        flight["origin"] = data["origin"]
        flight["destination"] = data["destination"]
        total += flight["price"] * passengers
    return total


@_tau
def book_reservation(
    db: Db,
    user_id: str,
    origin: str,
    destination: str,
    flight_type: str,
    cabin: str,
    flights: list[dict[str, Any]],
    passengers: list[dict[str, Any]],
    payment_methods: list[dict[str, Any]],
    total_baggages: int,
    nonfree_baggages: int,
    insurance: str,
) -> dict[str, Any]:
    """Book a reservation, checking seats, prices and payment balances."""
    user = db.get("users", user_id)
    if user is None:
        raise ToolError("Error: user not found")
    reservation_id = "HATHAT"
    if db.get("reservations", reservation_id) is not None:
        reservation_id = "HATHAU"
        if db.get("reservations", reservation_id) is not None:
            reservation_id = "HATHAV"
    new_flights: list[dict[str, Any]] = copy.deepcopy(flights)
    reservation: dict[str, Any] = {
        "reservation_id": reservation_id,
        "user_id": user_id,
        "origin": origin,
        "destination": destination,
        "flight_type": flight_type,
        "cabin": cabin,
        "flights": new_flights,
        "passengers": passengers,
        "payment_history": payment_methods,
        "created_at": _now(db),
        "total_baggages": total_baggages,
        "nonfree_baggages": nonfree_baggages,
        "insurance": insurance,
    }
    total_price = _price_flights(db, new_flights, cabin, len(passengers))
    if insurance == "yes":
        total_price += 30 * len(passengers)
    total_price += 50 * nonfree_baggages

    methods = user["payment_methods"]
    for payment in payment_methods:
        payment_id, amount = payment["payment_id"], payment["amount"]
        if payment_id not in methods:
            raise ToolError(f"Error: payment method {payment_id} not found")
        stored = methods[payment_id]
        if stored["source"] in ("gift_card", "certificate") and stored["amount"] < amount:
            raise ToolError(f"Error: not enough balance in payment method {payment_id}")
    paid = sum(payment["amount"] for payment in payment_methods)
    if paid != total_price:
        raise ToolError(
            f"Error: payment amount does not add up, total price is {total_price}, but paid {paid}"
        )
    for payment in payment_methods:
        payment_id, amount = payment["payment_id"], payment["amount"]
        if methods[payment_id]["source"] == "gift_card":
            methods[payment_id]["amount"] -= amount
        elif methods[payment_id]["source"] == "certificate":
            del methods[payment_id]

    db.insert("reservations", reservation)
    db.update(
        "users",
        user_id,
        {"payment_methods": methods, "reservations": [*user["reservations"], reservation_id]},
    )
    return reservation


@_tau
def cancel_reservation(db: Db, reservation_id: str) -> dict[str, Any]:
    """Cancel a reservation: refund every payment (as negative entries), mark it cancelled."""
    row = db.get("reservations", reservation_id)
    if row is None:
        raise ToolError("Error: reservation not found")
    reservation = _reservation_doc(row)
    refunds = [
        {"payment_id": p["payment_id"], "amount": -p["amount"]}
        for p in reservation["payment_history"]
    ]
    reservation["payment_history"].extend(refunds)
    reservation["status"] = "cancelled"
    db.update(
        "reservations",
        reservation_id,
        {"payment_history": reservation["payment_history"], "status": "cancelled"},
    )
    return reservation


def _payment_method(db: Db, user_id: str, payment_id: str) -> dict[str, Any]:
    methods = _user(db, user_id)["payment_methods"]
    if payment_id not in methods:
        raise ToolError("Error: payment method not found")
    method: dict[str, Any] = methods[payment_id]
    if method["source"] == "certificate":
        raise ToolError("Error: certificate cannot be used to update reservation")
    return method


def _charge(db: Db, user_id: str, payment_id: str, method: dict[str, Any], amount: Any) -> None:
    if method["source"] == "gift_card" and method["amount"] < amount:
        raise ToolError("Error: gift card balance is not enough")
    if method["source"] == "gift_card":
        methods = _user(db, user_id)["payment_methods"]
        methods[payment_id]["amount"] -= amount
        db.update("users", user_id, {"payment_methods": methods})


@_tau
def update_reservation_baggages(
    db: Db, reservation_id: str, total_baggages: int, nonfree_baggages: int, payment_id: str
) -> dict[str, Any]:
    """Change the bag counts; extra non-free bags cost 50 each."""
    row = db.get("reservations", reservation_id)
    if row is None:
        raise ToolError("Error: reservation not found")
    reservation = _reservation_doc(row)
    total_price = 50 * max(0, nonfree_baggages - reservation["nonfree_baggages"])
    method = _payment_method(db, reservation["user_id"], payment_id)
    _charge(db, reservation["user_id"], payment_id, method, total_price)
    reservation["total_baggages"] = total_baggages
    reservation["nonfree_baggages"] = nonfree_baggages
    if total_price != 0:
        reservation["payment_history"].append({"payment_id": payment_id, "amount": total_price})
    db.update(
        "reservations",
        reservation_id,
        {
            "total_baggages": total_baggages,
            "nonfree_baggages": nonfree_baggages,
            "payment_history": reservation["payment_history"],
        },
    )
    return reservation


@_tau
def update_reservation_flights(
    db: Db, reservation_id: str, cabin: str, flights: list[dict[str, Any]], payment_id: str
) -> dict[str, Any]:
    """Replace the flights; kept segments keep their price, new ones cost today's price."""
    row = db.get("reservations", reservation_id)
    if row is None:
        raise ToolError("Error: reservation not found")
    reservation = _reservation_doc(row)
    passengers = len(reservation["passengers"])
    flights = copy.deepcopy(flights)
    total_price = 0
    for flight in flights:
        kept = [
            f
            for f in reservation["flights"]
            if f["flight_number"] == flight["flight_number"]
            and f["date"] == flight["date"]
            and cabin == reservation["cabin"]
        ]
        if kept:
            total_price += kept[0]["price"] * passengers
            flight["price"] = kept[0]["price"]
            flight["origin"] = kept[0]["origin"]
            flight["destination"] = kept[0]["destination"]
            continue
        total_price += _price_flights(db, [flight], cabin, passengers)
    total_price -= sum(f["price"] for f in reservation["flights"]) * passengers

    method = _payment_method(db, reservation["user_id"], payment_id)
    _charge(db, reservation["user_id"], payment_id, method, total_price)
    reservation["flights"] = flights
    if total_price != 0:
        reservation["payment_history"].append({"payment_id": payment_id, "amount": total_price})
    db.update(
        "reservations",
        reservation_id,
        {"flights": flights, "payment_history": reservation["payment_history"]},
    )
    return reservation


@_tau
def update_reservation_passengers(
    db: Db, reservation_id: str, passengers: list[dict[str, Any]]
) -> dict[str, Any]:
    """Replace the passengers (their number cannot change)."""
    row = db.get("reservations", reservation_id)
    if row is None:
        raise ToolError("Error: reservation not found")
    reservation = _reservation_doc(row)
    if len(passengers) != len(reservation["passengers"]):
        raise ToolError("Error: number of passengers does not match")
    reservation["passengers"] = passengers
    db.update("reservations", reservation_id, {"passengers": passengers})
    return reservation


@_tau
def send_certificate(db: Db, user_id: str, amount: float) -> str | None:
    """Add a travel certificate to a user's payment methods."""
    user = db.get("users", user_id)
    if user is None:
        raise ToolError("Error: user not found")
    methods = user["payment_methods"]
    for number in (3221322, 3221323, 3221324):
        payment_id = f"certificate_{number}"
        if payment_id not in methods:
            methods[payment_id] = {"source": "certificate", "amount": amount, "id": payment_id}
            db.update("users", user_id, {"payment_methods": methods})
            return f"Certificate {payment_id} added to user {user_id} with amount {amount}."
    # The original falls through and returns None when three certificates were sent already.
    return None
