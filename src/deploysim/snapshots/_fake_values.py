"""Value generators for Faker-made rows: people, emails, places, phones, ids, money, dates.

Faker's defaults show they are fake in places a reader notices (en_US cities such as
"New Jeffreymouth", phone extensions, user agents of 2010, ``example.com`` in ``safe_email``);
the generators here pick real city names, common street names, current browsers and free-mail
domains, and never produce placeholder names.
"""

from __future__ import annotations

import random
import string
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faker import Faker

__all__ = [
    "Person",
    "Place",
    "bcrypt_like",
    "currency_for",
    "email_for",
    "iso",
    "make_person",
    "make_place",
    "phone",
    "prefixed_id",
    "singular",
    "user_agent",
]

_BASE62 = string.digits + string.ascii_letters
PLACEHOLDER_NAMES = {
    ("john", "doe"),
    ("jane", "doe"),
    ("john", "smith"),
    ("max", "mustermann"),
    ("erika", "mustermann"),
    ("jean", "dupont"),
    ("taro", "yamada"),
}

_PREFIXES = {
    "customer": "cus",
    "charge": "ch",
    "payment": "pay",
    "payment_intent": "pi",
    "refund": "re",
    "invoice": "in",
    "order": "ord",
    "product": "prod",
    "subscription": "sub",
    "user": "usr",
    "account": "acct",
    "session": "sess",
    "event": "evt",
    "payout": "po",
    "dispute": "dp",
    "transaction": "txn",
    "address": "addr",
    "shipment": "shp",
    "line_item": "li",
    "item": "li",
    "card": "card",
    "price": "price",
    "coupon": "co",
}

# Real places with their region, for locales where Faker invents city names.
_US_CITIES = [
    ("Portland", "OR"),
    ("Seattle", "WA"),
    ("Spokane", "WA"),
    ("Boise", "ID"),
    ("Denver", "CO"),
    ("Boulder", "CO"),
    ("Austin", "TX"),
    ("Plano", "TX"),
    ("San Antonio", "TX"),
    ("Phoenix", "AZ"),
    ("Tucson", "AZ"),
    ("Sacramento", "CA"),
    ("Oakland", "CA"),
    ("San Diego", "CA"),
    ("Pasadena", "CA"),
    ("Salt Lake City", "UT"),
    ("Minneapolis", "MN"),
    ("Madison", "WI"),
    ("Chicago", "IL"),
    ("Evanston", "IL"),
    ("Ann Arbor", "MI"),
    ("Columbus", "OH"),
    ("Cincinnati", "OH"),
    ("Pittsburgh", "PA"),
    ("Philadelphia", "PA"),
    ("Brooklyn", "NY"),
    ("Rochester", "NY"),
    ("Burlington", "VT"),
    ("Portland", "ME"),
    ("Cambridge", "MA"),
    ("Providence", "RI"),
    ("Hartford", "CT"),
    ("Baltimore", "MD"),
    ("Richmond", "VA"),
    ("Raleigh", "NC"),
    ("Asheville", "NC"),
    ("Charleston", "SC"),
    ("Atlanta", "GA"),
    ("Nashville", "TN"),
    ("Louisville", "KY"),
    ("Tampa", "FL"),
    ("Orlando", "FL"),
    ("New Orleans", "LA"),
    ("Kansas City", "MO"),
    ("Omaha", "NE"),
    ("Albuquerque", "NM"),
    ("Anchorage", "AK"),
    ("Honolulu", "HI"),
]
_US_STREETS = [
    "Oak",
    "Maple",
    "Cedar",
    "Pine",
    "Elm",
    "Walnut",
    "Chestnut",
    "Willow",
    "Lake",
    "Hill",
    "Park",
    "Washington",
    "Lincoln",
    "Jefferson",
    "Madison",
    "Franklin",
    "Jackson",
    "Adams",
    "Highland",
    "Sunset",
    "Ridge",
    "Spring",
    "River",
    "Church",
    "Mill",
    "Main",
    "Prospect",
    "Belmont",
    "Hawthorne",
    "Division",
    "Alberta",
    "Fremont",
    "Burnside",
    "Broadway",
]
_US_SUFFIXES = ["St", "St", "Ave", "Ave", "Rd", "Dr", "Ln", "Blvd", "Ct", "Way", "Pl", "Ter"]
_CURRENCIES = {
    "US": "USD",
    "GB": "GBP",
    "CA": "CAD",
    "AU": "AUD",
    "NZ": "NZD",
    "JP": "JPY",
    "CH": "CHF",
    "SE": "SEK",
    "NO": "NOK",
    "DK": "DKK",
    "PL": "PLN",
    "IN": "INR",
    "BR": "BRL",
    "MX": "MXN",
}
_EURO = {"DE", "FR", "ES", "IT", "NL", "BE", "AT", "IE", "PT", "FI", "GR", "LU", "SK", "SI"}


def singular(word: str) -> str:
    """English singular of a table name, good enough for prefixes and column stems."""
    w = word.lower()
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("sses", "shes", "ches", "xes")):
        return w[:-2]
    if w.endswith("s") and not w.endswith("ss"):
        return w[:-1]
    return w


def prefixed_id(rng: random.Random, stem: str, length: int = 14) -> str:
    """A random id with a type prefix, Stripe style: ``cus_8fK2mQ0xLr4TzA``."""
    s = singular(stem)
    prefix = _PREFIXES.get(s) or "".join(ch for ch in s if ch.isalpha())[:3] or "id"
    return prefix + "_" + "".join(rng.choice(_BASE62) for _ in range(length))


