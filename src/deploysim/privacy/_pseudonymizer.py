"""The Pseudonymizer: one dataset key, one real-to-fake map, consistent everywhere.

Use is in two phases, so that related values are linked however they are ordered:
``observe`` every private value found (in all traces, and in snapshot data), then
``finalize`` draws the fakes (name tokens first, so emails and usernames can follow their
owner's fake name; JWTs last, so their claims use the final map), and then ``replace_text``
rewrites any text. Observing more later and finalizing again extends the map; earlier fakes
never change, so a snapshot scrubbed after its traces gets the same pseudonyms.

Each fake is drawn from ``HMAC-SHA256(key, kind, normalized value, attempt)``; an attempt is
rejected when the fake equals or contains any original value (as the leak gate would see
it) or repeats another value's fake. Persist the map (the vault) rather than relying on
re-derivation: Faker promises the same output for a seed only within one Faker version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable
from urllib.parse import quote

from faker import Faker
from pydantic import BaseModel, ConfigDict, Field

from deploysim.privacy import _fakes
from deploysim.privacy._dates import DateWalk
from deploysim.privacy._errors import PrivacyError, VaultError
from deploysim.privacy._hints import parse_date
from deploysim.privacy._jwt import decode_jwt, rewrite_jwt
from deploysim.privacy._matcher import Hit, KnownValues, Rep
from deploysim.privacy._pii import PhoneParts, is_allowed, parse_phone, phone_digits
from deploysim.privacy._prose import deobfuscate_email
from deploysim.privacy._types import Entity, EntityType, Kind, entity_type_of

__all__ = ["Pseudonymizer", "VaultEntry", "normalize"]

_ATTEMPTS = 60
# Kinds in the order their fakes are drawn: names before anything that embeds a name.
_ORDER: tuple[Kind, ...] = (
    "first_name",
    "last_name",
    "domain",
    "email",
    "username",
    "street",
    "street2",
    "zip",
    "dob",
    "phone",
    "card",
    "ssn",
    "iban",
    "ip",
    "secret",
)


class VaultEntry(BaseModel):
    """One real value and its pseudonym."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Kind = Field(description="How the value was classified (first_name, email, ...).")
    real: str = Field(description="The real value, as first seen.")
    fake: str = Field(description="Its pseudonym, in the real value's layout.")


def normalize(kind: Kind, value: str) -> str:
    """The form two spellings of one value share (case, punctuation, layout removed)."""
    v = value.strip()
    if kind == "email":
        return deobfuscate_email(v).lower()
    if kind in ("domain", "username"):
        return v.lower()
    if kind in ("first_name", "last_name"):
        return v.casefold()
    if kind in ("street", "street2"):
        return " ".join(v.casefold().split())
    if kind == "phone":
        parts = parse_phone(v)
        return parts.cc + parts.nsn if parts else phone_digits(v)
    if kind in ("card", "ssn", "zip"):
        return re.sub(r"\D", "", v)
    if kind == "iban":
        return re.sub(r"[^A-Za-z0-9]", "", v).upper()
    if kind == "ip":
        try:
            return str(ipaddress.ip_address(v))
        except ValueError:
            return v
    if kind == "dob":
        parsed = parse_date(v)
        return parsed[0].isoformat() if parsed else v
    return v


def _dob_forms(day: dt.date) -> list[str]:
    return [
        day.isoformat(),
        f"{day:%m/%d/%Y}",
        f"{day:%Y/%m/%d}",
        f"{day:%B} {day.day}, {day.year}",
        f"{day:%b} {day.day}, {day.year}",
        f"{day.day} {day:%B} {day.year}",
    ]


