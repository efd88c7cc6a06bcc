from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from pathlib import Path

import pytest

from deploysim.privacy import (
    Entity,
    PrivacyError,
    Pseudonymizer,
    VaultEntry,
    VaultError,
    create_key_file,
    load_key,
    load_vault,
    open_pseudonymizer,
    save_vault,
)

from .conftest import JWT, KEY


def _pz(*entities: Entity, key: bytes = KEY) -> Pseudonymizer:
    pz = Pseudonymizer(key)
    for e in entities:
        pz.observe(e)
    pz.finalize()
    return pz


def test_same_key_same_fakes_other_key_other_fakes() -> None:
    """Fakes are a function of key and value: two pseudonymizers with one key agree; another
    key disagrees on every value."""
    values = [
        Entity("first_name", "Mia"),
        Entity("email", "mia.li@acme.io"),
        Entity("phone", "415-867-5309"),
    ]
    a, b, c = _pz(*values), _pz(*reversed(values)), _pz(*values, key=b"\x09" * 32)
    assert a.entries() == b.entries()
    assert all(x.fake != y.fake for x, y in zip(a.entries(), c.entries(), strict=True))


def test_later_observations_extend_without_changing_fakes() -> None:
    """Finalizing again after new observations keeps every earlier fake."""
    pz = _pz(Entity("first_name", "Mia"), Entity("last_name", "Li"))
    before = {e.real: e.fake for e in pz.entries()}
    pz.observe(Entity("first_name", "Noah"))
    pz.observe(Entity("first_name", "mia"))  # same value, other case: no new entry
    pz.finalize()
    after = {e.real: e.fake for e in pz.entries()}
    assert {k: after[k] for k in before} == before and set(after) == {"Mia", "Li", "Noah"}


def test_replace_text_needs_finalize() -> None:
    """Replacing with values still pending is an error, not a silent partial scrub."""
    pz = Pseudonymizer(KEY)
    pz.observe(Entity("email", "mia.li@acme.io"))
    with pytest.raises(PrivacyError, match="finalize"):
        pz.replace_text("mia.li@acme.io")


def test_variants_of_one_value_map_consistently() -> None:
    """Case variants of names and emails, and punctuation/country-code variants of a phone,
    all map to the one fake, written in the variant's own style."""
    pz = _pz(
        Entity("first_name", "Mia"),
        Entity("email", "Mia.Li@acme.io"),
        Entity("phone", "+1 (415) 867-5309"),
    )
    fake_name = next(e.fake for e in pz.entries() if e.kind == "first_name")
    text, counts = pz.replace_text(
        "Mia / MIAMI / mia_li_3668 / MIA.LI@ACME.IO / 415.867.5309 / 4158675309 / +14158675309"
    )
    parts = text.split(" / ")
    assert parts[0] == fake_name and parts[1] == "MIAMI"
    assert parts[2].startswith(fake_name.lower() + "_")
    assert parts[3] == parts[3].upper() and "ACME" not in parts[3]
    digits = [p.replace(".", "").replace("+1", "") for p in parts[4:]]
    assert len(set(digits)) == 1 and digits[0] != "4158675309"
    assert counts["PHONE_NUMBER"] == 3


def test_names_inside_random_ids_and_codes_are_not_names() -> None:
    """A short name inside a random id, or in capitals as an airport code, is left alone."""
    pz = _pz(Entity("first_name", "Li"), Entity("first_name", "Mia"))
    text = "call_2xzbrH6DkKxcu4LiAB2Rdipb flew MIA to JFK; customerMiaRecord"
    out, _ = pz.replace_text(text)
    assert out.startswith("call_2xzbrH6DkKxcu4LiAB2Rdipb flew MIA to JFK; customer")
    assert "Mia" not in out


def test_fakes_never_contain_an_original() -> None:
    """No fake contains any original value as the leak gate sees it (collisions redrawn)."""
    firsts = ["Mia", "Noah", "Emma", "James", "Sofia", "Olivia", "Liam", "Ava", "Lucas", "Ethan"]
    lasts = ["Li", "Smith", "Garcia", "Brown", "Lopez", "Kim", "Taylor", "Moore", "Silva", "Khan"]
    pz = _pz(
        *(Entity("first_name", n) for n in firsts),
        *(Entity("last_name", n) for n in lasts),
        *(Entity("street", f"{i}1 Elm Street") for i in range(10)),
    )
    for e in pz.entries():
        assert pz.find_originals(e.fake) == [], e.kind


