from __future__ import annotations

import pytest

from deploysim.privacy import detect_text
from deploysim.privacy._hints import dict_hints, entities_for_hint
from deploysim.privacy._pii import is_phone, parse_phone
from deploysim.privacy._secrets import detect_secrets, is_secret_value

from .conftest import JWT

SECRETS = [
    "sk-proj-Xa81KqLm29ZpVb7TnWc3Rd5Yf0HgJe4Ls6Pu",
    "sk-ant-api03-Zq8Wm3Kx7Lp2Vb9Tn4Rc6Yd1Hf5Gj0Se8Ua2",
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "ghp_R8aK2mQ9xV4bN7cT1yW6zL3pD5fG0hJ8sE2u",
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuv",
    "xoxb-2048-4096-Zk9mQ2xV7bN4cT1yW6zL",
    "AKIAZ7Q4MDL2TXW9KPRN",
    "AIzaSyA1bC2dE3fG4hI5jK6lM7nO8pQ9rS0tUvW",
    "glpat-Zk9mQ2xV7bN4cT1yW6zL",
    "hf_Zk9mQ2xV7bN4cT1yW6zLp3Dq8Rs5Tu0VwXy",
    JWT,
]


@pytest.mark.parametrize("secret", SECRETS)
def test_prefixed_secrets_are_found_whole(secret: str) -> None:
    """Each vendor key shape is detected as one SECRET span covering the whole token (JWTs
    with their signature)."""
    text = f"config: key {secret} end"
    spans = [s for s in detect_text(text) if s.type == "SECRET"]
    assert [text[s.start : s.end] for s in spans] == [secret]


def test_private_key_block_url_password_bearer_and_assignments() -> None:
    """PEM blocks, URL passwords, bearer tokens and password/secret assignments are secrets;
    only the secret part of a URL or assignment is taken."""
    pem = (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Zk9mQ2xV7bN4cT1yW6z\n"
        "-----END RSA PRIVATE KEY-----"
    )
    text = (
        f"{pem}\nurl=postgres://admin:S3cr3t-Pass!2026@db.acme.io/app\n"
        "Authorization: Bearer Zk9mQ2xV7bN4cT1yW6zLp3Dq8Rs5\npassword = hunter2Secret\n"
        "client_secret: 'x9KfQ2mZ7vLp4Tn8'\n"
    )
    found = {text[s.start : s.end] for s in detect_secrets(text)}
    assert {
        pem,
        "S3cr3t-Pass!2026",
        "Zk9mQ2xV7bN4cT1yW6zLp3Dq8Rs5",
        "hunter2Secret",
        "x9KfQ2mZ7vLp4Tn8",
    } <= found


@pytest.mark.parametrize(
    "text",
    [
        "commit 3f786850e387550fdab836ed7e6dc881de23001b",
        "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "request 9b2c4d6e-1f3a-4b5c-8d7e-6f5a4b3c2d1e",
        "id chatcmpl-AbC123xyz and call_oIHazX6yQrB8hUwl4cRilFKj",
        "max_tokens=2000 prompt_tokens: 433 token_type: bearer",
        "OPENAI_API_KEY=${OPENAI_API_KEY} password=*** api_key: <your-key>",
        "version 1.2.3, build 2024-05-20T10:00:00Z, at 15:00:00",
        "product 4768869376 order #W4923227 ts 1773480413 price 321.18",
        "flight HAT069 on 2024-05-20 from JFK, lat 37.7749",
    ],
)
def test_decoys_are_not_detected(text: str) -> None:
    """Hashes, ids, usage counters, placeholders, versions, timestamps, product ids and
    prices are not private data."""
    assert detect_text(text) == []