class Pseudonymizer:
    """Consistent pseudonyms for one dataset.

    Args:
        key: the dataset key (at least 16 bytes; see :func:`load_key`). The same key and
            the same vault give the same fakes; another key gives unlinkable ones.
        entries: a vault's entries, to extend a previous run's map.
        locale: Faker locale of the fake names and streets.
    """

    def __init__(
        self, key: bytes, entries: Iterable[VaultEntry] = (), *, locale: str = "en_US"
    ) -> None:
        if len(key) < 16:
            raise VaultError("the dataset key must be at least 16 bytes (32 recommended)")
        self._key = key
        self._faker = Faker(locale)
        self._dates = DateWalk(key)
        self._entries: dict[tuple[Kind, str], VaultEntry] = {}
        self._used: dict[Kind, set[str]] = {}
        for e in entries:
            self._entries[(e.kind, normalize(e.kind, e.real))] = e
            self._used.setdefault(e.kind, set()).add(normalize(e.kind, e.fake))
        self._pending: dict[tuple[Kind, str], str] = {}
        self._known: KnownValues | None = None
        self._originals: KnownValues | None = None
        self._cache: dict[str, tuple[str, Counter[EntityType]]] = {}
        self._gendered: tuple[set[str], set[str]] | None = None

    # -- phase 1 ------------------------------------------------------------------------

    def observe(self, entity: Entity) -> None:
        """Note a private value; its fake is drawn at the next :meth:`finalize`.

        Values that are already fakes of this map are ignored, so scrubbing data that was
        built from scrubbed traces (a reconstructed snapshot) leaves their pseudonyms alone.
        """
        kind, value = entity
        value = value.strip()
        if kind == "email":
            value = deobfuscate_email(value)
        if not value or is_allowed(kind, value):
            return
        if kind in ("first_name", "last_name") and len(value) < 2:
            return
        key = (kind, normalize(kind, value))
        if key in self._entries or key in self._pending:
            return
        if key[1] in self._used.get(kind, ()):
            return  # one of our own fakes (a snapshot rebuilt from scrubbed traces): keep it
        self._pending[key] = value
        if kind == "email":
            domain = value.rpartition("@")[2]
            if not _fakes.is_reserved_domain(domain):
                self.observe(Entity("domain", domain))

    @property
    def pending(self) -> int:
        """How many observed values still wait for a fake."""
        return len(self._pending)

    # -- drawing ------------------------------------------------------------------------

    def _seeded(self, kind: Kind, norm: str, attempt: int) -> random.Random:
        msg = f"{kind}\x00{norm}\x00{attempt}".encode()
        seed = int.from_bytes(hmac.new(self._key, msg, hashlib.sha256).digest(), "big")
        self._faker.seed_instance(seed)
        return random.Random(seed)

    def _generate(self, kind: Kind, real: str, attempt: int, names: _fakes.NameLookup) -> str:
        rng = self._seeded(kind, normalize(kind, real), attempt)
        f = self._faker
        match kind:
            case "first_name":
                return _fakes.match_case(real, self._first_name_like(real))
            case "last_name":
                return _fakes.match_case(real, f.last_name())
            case "domain":
                return _fakes.fake_domain(f, real)
            case "email":
                return _fakes.fake_email(rng, f, real, names, self._domain_fake)
            case "username":
                return _fakes.fake_username(rng, f, real, names)
            case "street":
                return _fakes.fake_street(f, real)
            case "street2":
                return _fakes.fake_street2(rng, f, real)
            case "zip":
                # Past 30 attempts the 3-digit region is full of real codes: widen to 2 digits.
                return _fakes.fake_zip(rng, real, keep=3 if attempt < 30 else 2)
            case "dob":
                parsed = parse_date(real)
                if parsed is None:
                    raise PrivacyError("a date of birth that is not a date reached the generator")
                day, fmt = parsed
                nudge = (attempt + 1) // 2 * (1 if attempt % 2 else -1)
                return (self._dates.fake(day) + dt.timedelta(days=nudge)).strftime(fmt)
            case "phone":
                return _fakes.fake_phone(rng, real)
            case "card":
                return _fakes.fake_card(rng, real)
            case "ssn":
                return _fakes.fake_ssn(rng, real)
            case "iban":
                return _fakes.fake_iban(rng, real)
            case "ip":
                return _fakes.fake_ip(rng, real)
            case "secret":
                if decode_jwt(real) is not None:
                    return rewrite_jwt(real, self._replace_claims, self._signing_key(), rng)
                return _fakes.fake_secret(rng, real)
        raise PrivacyError(f"no generator for kind {kind!r}")

    def _first_name_like(self, real: str) -> str:
        """A first name of the same gender as ``real`` when Faker's lists tell it."""
        if self._gendered is None:
            female: set[str] = set()
            male: set[str] = set()
            for provider in self._faker.get_providers():
                female.update(getattr(provider, "first_names_female", ()))
                male.update(getattr(provider, "first_names_male", ()))
            self._gendered = (female - male, male - female)
        title = real[:1].upper() + real[1:].lower()
        if title in self._gendered[0]:
            return str(self._faker.first_name_female())
        if title in self._gendered[1]:
            return str(self._faker.first_name_male())
        return str(self._faker.first_name())

    def _replace_claims(self, text: str) -> str:
        assert self._known is not None
        return self._known.replace(text)[0]

    def _signing_key(self) -> bytes:
        return hmac.new(self._key, b"deploysim/jwt-replay-key/v1", hashlib.sha256).digest()

    def _domain_fake(self, domain: str) -> str:
        entry = self._entries.get(("domain", domain.lower()))
        return entry.fake if entry else domain

    def _name_lookup(self) -> _fakes.NameLookup:
        table: dict[str, str] = {}
        for kind in ("last_name", "first_name"):  # a first name wins over a last name
            for (k, norm), e in self._entries.items():
                if k == kind:
                    table[norm.lower()] = e.fake.lower()
        return table.get

    def _draw(
        self, kind: Kind, norm: str, real: str, originals: KnownValues, names: _fakes.NameLookup
    ) -> str:
        used = self._used.setdefault(kind, set())
        for attempt in range(_ATTEMPTS):
            fake = self._generate(kind, real, attempt, names)
            fake_norm = normalize(kind, fake)
            # A domain is checked as emails will use it, where identifier rules apply.
            probe = f"x1@{fake}" if kind == "domain" else fake
            if fake_norm == norm or fake_norm in used or originals.hits(probe):
                continue
            used.add(fake_norm)
            return fake
        raise PrivacyError(
            f"could not draw a {entity_type_of(kind)} pseudonym that differs from every "
            f"original value in {_ATTEMPTS} attempts ({self.fingerprint(kind, norm)})"
        )

    def finalize(self) -> None:
        """Draw fakes for every pending value; earlier fakes are kept as they are."""
        if not self._pending:
            if self._known is None:
                self._rebuild()
            return
        pending = self._pending
        self._pending = {}
        self._originals = None
        originals = self.leak_matcher(extra=pending)
        jwts: list[tuple[Kind, str]] = []
        for kind in _ORDER:
            names = self._name_lookup() if kind in ("email", "username") else _no_names
            for key in sorted(k for k in pending if k[0] == kind):
                real = pending[key]
                if kind == "secret" and decode_jwt(real) is not None:
                    jwts.append(key)
                    continue
                fake = self._draw(kind, key[1], real, originals, names)
                self._entries[key] = VaultEntry(kind=kind, real=real, fake=fake)
        self._rebuild()
        for key in jwts:  # claims inside use the final map, so they come last
            fake = self._draw("secret", key[1], pending[key], originals, _no_names)
            self._entries[key] = VaultEntry(kind="secret", real=pending[key], fake=fake)
        if jwts:
            self._rebuild()

    def _rebuild(self) -> None:
        self._known = self._matcher(self._entries.values(), with_fakes=True)
        self._cache.clear()

    # -- matching -----------------------------------------------------------------------

    def _matcher(self, entries: Iterable[VaultEntry], *, with_fakes: bool) -> KnownValues:
        kv = KnownValues()
        for e in entries:
            _add_forms(kv, e, with_fakes)
        return kv

    def leak_matcher(self, extra: dict[tuple[Kind, str], str] | None = None) -> KnownValues:
        """A matcher of every original value (and ``extra`` pending ones), without fakes."""
        if extra is None and self._originals is not None:
            return self._originals
        entries = list(self._entries.values())
        for (kind, _), real in (extra or {}).items():
            entries.append(VaultEntry(kind=kind, real=real, fake=real))
        kv = self._matcher(entries, with_fakes=False)
        if extra is None:
            self._originals = kv
        return kv

    def replace_text(self, text: str) -> tuple[str, Counter[EntityType]]:
        """``text`` with every known value replaced by its fake, and counts per type.

        Raises:
            PrivacyError: values were observed but :meth:`finalize` was not called since.
        """
        if self._pending:
            raise PrivacyError("observed values have no fakes yet: call finalize() first")
        if self._known is None:
            self._rebuild()
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        assert self._known is not None
        result = self._known.replace(text)
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[text] = result
        return result

    def find_originals(self, text: str) -> list[Hit]:
        """Every original value found in ``text`` (what the leak gate looks for)."""
        return self.leak_matcher().hits(text)

    def is_pseudonym(self, kind: Kind, value: str) -> bool:
        """Whether ``value`` is one of the map's fakes (of any kind of the same entity type)."""
        etype = entity_type_of(kind)
        return any(
            normalize(k, value) in used
            for k, used in self._used.items()
            if entity_type_of(k) == etype
        )

    def fingerprint(self, kind: Kind, norm: str) -> str:
        """A keyed, non-reversible tag for a value, safe to print (``PERSON#3fa2c1``)."""
        mac = hmac.new(self._key, f"fp\x00{kind}\x00{norm}".encode(), hashlib.sha256)
        return f"{entity_type_of(kind)}#{mac.hexdigest()[:8]}"

    def fingerprint_of(self, rep: Rep) -> str:
        """The fingerprint of the value a matcher hit stands for."""
        return self.fingerprint(rep.kind, normalize(rep.kind, rep.real))

    def entries(self) -> list[VaultEntry]:
        """The map so far (what a vault stores), sorted for stable files."""
        return sorted(self._entries.values(), key=lambda e: (e.kind, normalize(e.kind, e.real)))

    def counts(self) -> dict[EntityType, int]:
        """How many distinct real values of each type have a pseudonym."""
        out: Counter[EntityType] = Counter(entity_type_of(e.kind) for e in self._entries.values())
        return dict(sorted(out.items()))


