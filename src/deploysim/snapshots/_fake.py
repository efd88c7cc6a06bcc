"""Realistic fake rows for a table: chosen by column name and type, seeded, locale-aware.

Rules, in order: an INTEGER single-column primary key counts up (the schema asks for it);
a foreign key draws from the parent's rows (some parents get many children, as in
production) and a column named ``<parent>_<column>`` copies that parent's value; a column
with ``values`` draws from them (earlier values more often); other columns are matched by
name (email follows the name, phone and address follow the locale, money has two decimals or
is in cents for INTEGER columns, ``*_at`` timestamps lie between the parent's creation and
the frozen clock, milestones such as ``shipped_at`` follow the row's status). Columns that no
rule knows get a generic value of their type and are reported, so nothing is faked silently.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from deploysim.snapshots._fake_values import (
    Person,
    Place,
    bcrypt_like,
    currency_for,
    iso,
    make_person,
    make_place,
    phone,
    prefixed_id,
    singular,
    user_agent,
    uuid_like,
)
from deploysim.snapshots._model import Column, Table

__all__ = ["DEFAULT_NOW", "FakeResult", "fake_rows"]

DEFAULT_NOW = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)
""""Now" when the snapshot has no frozen clock (kept fixed so that seeds stay deterministic)."""

_PEOPLE = {
    "customer",
    "user",
    "employee",
    "contact",
    "person",
    "people",
    "member",
    "account",
    "client",
    "patient",
    "student",
    "passenger",
    "guest",
    "subscriber",
    "author",
}
_PRODUCTS = {"product", "item", "variant", "sku", "listing", "good", "article"}
_PROGRESS = [
    "pending",
    "authorized",
    "paid",
    "processing",
    "fulfilled",
    "shipped",
    "delivered",
    "completed",
    "succeeded",
]
_DEFAULT_STATUS = {
    "order": ["paid", "fulfilled", "shipped", "delivered", "refunded", "canceled"],
    "payment": ["succeeded", "pending", "failed", "refunded"],
    "charge": ["succeeded", "pending", "failed"],
    "customer": ["active", "inactive"],
    "user": ["active", "invited", "suspended"],
    "subscription": ["active", "trialing", "past_due", "canceled"],
}
_PRODUCT_WORDS = (
    [
        "Merino",
        "Waxed Canvas",
        "Organic Cotton",
        "Linen",
        "Recycled Nylon",
        "Leather",
        "Wool",
        "Cork",
        "Bamboo",
        "Ceramic",
        "Cast Iron",
        "Walnut",
        "Stoneware",
    ],
    [
        "Beanie",
        "Tote",
        "Field Jacket",
        "Crew Socks",
        "Overshirt",
        "Backpack",
        "Apron",
        "Mug",
        "Skillet",
        "Cutting Board",
        "Throw Blanket",
        "Water Bottle",
        "Card Wallet",
        "Henley",
    ],
)
_CATEGORIES = ["apparel", "accessories", "home", "kitchen", "outdoor", "bags", "footwear"]


class FakeResult(NamedTuple):
    """Rows made, and the columns that only got a generic value of their type."""

    rows: list[dict[str, Any]]
    generic_columns: list[str]


def _parse_ts(v: Any) -> datetime | None:
    if isinstance(v, int | float) and not isinstance(v, bool) and v > 10**8:
        return datetime.fromtimestamp(v, tz=UTC)
    if isinstance(v, str):
        try:
            ts = datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            return None
        return ts if ts.tzinfo else ts.replace(tzinfo=UTC)
    return None


class _Gen:
    """Per-table state shared by the rows: RNG, Faker, sequences, parents, uniqueness."""

    def __init__(
        self,
        table: Table,
        *,
        seed: int,
        locale: str,
        parents: Mapping[str, Sequence[dict[str, Any]]],
        now: datetime,
        start: int,
    ) -> None:
        self.table = table
        self.rng = random.Random(f"{seed}:{table.name}")
        from faker import Faker  # imported here: `import deploysim.snapshots` stays light

        self.fake = Faker(locale)
        self.fake.seed_instance(self.rng.getrandbits(64))
        self.now = now
        self.seq = start
        self.cols = {c.name: c for c in table.columns}
        self.parents: dict[str, list[dict[str, Any]]] = {}
        self.weights: dict[str, list[float]] = {}
        for c in table.columns:
            if c.references:
                name = c.references.partition(".")[0]
                rows = list(parents.get(name, []))
                self.parents[name] = rows
                # Skewed: a few parents have many children, most have few.
                self.weights[name] = [self.rng.expovariate(1.0) ** 2 + 0.05 for _ in rows]
        self.used_emails: set[str] = set()
        self.generic: list[str] = []
        self.rules = {c.name: self._rule(c) for c in table.columns}

    # -------------------------------------------------------------- rule selection

    def _rule(self, col: Column) -> Callable[[_Row], Any]:
        n, t = col.name.lower(), col.type
        pk = self.table.primary_key
        if col.name in pk and len(pk) == 1 and t == "INTEGER":
            return lambda r: r.g.next_seq()
        if col.references:
            other, _, other_col = col.references.partition(".")
            return lambda r: r.parent(other).get(other_col)
        if col.values:
            values = list(col.values)
            weights = [1 / (i + 1) ** 2 for i in range(len(values))]
            return lambda r: r.g.rng.choices(values, weights)[0]
        copied = self._copy_rule(n)
        if copied is not None:
            return copied
        if t == "TEXT" and (
            n == "id" or (col.name in pk and n.endswith("id")) or n.endswith("_id")
        ):
            stem = self.table.name if n == "id" else n.removesuffix("_id") or self.table.name
            if "uuid" in n or "guid" in n:
                return lambda r: uuid_like(r.g.rng)
            return lambda r: prefixed_id(r.g.rng, stem)
        if "uuid" in n or "guid" in n:
            return lambda r: uuid_like(r.g.rng)
        for pattern, make in _NAMED:
            if re.search(pattern, n):
                rule = make(self, col)
                if rule is not None:
                    return rule
        if t == "TEXT" and pk == [col.name]:
            return lambda r: prefixed_id(r.g.rng, self.table.name)
        self.generic.append(col.name)
        return _generic(col)

    def _copy_rule(self, n: str) -> Callable[[_Row], Any] | None:
        for parent in self.parents:
            stem = singular(parent) + "_"
            rows = self.parents[parent]
            rest = n.removeprefix(stem)
            if n.startswith(stem) and rows and rest in rows[0] and rest != "id":
                return _copy(parent, rest)
        return None

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq - 1

    @property
    def kind(self) -> str:
        return singular(self.table.name)

    def money(self, col: Column, value: float) -> Any:
        if col.type == "INTEGER" or col.name.lower().endswith("_cents"):
            return round(value * 100)
        if col.type == "TEXT":
            return f"{value:.2f}"
        return round(value, 2)


class _Row:
    """One row being made; values are computed on demand so rules can depend on each other."""

    def __init__(self, g: _Gen) -> None:
        self.g = g
        self.values: dict[str, Any] = {}
        self._person: Person | None = None
        self._place: Place | None = None
        self._parents: dict[str, dict[str, Any]] = {}
        self._created: datetime | None = None

    def get(self, name: str) -> Any:
        if name not in self.values:
            self.values[name] = self.g.rules[name](self)
        return self.values[name]

    def has(self, name: str) -> bool:
        return name in self.g.cols

    @property
    def person(self) -> Person:
        if self._person is None:
            self._person = make_person(self.g.fake, self.g.rng, self.g.now)
            while self._person.email in self.g.used_emails:
                self._person = make_person(self.g.fake, self.g.rng, self.g.now)
            self.g.used_emails.add(self._person.email)
        return self._person

    @property
    def place(self) -> Place:
        if self._place is None:
            self._place = make_place(self.g.fake, self.g.rng)
        return self._place

    def parent(self, table: str) -> dict[str, Any]:
        if table not in self._parents:
            rows = self.g.parents[table]
            self._parents[table] = self.g.rng.choices(rows, self.g.weights[table])[0]
        return self._parents[table]

    @property
    def created(self) -> datetime:
        if self._created is None:
            lower = self.g.now - timedelta(days=3 * 365)
            for p in self.g.parents:
                for k in ("created_at", "created", "signup_at", "registered_at"):
                    ts = _parse_ts(self.parent(p).get(k))
                    if ts is not None and ts > lower:
                        lower = ts
            span = max((self.g.now - lower).total_seconds(), 60.0)
            # More recent rows are more common (a growing business).
            self._created = lower + timedelta(seconds=span * self.g.rng.random() ** 0.6)
        return self._created

    def status(self) -> str | None:
        for k in ("status", "state"):
            if k == "state" and _is_address(self.g):
                continue
            if self.has(k):
                v = self.get(k)
                return str(v).lower() if v is not None else None
        return None


def _copy(parent: str, key: str) -> Callable[[_Row], Any]:
    return lambda r: r.parent(parent).get(key)


def _is_address(g: _Gen) -> bool:
    return any(k in g.cols for k in ("city", "zip", "postcode", "postal_code", "zip_code"))


# ------------------------------------------------------------------ name rules

Rule = Callable[["_Row"], Any]
Maker = Callable[[_Gen, Column], Rule | None]


def _ts_out(col: Column, ts: datetime | None) -> Any:
    if ts is None:
        return None
    if col.type == "INTEGER":
        return int(ts.timestamp())
    if col.name.lower().endswith(("_date", "_on")) or col.name.lower() == "date":
        return ts.date().isoformat()
    return iso(ts)


_CREATED = ("created", "signup", "registered", "joined", "placed", "ordered", "date", "timestamp")
_STEP_DAYS = {
    "authorized": 0.01,
    "paid": 0.02,
    "canceled": 0.3,
    "processing": 0.5,
    "fulfilled": 1.0,
    "shipped": 1.6,
    "delivered": 5.0,
    "completed": 5.0,
    "refunded": 9.0,
}


def _timestamp(g: _Gen, col: Column) -> Rule:
    n = col.name.lower()
    stem = re.sub(r"(_at|_on|_date)$", "", n)

    def rule(r: _Row) -> Any:
        created = r.created
        if stem in _CREATED:
            return _ts_out(col, created)
        if stem in ("updated", "modified", "last_seen", "last_login", "last_active"):
            span = (g.now - created).total_seconds()
            return _ts_out(col, created + timedelta(seconds=span * g.rng.random() ** 0.3))
        status = r.status()
        milestone = _milestone(stem)
        if milestone is not None and status is not None:
            reached = _reached(status, milestone)
            if not reached:
                return None
        elif (
            col.nullable
            and (milestone is not None or stem.startswith(("deleted", "archived")))
            and g.rng.random() < 0.8
        ):
            return None
        step = _STEP_DAYS.get(milestone or "", 4.0) + 0.5 * g.rng.random()
        ts = created + timedelta(days=step)
        return _ts_out(col, min(ts, g.now))

    return rule


def _milestone(stem: str) -> str | None:
    stem = {"cancelled": "canceled", "completed": "completed"}.get(stem, stem)
    known = [*_PROGRESS, "canceled", "refunded", "failed"]
    return stem if stem in known else None


def _reached(status: str, milestone: str) -> bool:
    status = "canceled" if status == "cancelled" else status
    if milestone in ("canceled", "refunded", "failed"):
        return status == milestone
    if status == "refunded":
        return milestone in ("paid", "authorized")
    if status in _PROGRESS:
        return _PROGRESS.index(status) >= _PROGRESS.index(milestone)
    return False


def _birth(g: _Gen, col: Column) -> Rule:
    return lambda r: r.person.birth.isoformat() if col.type != "INTEGER" else r.person.birth.year


def _money(g: _Gen, col: Column) -> Rule | None:
    n = col.name.lower()

    def rule(r: _Row) -> Any:
        if "refund" in n:
            paid = _value(r, "amount") if r.has("amount") else _line(r)
            return g.money(col, paid if r.status() == "refunded" else 0.0)
        if g.kind == "refund":  # at most what the refunded parent was paid
            parent_paid = _parent_amount(r, col.name)
            if parent_paid is not None:
                share = 1.0 if g.rng.random() < 0.7 else g.rng.choice([0.25, 0.5, 0.6])
                return g.money(col, round(parent_paid * share, 2))
        return g.money(col, _amount(r, n))

    return rule


def _parent_amount(r: _Row, name: str) -> float | None:
    for table in r.g.parents:
        v = r.parent(table).get(name)
        if isinstance(v, int | float) and not isinstance(v, bool):
            return float(v) / (100 if r.g.cols[name].type == "INTEGER" else 1)
    return None


_TOTALS = ("total", "amount", "grand_total", "total_amount", "amount_total", "total_price")


def _amount(r: _Row, n: str) -> float:
    rng = r.g.rng
    if "tax" in n:
        return round(_subtotal(r) * 0.0825, 2)
    if "shipping" in n:
        return rng.choice([0.0, 0.0, 4.99, 7.95, 12.5])
    if "discount" in n:
        return rng.choice([0.0, 0.0, 0.0, 5.0, 10.0])
    if "fee" in n:
        base = _value(r, "amount") if r.has("amount") and n != "amount" else _line(r)
        return round(base * 0.029 + 0.30, 2)
    if "balance" in n:
        return rng.choice([0.0, 0.0, 0.0, round(rng.uniform(5, 60), 2)])
    if n not in _TOTALS and ("price" in n or "cost" in n):
        return max(round(rng.lognormvariate(3.5, 0.6)) - rng.choice([0.01, 0.05, 0.0]), 4.99)
    if n in _TOTALS and r.has("subtotal"):
        extra = sum(_value(r, k) for k in ("tax", "shipping") if r.has(k))
        less = _value(r, "discount") if r.has("discount") else 0.0
        return round(max(_value(r, "subtotal") + extra - less, 0.5), 2)
    return _line(r)


def _subtotal(r: _Row) -> float:
    return _value(r, "subtotal") if r.has("subtotal") else _line(r)


def _line(r: _Row) -> float:
    """Quantity times unit price when the row has both; otherwise a plausible basket."""
    if r.has("unit_price") and r.has("quantity"):
        q = r.get("quantity")
        if isinstance(q, int):
            return round(_value(r, "unit_price") * q, 2)
    return round(r.g.rng.lognormvariate(4.1, 0.65), 2)


def _value(r: _Row, name: str) -> float:
    v = r.get(name)
    col = r.g.cols[name]
    if v is None:
        return 0.0
    f = float(v)
    return f / 100 if col.type == "INTEGER" or name.endswith("_cents") else f


def _status(g: _Gen, col: Column) -> Rule | None:
    if col.name.lower() == "state" and _is_address(g):
        return None
    values = _DEFAULT_STATUS.get(g.kind, ["active", "active", "active", "inactive"])
    return lambda r: g.rng.choice(values)


def _flag(g: _Gen, col: Column) -> Rule:
    n = col.name.lower()
    p = 0.85 if re.search(r"verified|active|enabled|confirmed", n) else 0.2
    p = 0.35 if re.search(r"marketing|newsletter|subscribed|opt_in", n) else p
    p = 0.96 if re.search(r"^(paid|captured|livemode)$", n) else p
    p = 0.05 if re.search(r"^(refunded|disputed|deleted|archived)$", n) else p

    def rule(r: _Row) -> Any:
        v = g.rng.random() < p
        return ("true" if v else "false") if col.type == "TEXT" else int(v)

    return rule


def _name(g: _Gen, col: Column) -> Rule | None:
    n = col.name.lower()
    if n in ("first_name", "given_name", "firstname"):
        return lambda r: r.person.first
    if n in ("last_name", "family_name", "surname", "lastname"):
        return lambda r: r.person.last
    if g.kind in _PRODUCTS and n in ("name", "product_name", "item_name", "title"):
        a, b = _PRODUCT_WORDS
        return lambda r: f"{g.rng.choice(a)} {g.rng.choice(b)}"
    if n in (
        "name",
        "full_name",
        "display_name",
        "customer_name",
        "contact_name",
        "cardholder_name",
        "billing_name",
        "shipping_name",
    ) and (g.kind in _PEOPLE or n != "name"):
        return lambda r: r.person.full
    if n in ("name", "company", "company_name", "organization", "business_name", "merchant_name"):
        return lambda r: g.fake.company()
    return None


_PAYMENT_KINDS = {"charge", "payment", "invoice", "payout", "transaction", "payment_intent"}


def _text(g: _Gen, col: Column) -> Rule:
    n = col.name.lower()
    short = n in ("title", "subject", "summary")

    def rule(r: _Row) -> Any:
        if col.nullable and n.startswith("note") and g.rng.random() < 0.7:
            return None
        if n.startswith(("note", "comment")) and g.kind in ("order", "shipment", "ticket"):
            return g.rng.choice(_NOTES)
        if n == "description" and g.kind in _PAYMENT_KINDS:
            return f"Order #{_digits(g, 6)}" if g.rng.random() < 0.9 else None
        return g.fake.sentence(nb_words=6) if short else g.fake.paragraph(nb_sentences=2)

    return rule


_NOTES = [
    "Please leave the package at the side door.",
    "Gift order - please leave the receipt out.",
    "Customer called to change the shipping address; updated.",
    "Replacement for a damaged item, see previous order.",
    "Requested delivery after 5pm.",
    "Wants to know when the size M restocks.",
    "Combined with the customer's earlier order to save shipping.",
    "Address verified with the customer by email.",
    "Leave with the building concierge.",
    "Holiday gift, please ship in plain packaging.",
]
_TRACKING: dict[str, Callable[[_Gen], str]] = {
    "UPS": lambda g: "1Z" + g.fake.bothify("???#####").upper() + _digits(g, 8),
    "USPS": lambda g: "9400" + _digits(g, 18),
    "FedEx": lambda g: _digits(g, 12),
    "DHL": lambda g: _digits(g, 10),
}


def _shipped(r: _Row) -> bool:
    status = r.status()
    return status is None or _reached(status, "shipped")


def _carrier(g: _Gen, r: _Row) -> str | None:
    if not _shipped(r):
        return None
    choices = ["UPS", "USPS", "FedEx"] if g.fake.current_country_code() == "US" else ["DHL"]
    return g.rng.choices(choices, [5, 4, 2][: len(choices)])[0]


def _tracking(g: _Gen, r: _Row) -> str | None:
    if not _shipped(r):
        return None
    carrier = r.get("carrier") if r.has("carrier") else _carrier(g, r)
    make = _TRACKING.get(str(carrier), _TRACKING["UPS"])
    return make(g)


def _const(fn: Callable[[_Gen, _Row], Any]) -> Maker:
    return lambda g, col: lambda r: fn(g, r)


def _digits(g: _Gen, k: int) -> str:
    return "".join(g.rng.choice(string.digits) for _ in range(k))


def _optional(p_null: float, fn: Callable[[_Gen, _Row], Any]) -> Maker:
    def make(g: _Gen, col: Column) -> Rule:
        def rule(r: _Row) -> Any:
            return None if col.nullable and g.rng.random() < p_null else fn(g, r)

        return rule

    return make


_NAMED: list[tuple[str, Maker]] = [
    (r"^(email|email_address|e_mail|.*_email)$", _const(lambda g, r: r.person.email)),
    (r"^(username|user_name|login|handle)$", _const(lambda g, r: r.person.username)),
    (r"(^|_)(birth|dob|birthday|date_of_birth)", _birth),
    (r"(_at|_on|_date)$|^(date|timestamp|created|updated)$", _timestamp),
    (
        r"(^|_)(amount|price|total|subtotal|cost|fee|tax|balance|discount|shipping)(_|$)|_cents$",
        _money,
    ),
    (r"^(first_name|given_name|firstname|last_name|family_name|surname|lastname)$", _name),
    (r"(^|_)(name|company|organization|title)$", _name),
    (
        r"^(phone|phone_number|mobile|tel|telephone|.*_phone)$",
        _optional(0.1, lambda g, r: phone(g.fake, g.rng)),
    ),
    (
        r"^(address_line2|line2|street2|address2)$",
        _optional(
            0.8, lambda g, r: f"{g.rng.choice(['Apt', 'Suite', 'Unit'])} {g.rng.randint(1, 420)}"
        ),
    ),
    (
        r"^(street|address|address_line1|line1|street_address|address1|.*_address)$",
        _const(lambda g, r: r.place.street),
    ),
    (r"^(city|town|.*_city)$", _const(lambda g, r: r.place.city)),
    (
        r"^(state|region|province|county|.*_state)$",
        _const(lambda g, r: r.place.region or r.place.city),
    ),
    (
        r"^(zip|zip_code|zipcode|postcode|postal_code|.*_zip|.*_postcode)$",
        _const(lambda g, r: r.place.postcode),
    ),
    (r"^(country|country_code|.*_country)$", _const(lambda g, r: r.place.country)),
    (r"^(lat|latitude)$", _const(lambda g, r: r.place.latitude or float(g.fake.latitude()))),
    (
        r"^(lng|lon|long|longitude)$",
        _const(lambda g, r: r.place.longitude or float(g.fake.longitude())),
    ),
    (r"^(timezone|time_zone|tz)$", _const(lambda g, r: r.place.timezone or g.fake.timezone())),
    (r"^(status|state)$", _status),
    (
        r"^(is|has|can)_|_(enabled|verified|confirmed)$"
        r"|^(active|verified|accepts_marketing|paid|captured|livemode|refunded|disputed)$",
        _flag,
    ),
    (r"^(currency|currency_code)$", _const(lambda g, r: currency_for(g.fake))),
    (
        r"^(quantity|qty)$",
        _const(lambda g, r: g.rng.choices([1, 2, 3, 4, 5, 6], [60, 24, 8, 4, 2, 2])[0]),
    ),
    (r"(^|_)last4$", _const(lambda g, r: _digits(g, 4))),
    (
        r"^(brand|card_brand|network)$",
        _const(
            lambda g, r: g.rng.choices(["visa", "mastercard", "amex", "discover"], [50, 30, 12, 8])[
                0
            ]
        ),
    ),
    (r"^exp_month$", _const(lambda g, r: g.rng.randint(1, 12))),
    (r"^exp_year$", _const(lambda g, r: g.now.year + g.rng.randint(0, 5))),
    (
        r"^(sku|product_code)$",
        _const(lambda g, r: f"{g.fake.lexify('??').upper()}-{_digits(g, 5)}"),
    ),
    (r"^(category|product_type)$", _const(lambda g, r: g.rng.choice(_CATEGORIES))),
    (
        r"^(order_number|invoice_number|number|reference|confirmation_code)$",
        _const(
            lambda g, r: (
                f"{g.rng.randint(1, 9)}{_digits(g, 5)}"
                if g.kind == "order"
                else g.fake.bothify("??######").upper()
            )
        ),
    ),
    (r"^tracking_(number|code)$", _const(lambda g, r: _tracking(g, r))),
    (r"^(carrier|shipping_carrier)$", _const(lambda g, r: _carrier(g, r))),
    (r"^(website|url|homepage|.*_url)$", _const(lambda g, r: g.fake.url())),
    (r"^(domain|hostname)$", _const(lambda g, r: g.fake.domain_name())),
    (r"^(ip|ip_address|last_ip|remote_addr|.*_ip)$", _const(lambda g, r: g.fake.ipv4_public())),
    (r"^user_agent$", _const(lambda g, r: user_agent(g.rng))),
    (
        r"^(password|password_hash|hashed_password|password_digest)$",
        _const(lambda g, r: bcrypt_like(g.rng)),
    ),
    (r"(^|_)(token|api_key|secret)$", _const(lambda g, r: f"{g.rng.getrandbits(128):032x}")),
    (r"^(job|job_title|occupation)$", _const(lambda g, r: g.fake.job())),
    (r"^(locale|language)$", _const(lambda g, r: str(g.fake.locale()))),
    (r"^age$", _const(lambda g, r: g.now.year - r.person.birth.year)),
    (
        r"^(rating|stars)$",
        _const(lambda g, r: g.rng.choices([5, 4, 3, 2, 1], [55, 25, 10, 4, 6])[0]),
    ),
    (r"^(description|notes?|comments?|bio|memo|message|body|title|subject|summary)$", _text),
]


def _generic(col: Column) -> Rule:
    def rule(r: _Row) -> Any:
        g = r.g
        if col.type == "TEXT":
            return g.fake.word()
        if col.type == "INTEGER":
            return g.rng.randint(0, 1000)
        if col.type in ("REAL", "NUMERIC"):
            return round(g.rng.uniform(0, 1000), 2)
        if col.type == "JSON":
            return {}
        return None if col.nullable else ""

    return rule


def fake_rows(
    table: Table,
    n: int,
    *,
    seed: int,
    locale: str = "en_US",
    parents: Mapping[str, Sequence[dict[str, Any]]] | None = None,
    now: datetime | None = None,
    start: int = 1,
) -> FakeResult:
    """Make ``n`` rows for ``table``; the same arguments always give the same rows.

    Args:
        table: the table whose schema (names, types, values, references) guides the values.
        n: how many rows.
        seed: the seed; each table draws from its own stream derived from it.
        locale: Faker locale (``en_US``, ``de_DE``, ``ja_JP`` ...): names, phones, addresses.
        parents: rows of the tables that foreign keys reference, by table name.
        now: the frozen clock; timestamps lie before it (:data:`DEFAULT_NOW` when None).
        start: first value of an INTEGER primary key.

    Raises:
        ValueError: a foreign key references a table with no rows in ``parents``, or the
            locale is unknown.
    """
    parents = parents or {}
    for c in table.columns:
        if c.references:
            other = c.references.partition(".")[0]
            if not parents.get(other):
                raise ValueError(
                    f"column {c.name} references {c.references}, which has no rows: "
                    f"fake {other} first"
                )
    when = now or DEFAULT_NOW
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    try:
        g = _Gen(table, seed=seed, locale=locale, parents=parents, now=when, start=start)
    except AttributeError as e:  # Faker raises this for an unknown locale
        raise ValueError(f"unknown Faker locale {locale!r}") from e
    rows: list[dict[str, Any]] = []
    keys: set[str] = set()
    pk = table.primary_key
    for _ in range(n):
        for _attempt in range(50):
            r = _Row(g)
            row = {c.name: r.get(c.name) for c in table.columns}
            key = repr([row[k] for k in pk])
            if key not in keys:
                break
        else:
            raise ValueError(f"cannot make {n} rows with distinct primary keys {pk}")
        keys.add(key)
        rows.append(row)
    return FakeResult(rows, list(g.generic))
