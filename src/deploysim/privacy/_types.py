"""Entity types, detected spans and the small value types shared by the privacy modules."""

from __future__ import annotations

from typing import Literal, NamedTuple

__all__ = [
    "ENTITY_TYPES",
    "PRECEDENCE",
    "Entity",
    "EntityType",
    "Kind",
    "Span",
    "entity_type_of",
]

EntityType = Literal[
    "SECRET",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "IP_ADDRESS",
    "PERSON",
    "USERNAME",
    "STREET_ADDRESS",
    "ZIP_CODE",
    "DATE_OF_BIRTH",
    "DOMAIN",
]
ENTITY_TYPES: tuple[EntityType, ...] = (
    "SECRET",
    "EMAIL_ADDRESS",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "IP_ADDRESS",
    "PHONE_NUMBER",
    "PERSON",
    "USERNAME",
    "STREET_ADDRESS",
    "ZIP_CODE",
    "DATE_OF_BIRTH",
    "DOMAIN",
)

# Lower wins when two detections overlap: the most precise detectors come first, so a
# password inside a URL is a SECRET and not the start of an EMAIL_ADDRESS, and a number
# that passes the SSN or Luhn validators is not read as a phone number.
PRECEDENCE: dict[EntityType, int] = {t: i for i, t in enumerate(ENTITY_TYPES)}

# A kind is finer than an entity type: it decides how a value is normalized and which
# generator draws its fake. Several kinds report as one entity type (first and last names
# are both PERSON).
Kind = Literal[
    "secret",
    "email",
    "domain",
    "phone",
    "card",
    "ssn",
    "iban",
    "ip",
    "first_name",
    "last_name",
    "username",
    "street",
    "street2",
    "zip",
    "dob",
]

_KIND_TYPES: dict[Kind, EntityType] = {
    "secret": "SECRET",
    "email": "EMAIL_ADDRESS",
    "domain": "DOMAIN",
    "phone": "PHONE_NUMBER",
    "card": "CREDIT_CARD",
    "ssn": "US_SSN",
    "iban": "IBAN_CODE",
    "ip": "IP_ADDRESS",
    "first_name": "PERSON",
    "last_name": "PERSON",
    "username": "USERNAME",
    "street": "STREET_ADDRESS",
    "street2": "STREET_ADDRESS",
    "zip": "ZIP_CODE",
    "dob": "DATE_OF_BIRTH",
}


def entity_type_of(kind: Kind) -> EntityType:
    """The entity type a kind is reported as."""
    return _KIND_TYPES[kind]


class Span(NamedTuple):
    """A detected entity inside a string: ``text[start:end]`` is the value."""

    start: int
    end: int
    type: EntityType
    detector: str
    kind: Kind | None = None


class Entity(NamedTuple):
    """A private value to pseudonymize, as found (before normalization)."""

    kind: Kind
    value: str