def uuid_like(rng: random.Random) -> str:
    """A version-4 UUID drawn from ``rng`` (deterministic per seed)."""
    n = rng.getrandbits(128)
    n = (n & ~(0xF000 << 64)) | (0x4000 << 64)  # version 4
    n = (n & ~(0xC000 << 48)) | (0x8000 << 48)  # RFC 4122 variant
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True)
class Person:
    """A made-up person; email and username follow the name."""

    first: str
    last: str
    email: str
    username: str
    birth: date

    @property
    def full(self) -> str:
        """Full name as the locale writes it."""
        return f"{self.first} {self.last}"


def _ascii(text: str) -> str:
    text = text.replace("ß", "ss").replace("æ", "ae").replace("ø", "o").replace("œ", "oe")
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def email_for(fake: Faker, rng: random.Random, first: str, last: str, birth: date) -> str:
    """An email address a person with this name would plausibly own, at a free-mail domain."""
    f, la = _ascii(first), _ascii(last)
    if not f or not la:  # names in a non-Latin script: use a romanized user name
        local = fake.user_name()
    else:
        local = rng.choice(
            [
                f"{f}.{la}",
                f"{f}.{la}",
                f"{f}{la}",
                f"{f[0]}{la}",
                f"{f}_{la}",
                f"{f}.{la}{rng.randint(1, 99)}",
                f"{f}{la[0]}{birth.year % 100:02d}",
                f"{la}.{f}",
            ]
        )
    return f"{local}@{fake.free_email_domain()}"


def make_person(fake: Faker, rng: random.Random, now: datetime) -> Person:
    """A person with a locale-appropriate name (never a placeholder name)."""
    while True:
        first, last = fake.first_name(), fake.last_name()
        if (first.lower(), last.lower()) not in PLACEHOLDER_NAMES:
            break
    age_days = rng.randint(18 * 365, 82 * 365)
    birth = (now - timedelta(days=age_days)).date()
    email = email_for(fake, rng, first, last, birth)
    return Person(first, last, email, email.split("@")[0].replace(".", "_"), birth)


@dataclass(frozen=True)
class Place:
    """An address: street line, city, region, postcode, country code, coordinates."""

    street: str
    city: str
    region: str | None
    postcode: str
    country: str
    latitude: float | None = None
    longitude: float | None = None
    timezone: str | None = None


def make_place(fake: Faker, rng: random.Random) -> Place:
    """A real city of the locale's country with a plausible street and postcode."""
    country = fake.current_country_code()
    if country == "US":
        city, region = rng.choice(_US_CITIES)
        street = f"{rng.randint(12, 9899)} {rng.choice(_US_STREETS)} {rng.choice(_US_SUFFIXES)}"
        if rng.random() < 0.18:
            street += (
                f" {rng.choice(['Apt', 'Unit', '#'])} {rng.randint(1, 40)}{rng.choice('ABCD ')}"
            )
        return Place(street.strip(), city, region, fake.postcode_in_state(region), "US")
    unit = next((a for a in ("administrative_unit", "state", "region") if hasattr(fake, a)), None)
    area = str(getattr(fake, unit)()) if unit else None
    lat: float | None = None
    lng: float | None = None
    tz: str | None = None
    found = fake.local_latlng(country_code=country)
    if found is None:  # Faker knows no real places of this country
        city = fake.city()
    else:
        lat, lng, city, tz = float(found[0]), float(found[1]), found[2], found[4]
    street = fake.street_address().replace("\n", ", ")
    return Place(street, city, area, fake.postcode(), country, lat, lng, tz)


def phone(fake: Faker, rng: random.Random) -> str:
    """A phone number formatted the way the locale writes them, without extensions."""
    if fake.current_country_code() == "US":
        area = rng.choice([206, 212, 303, 312, 415, 503, 512, 617, 646, 702, 720, 971, 984])
        line = f"{rng.randint(200, 989)}-{rng.randint(0, 9999):04d}"
        return rng.choice([f"({area}) {line}", f"{area}-{line}", f"+1 {area}-{line}"])
    number = fake.phone_number()
    return number.split("x")[0].strip()


def currency_for(fake: Faker) -> str:
    """ISO 4217 code of the locale's country."""
    country = fake.current_country_code()
    return "EUR" if country in _EURO else _CURRENCIES.get(country, "USD")


def bcrypt_like(rng: random.Random) -> str:
    """A string shaped like a bcrypt hash ($2b$12$ + 53 chars of bcrypt's alphabet)."""
    alphabet = "./" + string.ascii_uppercase + string.ascii_lowercase + string.digits
    return "$2b$12$" + "".join(rng.choice(alphabet) for _ in range(53))


def user_agent(rng: random.Random) -> str:
    """A user agent of a current desktop or mobile browser."""
    chrome = rng.randint(128, 131)
    safari = rng.choice(["17.5", "17.6", "18.0", "18.1"])
    return rng.choice(
        [
            f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"Chrome/{chrome}.0.0.0 Safari/537.36",
            f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
            f"Gecko) Version/{safari} Safari/605.1.15",
            f"Mozilla/5.0 (iPhone; CPU iPhone OS {safari.replace('.', '_')} like Mac OS X) "
            f"AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{safari} Mobile/15E148 "
            f"Safari/604.1",
            f"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"Chrome/{chrome}.0.0.0 Mobile Safari/537.36",
            f"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{chrome + 4}.0) Gecko/20100101 "
            f"Firefox/{chrome + 4}.0",
        ]
    )


def iso(ts: datetime) -> str:
    """A UTC timestamp as ISO 8601 with seconds and 'Z'."""
    return ts.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
