"""JSON-field hints: what a value is, judged from the name of the field that holds it.

The highest-yield detector for agent traces: most private data arrives as tool results
(user profiles, orders, rows), where the field names say what each value is. ``name`` is
the hard case (tool names, product names and people all live under ``name``), so it only
counts as a person inside a record that looks like a person's, or under a person-like parent.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, Literal

from deploysim.privacy._pii import is_allowed, is_phone
from deploysim.privacy._secrets import SECRET_KEY_NAME, is_secret_value
from deploysim.privacy._types import Entity, EntityType, Kind

__all__ = [
    "HintKind",
    "dict_hints",
    "entities_for_hint",
    "hint_for_entity_type",
    "looks_like_person_name",
    "normalize_key",
    "parse_date",
]

HintKind = Kind | Literal["person"]

_FIELD_KINDS: dict[str, HintKind] = {}
for _kind, _names in {
    "first_name": "firstname givenname fname forename middlename",
    "last_name": "lastname surname familyname lname",
    "person": (
        "fullname customername passengername cardholdername cardholder holdername "
        "accountholder accountholdername contactname recipientname sendername patientname "
        "employeename legalname displayname travelername travellername guestname"
    ),
    "email": "email emailaddress mail useremail contactemail customeremail billingemail",
    "phone": (
        "phone phonenumber mobile mobilenumber mobilephone cell cellphone telephone tel fax "
        "contactphone homephone workphone"
    ),
    "dob": "dob dateofbirth birthdate birthday birthdt",
    "street": "address1 addressline1 line1 street streetaddress homeaddress mailingaddress",
    "street2": "address2 addressline2 line2",
    "zip": "zip zipcode postalcode postcode",
    "ssn": "ssn socialsecuritynumber socialsecurity",
    "card": "cardnumber creditcardnumber ccnumber pan creditcard debitcardnumber",
    "iban": "iban ibancode",
    "ip": "ip ipaddress clientip remoteaddr remoteip sourceip srcip",
    "username": "username login userlogin handle screenname userhandle",
}.items():
    for _name in _names.split():
        _FIELD_KINDS[_name] = _kind  # type: ignore[assignment]

# Keys whose presence marks a record as describing a person, so its `name` is a person's.
_PERSON_FIELDS = frozenset(
    [
        "email",
        "emailaddress",
        "phone",
        "phonenumber",
        "dob",
        "dateofbirth",
        "birthdate",
        "firstname",
        "lastname",
        "userid",
        "username",
        "ssn",
        "customerid",
        "address",
        "address1",
        "passengerid",
        "memberid",
        "patientid",
    ]
)
_PERSON_PARENTS = frozenset(
    [
        "user",
        "users",
        "customer",
        "customers",
        "passenger",
        "passengers",
        "contact",
        "contacts",
        "person",
        "people",
        "owner",
        "holder",
        "cardholder",
        "patient",
        "employee",
        "employees",
        "member",
        "members",
        "author",
        "sender",
        "recipient",
        "guardian",
        "beneficiary",
        "buyer",
        "seller",
        "traveler",
        "traveller",
        "guest",
        "client",
        "profile",
        "account",
        "billing",
        "shipping",
    ]
)
_ADDRESS_PARENTS = frozenset(["address", "homeaddress", "billingaddress", "shippingaddress"])

_ENTITY_HINTS: dict[EntityType, HintKind] = {
    "SECRET": "secret",
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "CREDIT_CARD": "card",
    "IBAN_CODE": "iban",
    "US_SSN": "ssn",
    "IP_ADDRESS": "ip",
    "PERSON": "person",
    "USERNAME": "username",
    "STREET_ADDRESS": "street",
    "ZIP_CODE": "zip",
    "DATE_OF_BIRTH": "dob",
    "DOMAIN": "domain",
}


def hint_for_entity_type(etype: EntityType) -> HintKind:
    """The hint a caller-given entity type stands for (``PERSON`` -> a full name)."""
    return _ENTITY_HINTS[etype]


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@lru_cache(maxsize=8192)
def normalize_key(key: str) -> str:
    """``firstName``, ``first_name`` and ``First-Name`` all become ``firstname``."""
    return re.sub(r"[^a-z0-9]", "", _CAMEL.sub("_", key).lower())


_NAME_TOKEN = re.compile(r"^[^\W\d_][^\W\d_'\u2019.-]*(?:['\u2019.-][^\W\d_]+)*\.?$")
_TITLES = frozenset(["mr", "mrs", "ms", "miss", "dr", "prof", "sir", "madam", "mx"])


def looks_like_person_name(value: str) -> bool:
    """One to five word tokens made of letters (``Mia``, ``Mary-Ann O'Neil``, ``Dr. Li``)."""
    tokens = value.split()
    if not 1 <= len(tokens) <= 5 or len(value) > 80:
        return False
    if not all(_NAME_TOKEN.match(t) for t in tokens):
        return False
    # At least one token capitalized: "bluetooth speaker" is not a name.
    return any(t[0].isupper() for t in tokens)


def _name_entities(value: str, hint: HintKind) -> list[Entity]:
    tokens = [t for t in value.split() if t.rstrip(".").lower() not in _TITLES]
    if not tokens:
        return []
    if hint == "first_name":
        return [Entity("first_name", t) for t in tokens]
    if hint == "last_name":
        return [Entity("last_name", t) for t in tokens]
    if len(tokens) == 1:
        return [Entity("first_name", tokens[0])]
    *firsts, last = tokens
    if last.rstrip(".").lower() in {"jr", "sr", "ii", "iii", "iv"} and len(firsts) > 1:
        *firsts, last = firsts
    return [*(Entity("first_name", t) for t in firsts), Entity("last_name", last)]


_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d", "%d.%m.%Y", "%B %d, %Y", "%b %d, %Y")


def parse_date(value: str) -> tuple[dt.date, str] | None:
    """The date and its strptime format, for the date formats a DOB field uses."""
    text = value.strip()
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date(), fmt
        except ValueError:
            continue
    if re.match(r"^\d{4}-\d{2}-\d{2}T", text):
        return parse_date(text[:10])
    return None


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def entities_for_hint(hint: HintKind, value: str) -> list[Entity]:
    """The private values a hinted field holds, after a shape check (none when it fails)."""
    v = value.strip()
    if not v or len(v) > 200:
        return []
    digits = re.sub(r"\D", "", v)
    match hint:
        case "person" | "first_name" | "last_name":
            return _name_entities(v, hint) if looks_like_person_name(v) else []
        case "email":
            email_ok = bool(re.match(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$", v))
            return [Entity("email", v)] if email_ok and not is_allowed("email", v) else []
        case "phone":
            return [Entity("phone", v)] if is_phone(v, hinted=True) else []
        case "dob":
            return [Entity("dob", v)] if parse_date(v) else []
        case "street" | "street2":
            return [Entity(hint, v)] if re.search(r"[^\W\d_]{2}", v) and len(v) >= 4 else []
        case "zip":
            return [Entity("zip", v)] if re.fullmatch(r"\d{5}(?:-\d{4})?", v) else []
        case "ssn":
            return [Entity("ssn", v)] if len(digits) == 9 and re.fullmatch(r"[\d -]+", v) else []
        case "card":
            card_ok = bool(re.fullmatch(r"[\d -]+", v)) and 12 <= len(digits) <= 19
            if card_ok and _luhn_ok(digits) and not is_allowed("card", v):
                return [Entity("card", v)]
            return []
        case "iban":
            compact = re.sub(r"[\s-]", "", v).upper()
            iban_ok = bool(re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", compact))
            return [Entity("iban", v)] if iban_ok else []
        case "ip":
            return [] if is_allowed("ip", v) else [Entity("ip", v)]
        case "username":
            user_ok = bool(re.fullmatch(r"[\w.@+-]{3,64}", v)) and not v.isdigit()
            return [Entity("username", v)] if user_ok else []
        case "secret":
            return [Entity("secret", v)]
        case "domain":
            return [Entity("domain", v.lower())] if re.fullmatch(r"[\w.-]+\.[a-z]{2,}", v) else []
    return []


def _person_like(d: Mapping[str, Any], parent_key: str | None) -> bool:
    if parent_key is not None and normalize_key(parent_key) in _PERSON_PARENTS:
        return True
    return any(normalize_key(k) in _PERSON_FIELDS for k in d if isinstance(k, str))


@lru_cache(maxsize=4096)
def _key_kind(key: str) -> HintKind | None:
    """The kind a key names by itself (``email``, ``*_phone``), before looking at values."""
    norm = normalize_key(key)
    kind = _FIELD_KINDS.get(norm)
    if kind is None and re.search(r"[:/.]", key.strip(":/.")):
        # A namespaced key (inspect's store "Profile:phone", a dotted or JSON-pointer path)
        # names its field last.
        return _key_kind(re.split(r"[:/.]", key.strip(":/."))[-1])
    if kind is None and norm.endswith("email") and len(norm) <= 20:
        kind = "email"
    if kind is None and norm.endswith(("phone", "phonenumber")) and len(norm) <= 20:
        kind = "phone"
    return kind


@lru_cache(maxsize=4096)
def _maybe_secret_key(key: str) -> bool:
    return bool(SECRET_KEY_NAME.search(key))


def dict_hints(
    d: Mapping[str, Any], parent_key: str | None, protected_values: Iterable[str] = ()
) -> dict[str, HintKind]:
    """The hint of each key of ``d`` that has one.

    Args:
        d: the record.
        parent_key: the key ``d`` sits under, if any (``customer`` makes ``name`` a person).
        protected_values: values that are never a person's name (the trace's tool names).
    """
    hints: dict[str, HintKind] = {}
    person = None
    for key, value in d.items():
        if not isinstance(key, str):
            continue
        kind = _key_kind(key)
        if kind == "street" and parent_key is None and normalize_key(key) in {"street", "line1"}:
            kind = None  # a bare `street` at top level is as often a game board or a map
        if kind is None and isinstance(value, str):
            norm = normalize_key(key)
            if norm in {"name", "nm"}:
                if person is None:
                    person = _person_like(d, parent_key)
                if person and value not in protected_values:
                    kind = "person"
            elif norm == "address":
                kind = "street"
            elif _maybe_secret_key(key) and is_secret_value(key, value):
                kind = "secret"
        if kind is not None:
            hints[key] = kind
    # A JSON Patch operation (RFC 6902; inspect's store and state events) holds its field's
    # value under "value" and names the field in "path".
    if isinstance(d.get("op"), str) and isinstance(d.get("path"), str) and "value" in d:
        kind = _key_kind(d["path"])
        if kind is not None:
            hints["value"] = kind
    if parent_key is not None and normalize_key(parent_key) in _ADDRESS_PARENTS:
        for key in d:
            if isinstance(key, str) and normalize_key(key) == "name" and key not in hints:
                hints[key] = "person"
    return hints
