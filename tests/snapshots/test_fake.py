"""Faker rows: deterministic per seed, realistic by column name, foreign keys consistent."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from deploysim.snapshots import Column, Table, fake_rows

NOW = datetime(2026, 11, 20, 15, 42, tzinfo=UTC)
CUSTOMERS = Table(
    name="customers",
    columns=[
        Column(name="id", nullable=False),
        Column(name="first_name"),
        Column(name="last_name"),
        Column(name="email"),
        Column(name="phone"),
        Column(name="city"),
        Column(name="postal_code"),
        Column(name="status", values=["active", "inactive"]),
        Column(name="created_at"),
    ],
    primary_key=["id"],
)
ORDERS = Table(
    name="orders",
    columns=[
        Column(name="id", type="INTEGER", nullable=False),
        Column(name="customer_id", references="customers.id"),
        Column(name="customer_email"),
        Column(name="subtotal", type="REAL"),
        Column(name="tax", type="REAL"),
        Column(name="total", type="REAL"),
        Column(name="amount_cents", type="INTEGER"),
        Column(name="status", values=["delivered", "paid", "canceled"]),
        Column(name="created_at"),
        Column(name="delivered_at"),
    ],
    primary_key=["id"],
)


def _customers(seed: int = 7, locale: str = "en_US", n: int = 30) -> list[dict[str, object]]:
    return fake_rows(CUSTOMERS, n, seed=seed, locale=locale, now=NOW).rows


def test_same_seed_same_rows_other_seed_other_rows() -> None:
    """The seed fully determines the rows; another seed gives other rows."""
    assert _customers(7) == _customers(7)
    assert _customers(7) != _customers(8)


def test_no_placeholders_or_example_domains() -> None:
    """No 'John Doe', no example.* domains, no sequential text ids; emails follow names."""
    rows = _customers(n=200)
    text = repr(rows).lower()
    assert "example." not in text and "john doe" not in text and "jane doe" not in text
    ids = [str(r["id"]) for r in rows]
    assert all(re.fullmatch(r"cus_[0-9A-Za-z]{14}", i) for i in ids) and len(set(ids)) == 200
    assert sorted(ids) != ids  # not sequential
    follows = sum(
        str(r["last_name"]).lower()[:3] in str(r["email"]).lower()
        or str(r["first_name"]).lower()[:3] in str(r["email"]).lower()
        for r in rows
    )
    assert follows >= 190  # a few names fold to ASCII differently (é -> e, Mc -> mc)
    assert len({r["email"] for r in rows}) == 200


def test_foreign_keys_copies_and_money() -> None:
    """Orders pick existing customers, copy their email, count up ids, keep money consistent."""
    customers = _customers()
    result = fake_rows(ORDERS, 80, seed=3, parents={"customers": customers}, now=NOW)
    by_id = {c["id"]: c for c in customers}
    assert result.generic_columns == []
    assert [o["id"] for o in result.rows] == list(range(1, 81))  # INTEGER key: sequential
    for o in result.rows:
        parent = by_id[o["customer_id"]]
        assert o["customer_email"] == parent["email"]
        assert o["created_at"] >= parent["created_at"] and o["created_at"] <= "2026-11-20T15:42:00Z"
        assert round(o["subtotal"] + o["tax"], 2) == o["total"]
        assert o["total"] == round(o["total"], 2) and isinstance(o["amount_cents"], int)
        assert (o["delivered_at"] is not None) == (o["status"] == "delivered")
        assert o["status"] in ("delivered", "paid", "canceled")
    assert len({o["customer_id"] for o in result.rows}) > 5


def test_locale_changes_names_phones_and_places() -> None:
    """de_DE gives German phone formats and real German places, not US ones."""
    us, de = _customers(locale="en_US"), _customers(locale="de_DE")
    assert all(re.fullmatch(r"\d{5}", str(r["postal_code"])) for r in de)
    assert any(str(r["phone"]).startswith(("+49", "0")) for r in de if r["phone"])
    assert {r["city"] for r in us}.isdisjoint({r["city"] for r in de})


def test_missing_parent_rows_is_an_error() -> None:
    """Faking a child before its parent says which table to fake first."""
    with pytest.raises(ValueError, match="fake customers first"):
        fake_rows(ORDERS, 3, seed=1, now=NOW)


def test_unknown_columns_are_reported() -> None:
    """A column no rule knows still gets a value of its type, and is listed."""
    t = Table(
        name="widgets",
        columns=[Column(name="id"), Column(name="zorp", type="INTEGER")],
        primary_key=["id"],
    )
    result = fake_rows(t, 3, seed=1)
    assert result.generic_columns == ["zorp"]
    assert all(isinstance(r["zorp"], int) for r in result.rows)