def _no_names(_: str) -> str | None:
    return None


def _add_forms(kv: KnownValues, e: VaultEntry, with_fakes: bool) -> None:
    """Register every form of ``e`` that text may contain."""

    def rep(fake: str) -> Rep:
        return Rep(e.kind, e.real, fake if with_fakes else None)

    kind, real, fake = e.kind, e.real, e.fake
    if kind in ("secret", "ip") and ":" not in real:
        kv.literals_cs.add(real, rep(fake))
    elif kind in ("ip", "username", "street", "street2"):
        kv.literals_ci.add(real, rep(fake))
    elif kind == "email":
        kv.emails.add(real, rep(fake))
        kv.emails.add(quote(real, safe=""), rep(quote(fake, safe="")))
    elif kind == "domain":
        kv.domains.add(real, rep(fake))
    elif kind in ("first_name", "last_name"):
        kv.names.add(real, rep(fake))
    elif kind in ("zip", "card", "ssn"):
        kv.digits.add(re.sub(r"\D", "", real), rep(re.sub(r"\D", "", fake)))
    elif kind == "iban":
        kv.ibans.add(normalize("iban", real), rep(normalize("iban", fake)))
    elif kind == "phone":
        _add_phone_forms(kv, real, fake, rep)
    elif kind == "dob":
        real_day, fake_day = parse_date(real), parse_date(fake)
        if real_day and fake_day:
            for r, f in zip(_dob_forms(real_day[0]), _dob_forms(fake_day[0]), strict=True):
                kv.literals_cs.add(r, rep(f))
        kv.literals_cs.add(real, rep(fake))


def _add_phone_forms(kv: KnownValues, real: str, fake: str, rep: Callable[[str], Rep]) -> None:
    parts = parse_phone(real)
    if parts is None:
        kv.digits.add(phone_digits(real), rep(phone_digits(fake)))
        return
    fake_nsn = phone_digits(fake)[-len(parts.nsn) :]
    fake_parts = PhoneParts(parts.cc, fake_nsn, parts.trunk)
    for r, f in zip(parts.variants(), fake_parts.variants(), strict=False):
        kv.digits.add(r, rep(f))
    kv.digits.add(phone_digits(real), rep(phone_digits(fake)))