@pytest.mark.parametrize(
    ("text", "etype"),
    [
        ("mail jane.doe@acme.io now", "EMAIL_ADDRESS"),
        ("call +1 (415) 867-5309 now", "PHONE_NUMBER"),
        ("call 415.867.5309 now", "PHONE_NUMBER"),
        ("call 1-800-867-5309 now", "PHONE_NUMBER"),
        ("call +44 20 7946 0958 now", "PHONE_NUMBER"),
        ("call 020 7946 0958 now", "PHONE_NUMBER"),
        ("card 4539 1488 0343 6467 now", "CREDIT_CARD"),
        ("iban DE89 3704 0044 0532 0130 00 now", "IBAN_CODE"),
        ("ssn 536-22-1847 now", "US_SSN"),
        ("from 81.2.69.142 now", "IP_ADDRESS"),
    ],
)
def test_pattern_pii_is_found(text: str, etype: str) -> None:
    """presidio's validated recognizers and the phone detector find their entity."""
    assert [s.type for s in detect_text(text)] == [etype]


def test_validators_reject_lookalikes() -> None:
    """A card failing Luhn, an IBAN with a bad checksum, a test card and docs IPs are kept."""
    text = (
        "card 4539 1488 0343 6468, iban DE88 3704 0044 0532 0130 00, stripe 4242 4242 4242 4242, "
        "docs 203.0.113.7, local 127.0.0.1"
    )
    assert detect_text(text) == []


def test_secret_beats_email_inside_url_credentials() -> None:
    """A password followed by @host is a SECRET, not the start of an email."""
    text = "postgres://admin:hunter2pw@db.acme.io/x"
    spans = detect_text(text)
    assert [(s.type, text[s.start : s.end]) for s in spans] == [("SECRET", "hunter2pw")]


def test_phone_rules() -> None:
    """Compact digit runs count only in a phone field; NANP needs its layout; all forms of a
    number (punctuation, country code, national trunk 0) share country and NSN."""
    assert not is_phone("4158675309") and is_phone("4158675309", hinted=True)
    assert not is_phone("2024-05-15 15")
    assert not is_phone("123-456-7890")  # area code cannot start with 1
    a, b, c = (parse_phone(p) for p in ("+1 (415) 867-5309", "415-867-5309", "14158675309"))
    assert a == b and a is not None and a.nsn == "4158675309"
    assert c == a  # a hinted compact number normalizes to the same number
    assert parse_phone("+44 20 7946 0958") == parse_phone("020 7946 0958")


def test_field_hints() -> None:
    """Keys say what values are; `name` is a person only in a person-like record."""
    person = {"name": "Mia Li", "email": "x@y.io", "dob": "1990-04-05", "zip": "78750"}
    assert dict_hints(person, None) == {
        "name": "person",
        "email": "email",
        "dob": "dob",
        "zip": "zip",
    }
    assert dict_hints({"name": "Bluetooth Speaker", "price": 3}, "items") == {}
    assert dict_hints({"name": "get_user_details", "arguments": {}}, None) == {}
    assert dict_hints({"name": "Mia Li"}, "passenger") == {"name": "person"}
    assert dict_hints({"name": "get_user", "email": "a@b.io"}, None, {"get_user"}) == {
        "email": "email"
    }
    assert dict_hints({"apiKey": "Zk9mQ2xV7bN4cT1y"}, None) == {"apiKey": "secret"}
    assert dict_hints({"firstName": "Mia", "lastName": "Li"}, None) == {
        "firstName": "first_name",
        "lastName": "last_name",
    }


def test_hinted_values_are_shape_checked() -> None:
    """A hinted field still needs a plausible value: no person from lower-case words, no DOB
    from a non-date, no card failing Luhn."""
    assert entities_for_hint("person", "bluetooth speaker") == []
    assert [e.value for e in entities_for_hint("person", "Dr. Mary-Ann O'Neil")] == [
        "Mary-Ann",
        "O'Neil",
    ]
    assert entities_for_hint("dob", "unknown") == []
    assert entities_for_hint("card", "4539 1488 0343 6468") == []
    assert not is_secret_value("token_count", "Zk9mQ2xV7bN4cT1yW6zL")
    assert is_secret_value("db_password", "pw-2026!")
