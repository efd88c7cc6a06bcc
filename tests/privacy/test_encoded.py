"""Finding 15: private values inside encodings are found on their own and replaced in place."""

from __future__ import annotations

import base64
import html
import json
import random
import re
from pathlib import Path
from urllib.parse import unquote

from deploysim.privacy import Pseudonymizer, gate_files, scrub_traces, scrub_value
from deploysim.privacy._layers import layers
from deploysim.traces import write_traces

from .conftest import KEY
from .planted import planted_traces, score

EMAIL = "lena.vogel@acme-shop.io"
KEY_VALUE = "sk-proj-Xa81KqLm29ZpVb7TnWc3Rd5Yf0HgJe4Ls6Pu"


def test_planted_values_in_every_encoding_are_found_on_their_own(tmp_path: Path) -> None:
    """Each planted value appears once, only encoded (base64, URL, HTML entities, JSON in a
    string, base64 of JSON) or only plain: every one is replaced, no decoy changes, and the
    gate passes with no planted value left."""
    planted = planted_traces(7, seed=11)
    pz = Pseudonymizer(KEY)
    result = scrub_traces(planted.traces, pz)
    scores = score(planted, result.traces)
    assert {
        f: (t.planted, t.found) for f, t in scores["by_form"].items() if t.found != t.planted
    } == {}
    assert {k: t.decoys_changed for k, t in scores["by_kind"].items() if t.decoys_changed} == {}
    write_traces(result.traces, tmp_path / "out.jsonl")
    assert gate_files([tmp_path / "out.jsonl"], pz).passed


def test_base64_stays_valid_base64_of_the_scrubbed_text() -> None:
    """A base64 blob (padded, unpadded and URL-safe) is rewritten as base64 of the scrubbed
    text, in the same alphabet; the rest of the string is unchanged."""
    pz = Pseudonymizer(KEY)
    text = f"owner {EMAIL} key {KEY_VALUE}"
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for raw in (text, text + "!", text + "!!"):
            blob = encode(raw.encode()).decode()
            out = scrub_value(f"blob={blob};", pz)
            new = out[len("blob=") : -1]
            assert out.startswith("blob=") and out.endswith(";")
            padded = new + "=" * (-len(new) % 4)
            decoded = (
                base64.urlsafe_b64decode if "_" in blob or "-" in blob else base64.b64decode
            )(padded).decode()
            assert decoded.startswith("owner ") and " key sk-proj-" in decoded
            assert EMAIL not in decoded and KEY_VALUE not in decoded


def test_url_encoding_and_html_entities_are_kept() -> None:
    """A URL-encoded query stays URL-encoded and decodes to the scrubbed text, the rest of
    the URL byte for byte; HTML entities stay entities and the markup around is kept."""
    pz = Pseudonymizer(KEY)
    tail = "&tag=a%2Bb+c&n=%C3%A9t%C3%A9"
    url = "https://crm.example/search?q=" + "".join(f"%{b:02X}" for b in EMAIL.encode()) + tail
    out = scrub_value(url, pz)
    # Around the replaced value, the URL keeps its bytes (an encoded + stays encoded).
    assert out.startswith("https://crm.example/search?q=") and out.endswith(tail)
    assert "@" not in out and "%40" in out
    decoded = unquote(out)
    assert EMAIL not in decoded and re.search(r"q=[\w.+-]+@[\w.-]+&tag=a\+b\+c&n=été$", decoded)
    page = "<p>" + "".join(f"&#{ord(c)};" for c in EMAIL) + " &amp; co</p>"
    new_page = scrub_value(page, pz)
    assert "&#64;" in new_page and "&amp; co</p>" in new_page and "@" not in new_page
    assert EMAIL not in html.unescape(new_page) and "@" in html.unescape(new_page)


def test_json_in_base64_in_json_gets_field_hints() -> None:
    """JSON inside base64 inside a JSON string is walked with its field hints: a digits-only
    number in its `phone` field is replaced, and each layer still parses."""
    pz = Pseudonymizer(KEY)
    inner = base64.b64encode(json.dumps({"phone": 4915112345678, "note": "ok"}).encode()).decode()
    value = json.dumps({"blob": inner})
    out = json.loads(scrub_value(value, pz))
    decoded = json.loads(base64.b64decode(out["blob"]))
    assert decoded["note"] == "ok" and decoded["phone"] != 4915112345678
    assert str(decoded["phone"]).startswith("49") and len(str(decoded["phone"])) == 13


def test_random_tokens_and_hashes_are_not_decoded() -> None:
    """Ids, hashes and random base64 tokens are not "decoded" into garbage: of 2,000 random
    tokens (base64 of random bytes, hex digests, mixed ids) none yields a decoded layer."""
    rng = random.Random(5)
    tokens = []
    for _ in range(500):
        tokens.append(base64.b64encode(rng.randbytes(rng.randint(12, 48))).decode())
        tokens.append(rng.randbytes(32).hex())
        tokens.append(
            "call_" + "".join(rng.choices("abcdefghijklmnopqrstuvwxyzABCDEFGH0123456789", k=24))
        )
        tokens.append(base64.urlsafe_b64encode(rng.randbytes(24)).decode().rstrip("="))
    assert [t for t in tokens if layers(f"id {t}")] == []