def test_jwt_claims_follow_the_map_and_are_resigned() -> None:
    """A JWT's claims are pseudonymized with the map (the email inside becomes the same fake
    email) and an HS256 token is re-signed with the replay key derived from the dataset key."""
    pz = _pz(Entity("email", "jonathan.reyes@acme-shop.io"), Entity("secret", JWT))
    fake_email = next(e.fake for e in pz.entries() if e.kind == "email")
    fake = next(e.fake for e in pz.entries() if e.kind == "secret")
    head, payload, sig = fake.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["email"] == fake_email and head == JWT.split(".")[0]
    replay = hmac.new(KEY, b"deploysim/jwt-replay-key/v1", hashlib.sha256).digest()
    expected = hmac.new(replay, f"{head}.{payload}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)) == expected


def test_short_keys_are_refused() -> None:
    """A dataset key under 16 bytes is refused."""
    with pytest.raises(VaultError, match="16 bytes"):
        Pseudonymizer(b"short")


def test_vault_round_trip_is_encrypted(tmp_path: Path) -> None:
    """A vault reopens with its key to the same entries; its file holds no real or fake
    value in clear; a pseudonymizer built from it draws nothing new."""
    pz = _pz(Entity("email", "jonathan.reyes@acme-shop.io"), Entity("first_name", "Jonathan"))
    path = tmp_path / "v.vault"
    assert save_vault(path, KEY, pz.entries()) == len(pz.entries())
    raw = path.read_text()
    assert all(e.real.lower() not in raw.lower() and e.fake not in raw for e in pz.entries())
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    entries = load_vault(path, KEY)
    assert entries == pz.entries()
    again = Pseudonymizer(KEY, entries)
    again.finalize()
    assert again.replace_text("Jonathan")[0] == pz.replace_text("Jonathan")[0]


def test_vault_errors_name_the_file(tmp_path: Path) -> None:
    """A wrong key, a non-vault file and an unreadable path raise VaultError naming the file."""
    path = tmp_path / "v.vault"
    save_vault(path, KEY, [VaultEntry(kind="first_name", real="Mia", fake="Sofia")])
    with pytest.raises(VaultError, match=r"v\.vault: cannot open vault: wrong key"):
        load_vault(path, b"\x02" * 32)
    (tmp_path / "bad.vault").write_text('{"format": "other"}')
    with pytest.raises(VaultError, match=r"bad\.vault: not a vault file"):
        load_vault(tmp_path / "bad.vault", KEY)
    with pytest.raises(VaultError, match=r"missing\.vault: cannot read vault"):
        load_vault(tmp_path / "missing.vault", KEY)


def test_key_files(tmp_path: Path) -> None:
    """Key files are created once (0600, 32 random bytes), never overwritten, and malformed
    ones are refused; a vault without a key file is refused."""
    path = tmp_path / "k.key"
    key = create_key_file(path)
    assert len(key) == 32 and load_key(path) == key
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    with pytest.raises(VaultError, match="exists already"):
        create_key_file(path)
    (tmp_path / "bad.key").write_text("not a key")
    with pytest.raises(VaultError, match=r"bad\.key: not a key file"):
        load_key(tmp_path / "bad.key")
    with pytest.raises(VaultError, match="needs a key file"):
        open_pseudonymizer(None, tmp_path / "v.vault")
    assert open_pseudonymizer(tmp_path / "new.key", None).entries() == []
    assert (tmp_path / "new.key").exists()


def test_common_word_names_only_in_person_context() -> None:
    """A surname that is also a word (West, Brown) is replaced as a whole field value, beside
    another name part, after a title, or inside an identifier, but not as a plain word."""
    pz = _pz(
        Entity("first_name", "Corey"), Entity("last_name", "West"), Entity("last_name", "Brown")
    )
    fake = {e.real: e.fake for e in pz.entries()}
    text, _ = pz.replace_text(
        "Corey West flew to the West Coast; Mr. Brown wore brown, dark-brown."
    )
    assert text == (
        f"{fake['Corey']} {fake['West']} flew to the West Coast; "
        f"Mr. {fake['Brown']} wore brown, dark-brown."
    )
    assert pz.replace_text("West")[0] == fake["West"]
    assert (
        pz.replace_text("corey_west_12")[0] == f"{fake['Corey'].lower()}_{fake['West'].lower()}_12"
    )
