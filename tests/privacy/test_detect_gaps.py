"""Finding 16: detection gaps closed by general rules, each beside decoys that must stay."""

from __future__ import annotations

import json

import pytest

from deploysim.privacy import Pseudonymizer, detect_text, scrub_value

from .conftest import KEY


def _found(text: str) -> list[tuple[str, str]]:
    return [(text[s.start : s.end], s.type) for s in detect_text(text)]


@pytest.mark.parametrize(
    "number",
    [
        "030 12345678",
        "0151 12345678",
        "07031 123456",
        "030/1234567",
        "+49 30 12345678",
        "+49 (0)30 1234567",
        "0049 30 1234567",
        "+49 151 1234 5678",
        "020 7946 0958",
        "06 12 34 56 78",
    ],
)
def test_national_phone_formats(number: str) -> None:
    """Phones in national layouts (German groups of 2 to 8 digits, a "(0)" trunk, 00 or +
    prefixes) are found whole by phonenumbers' matcher with regions."""
    assert _found(f"Ruf mich an: {number}, danke") == [(number, "PHONE_NUMBER")]


@pytest.mark.parametrize(
    "decoy",
    [
        "Release v1.2.3456789 is out",
        "order 2024 0520 1234 shipped",
        "at 2024-05-20 10:00:00 (unix 1773480413)",
        "price 1234.56 total 9876543",
        "build 10.0.19041.1234",
        "product_id 4768869376",
    ],
)
def test_phone_decoys_are_not_phones(decoy: str) -> None:
    """Version numbers, order ids, timestamps, prices and bare 10-digit ids are not phones."""
    assert [t for t in _found(decoy) if t[1] == "PHONE_NUMBER"] == []


def test_digits_only_numbers_in_phone_fields() -> None:
    """A `phone`/`mobile`/`tel` field holding digits only (an E.164 number without +, as a
    number or a string) is a phone; a `count` field holding the same digits is not."""
    value = {
        "phone": 4915112345678,
        "mobile": "4915112345678",
        "tel": "4930123456",
        "count": 4915112345678,
    }
    out = scrub_value(value, Pseudonymizer(KEY))
    assert out["phone"] != 4915112345678 and out["mobile"] != "4915112345678"
    assert out["tel"] != "4930123456" and out["count"] == 4915112345678
    assert isinstance(out["phone"], int) and str(out["phone"]).startswith("49")


def test_webhook_urls_are_secrets() -> None:
    """Slack, Discord and Teams webhook URLs and other hook URLs ending in a random token are
    secrets (the path part); hook URLs without a token are not."""
    slack = "https://hooks.slack.com/services/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"
    discord = "https://discord.com/api/webhooks/123456789012345678/aZ8kP2mQ9xV4bN7cT1yW6zL3pD5"
    other = "https://ci.example.com/hooks/aZ8kP2mQ9xV4bN7cT1yW"
    for url in (slack, discord, other):
        spans = detect_text(f"post to {url} now")
        assert [s.type for s in spans] == ["SECRET"] and url.endswith(
            f"post to {url} now"[spans[0].start : spans[0].end]
        )
    for decoy in ("https://example.com/webhooks/github-events", "https://x.example/hooks/42"):
        assert detect_text(decoy) == []


def test_street_addresses_in_prose() -> None:
    """A house number with capitalized words and a street suffix, or a German street and
    number, is an address; a ZIP code after a state code too. Decoys stay."""
    assert _found("Ship to 4821 Maple Grove Road, Austin, TX 78701 please") == [
        ("4821 Maple Grove Road", "STREET_ADDRESS"),
        ("78701", "ZIP_CODE"),
    ]
    assert _found("Lieferadresse: Lindenstraße 12, Berlin") == [
        ("Lindenstraße 12", "STREET_ADDRESS")
    ]
    for decoy in (
        "Street Fighter 2 and Route 66",
        "During 2011, sales grew",
        "Section 5 lists 12 items",
    ):
        assert _found(decoy) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Hi Maria,\nyour order shipped.", "Maria"),
        ("Dear Dr. Becker: see attached", "Becker"),
        ("Thanks, Jonas Becker", "Jonas Becker"),
        ("Best regards,\nJonas Becker\n", "Jonas Becker"),
        ("my name is Jonas Becker and I need help", "Jonas Becker"),
        ("Contact Maria Schmidt <m.schmidt@acme-shop.io> today", "Maria Schmidt"),
        ("mail maria@acme-shop.io (Maria Schmidt) now", "Maria Schmidt"),
    ],
)
def test_names_in_greeting_signature_and_email_positions(text: str, name: str) -> None:
    """Names are found in greeting and signature positions and beside an email whose local
    part confirms them, without NER."""
    assert (name, "PERSON") in _found(text)


@pytest.mark.parametrize(
    "decoy",
    [
        "Hi team, the build is green.",
        "Hello all, quick update.",
        "Thanks,\nThe Support Team",
        "Hi There,",
        "Thank you for your help",
        "Email Support <support@acme-shop.io>",
    ],
)
def test_greeting_decoys_are_not_names(decoy: str) -> None:
    """Words in a greeting's place that name no one ("Hi team,") are not names."""
    assert [t for t in _found(decoy) if t[1] == "PERSON"] == []


def test_obfuscated_emails_are_found_and_replaced_in_their_style() -> None:
    """ "name at domain dot com" and "name [at] domain [dot] com" are emails; they are
    replaced in the same style; "at" in ordinary prose is left alone."""
    pz = Pseudonymizer(KEY)
    spelled = "write jonas.becker at acme-shop dot io today"
    bracketed = "or jonas.becker [at] acme-shop [dot] io"
    assert _found(spelled) == [("jonas.becker at acme-shop dot io", "EMAIL_ADDRESS")]
    out = scrub_value([spelled, bracketed, "jonas.becker@acme-shop.io"], pz)
    assert "jonas" not in json.dumps(out) and "acme-shop" not in json.dumps(out)
    assert " at " in out[0] and " dot " in out[0] and " [at] " in out[1] and " [dot] " in out[1]
    assert out[0].split(" ")[1] == out[2].split("@")[0]  # the same fake as the plain form
    for decoy in (
        "We met at noon at the office.",
        "Look at example.com for docs",
        "meet at 10 dot 30",
    ):
        assert _found(decoy) == []
