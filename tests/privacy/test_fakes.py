from __future__ import annotations

import datetime as dt
import ipaddress
import random
import re

import phonenumbers
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st
from schwifty import IBAN

from deploysim.privacy._dates import DateWalk
from deploysim.privacy._fakes import (
    fake_card,
    fake_email,
    fake_iban,
    fake_ip,
    fake_phone,
    fake_secret,
    fake_ssn,
    fake_street,
    fake_street2,
    fake_zip,
    luhn_digit,
    match_case,
)

from .conftest import KEY


def _luhn_ok(number: str) -> bool:
    digits = re.sub(r"\D", "", number)
    return luhn_digit(digits[:-1]) == digits[-1]


@given(
    st.integers(min_value=0, max_value=10_000),
    st.sampled_from(
        ["4539 1488 0343 6467", "378282246310005", "5105-1051-0510-5106", "6011000990139424123"]
    ),
)
@settings(max_examples=60, deadline=None)
def test_cards_keep_layout_brand_and_luhn(seed: int, real: str) -> None:
    """A fake card has the real one's layout and first two digits, and passes Luhn."""
    fake = fake_card(random.Random(seed), real)
    assert re.sub(r"\d", "9", fake) == re.sub(r"\d", "9", real)
    assert fake[:2] == real[:2] and _luhn_ok(fake) and fake != real


@given(
    st.integers(min_value=0, max_value=10_000),
    st.sampled_from(
        [
            "DE89 3704 0044 0532 0130 00",
            "GB29NWBK60161331926819",
            "FR14 2004 1010 0505 0001 3M02 606",
            "NL91ABNA0417164300",
        ]
    ),
)
@settings(max_examples=40, deadline=None)
def test_ibans_keep_country_layout_and_checksum(seed: int, real: str) -> None:
    """A fake IBAN has the real one's country, bank, length and spacing, and validates."""
    fake = fake_iban(random.Random(seed), real)
    parsed, original = IBAN(fake, validate_bban=True), IBAN(real)
    assert parsed.country_code == original.country_code and parsed.bank_code == original.bank_code
    assert len(fake) == len(real) and [i for i, c in enumerate(fake) if c == " "] == [
        i for i, c in enumerate(real) if c == " "
    ]
    assert parsed.compact != original.compact


def test_phones_keep_layout_and_stay_fictional_or_valid() -> None:
    """NANP fakes are in the fictional 555-01XX block; other countries stay valid; the
    punctuation of the real number is kept."""
    rng = random.Random(7)
    for real in ("+1 (415) 867-5309", "415.867.5309", "1-800-867-5309"):
        fake = fake_phone(rng, real)
        assert re.sub(r"\d", "9", fake) == re.sub(r"\d", "9", real)
        assert re.sub(r"\D", "", fake)[-7:-2] == "55501"
    for real in ("+44 20 7946 0958", "020 7946 0958", "+33 1 23 45 67 89"):
        fake = fake_phone(rng, real)
        assert re.sub(r"\d", "9", fake) == re.sub(r"\d", "9", real) and fake != real
        intl = fake if fake.startswith("+") else "+44" + fake[1:].replace(" ", "")
        assert phonenumbers.is_valid_number(phonenumbers.parse(intl))


def test_small_formats() -> None:
    """SSNs avoid invalid areas, ZIPs keep their region, streets their house-number length,
    secondary lines their words, IPs land in reserved ranges, secrets keep prefix and charset."""
    rng = random.Random(3)
    faker = Faker("en_US")
    faker.seed_instance(3)
    for _ in range(50):
        ssn = fake_ssn(rng, "536-22-1847")
        assert re.fullmatch(r"\d{3}-\d{2}-\d{4}", ssn) and ssn[:3] not in ("000", "666")
        assert not ssn.startswith("9") and ssn[4:6] != "00" and ssn[7:] != "0000"
    assert fake_zip(rng, "78750")[:3] == "787"
    assert re.fullmatch(r"\d{3} \S.*", fake_street(faker, "975 Sunset Drive"))
    assert re.fullmatch(r"Suite \d{3}", fake_street2(rng, faker, "Suite 217"))
    assert ipaddress.ip_address(fake_ip(rng, "192.168.1.20")) in ipaddress.ip_network("10.0.0.0/8")
    public = ipaddress.ip_address(fake_ip(rng, "81.2.69.142"))
    assert any(
        public in ipaddress.ip_network(n)
        for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
    )
    assert ipaddress.ip_address(fake_ip(rng, "2a00:1450::1")) in ipaddress.ip_network(
        "2001:db8::/32"
    )
    real = "sk-proj-Xa81KqLm29ZpVb7TnWc3Rd5Yf0HgJe4Ls6Pu"
    fake = fake_secret(rng, real)
    assert fake.startswith("sk-proj-") and len(fake) == len(real) and fake != real
    assert [c.isdigit() for c in fake] == [c.isdigit() for c in real]


def test_email_follows_the_owner_and_case() -> None:
    """An email's local part takes the fake name tokens; digits are redrawn; the domain maps."""
    faker = Faker("en_US")
    names = {"mia": "sofia", "li": "garcia"}.get
    fake = fake_email(random.Random(1), faker, "mia.li3818@acme.io", names, lambda d: "x.example")
    assert re.fullmatch(r"sofia\.garcia\d{4}@x\.example", fake) and "3818" not in fake
    assert match_case("MIA", "sofia") == "SOFIA" and match_case("mia", "Sofia") == "sofia"


@given(
    st.dates(min_value=dt.date(1901, 1, 1), max_value=dt.date(2099, 1, 1)),
    st.dates(min_value=dt.date(1901, 1, 1), max_value=dt.date(2099, 1, 1)),
)
@settings(max_examples=200, deadline=None)
def test_date_walk_keeps_order_and_plausible_ages(a: dt.date, b: dt.date) -> None:
    """Dates keep their order, move by at most ~4 months, and never map to themselves."""
    walk = _WALK
    fa, fb = walk.fake(a), walk.fake(b)
    if a <= b:
        assert fa <= fb
    assert fa != a and abs((fa - a).days) <= 125


_WALK = DateWalk(KEY)
