"""Planted private values and decoys in traces, generated offline from a seed (no real data).

Each trace answers one tool call per item: a planted value written in one form (plain,
base64, URL encoding, HTML entities, JSON inside a string, base64 of JSON, a digits-only
number in a ``phone`` field), or a decoy that looks private but is not (version numbers,
order ids, timestamps, hashes, random base64 tokens, "at" in prose, "Hi team,", webhook
URLs without a token). A planted value appears in one place and one form only, so nothing
can be found because it was seen plain elsewhere.

Scoring (:func:`score`): a planted value is *found* when no form of it is left in its
scrubbed result (decoded the way it was encoded, compared case-insensitively and by its
digits); a decoy is *changed* when its result differs at all. Recall is per kind and per
form; precision per kind counts the decoys that look like that kind.

Used by tests/privacy/test_planted.py (small sets) and bench/privacy.py (the figures).
"""

from __future__ import annotations

import base64
import html
import json
import random
import re
import string
from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import quote, unquote

from faker import Faker

from deploysim.traces import Message, Text, ToolCall, ToolResult, Trace, TraceSource

__all__ = ["FORMS", "Item", "PlantedSet", "planted_traces", "score"]


class Item(NamedTuple):
    """One tool result: a planted value (``private``) or a decoy, written in ``form``."""

    kind: str
    form: str
    value: str
    output: str
    private: bool


class PlantedSet(NamedTuple):
    """Traces and, per trace, the items of its tool results in order."""

    traces: list[Trace]
    items: list[list[Item]]


def _b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def _entities(s: str) -> str:
    # Letters and @ as numeric entities, as HTML mailers and templating engines write them.
    return "".join(f"&#{ord(c)};" if c.isalnum() or c in "@." else html.escape(c) for c in s)


ENCODERS: dict[str, Callable[[str], str]] = {
    "plain": lambda s: s,
    "base64": lambda s: "payload " + _b64(s),
    "url": lambda s: "https://crm.example/api/search?q=" + quote(s, safe=""),
    "html": lambda s: "<p>" + _entities(s) + "</p>",
    "json": lambda s: json.dumps({"note": json.dumps({"text": s})}),
    "base64_json": lambda s: json.dumps({"blob": _b64(json.dumps({"text": s}))}),
}
FORMS = (*ENCODERS, "phone_field")

DECODERS: dict[str, Callable[[str], str]] = {
    "plain": lambda s: s,
    "base64": lambda s: base64.b64decode(s.split(" ", 1)[1]).decode(errors="replace"),
    "url": lambda s: unquote(s.split("?q=", 1)[1]),
    "html": lambda s: html.unescape(s),
    "json": lambda s: json.loads(json.loads(s)["note"])["text"],
    "base64_json": lambda s: json.loads(base64.b64decode(json.loads(s)["blob"]))["text"],
    "phone_field": lambda s: str(json.loads(s)["phone"]),
}


def _german_phone(rng: random.Random) -> str:
    """A valid German number as written nationally: ``030 1234567``, ``0151 23456789``."""
    import phonenumbers

    while True:
        area = rng.choice(["030", "089", "040", "0221", "0711", "0151", "0160", "0176"])
        n = rng.choice([7, 8])
        subscriber = rng.choice("123456789") + "".join(rng.choices("0123456789", k=n - 1))
        number = f"{area} {subscriber}"
        if phonenumbers.is_valid_number(phonenumbers.parse(number, "DE")):
            return number


def _values(f: Faker, rng: random.Random) -> list[tuple[str, str, str]]:
    """``(kind, value, sentence)``: each value set in a sentence a trace would hold."""
    first, last = f.first_name(), f.last_name()
    email = f"{first.lower()}.{last.lower()}{rng.randint(1, 99)}@{f.domain_word()}-mail.com"
    slack_token = "".join(rng.choices(string.ascii_letters + string.digits, k=24))
    slack = (
        f"https://hooks.slack.com/services/T{rng.randrange(16**8):08X}/"
        f"B{rng.randrange(16**8):08X}/{slack_token}"
    )
    key = "sk-proj-" + "".join(
        rng.choices("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMN0123456789", k=40)
    )
    de_phone = _german_phone(rng)
    intl_phone = "+49 " + _german_phone(rng)[1:]
    street = f"{rng.randint(10, 9999)} {f.street_name()}"
    stem = rng.choice(["Linden", "Garten", "Schiller", "Bahnhof", "Berg"])
    de_street = f"{stem}straße {rng.randint(1, 120)}"
    user, dom = email.split("@")
    obfuscated = f"{user} [at] {dom.rsplit('.', 1)[0]} [dot] com"
    spelled = f"{user} at {dom.rsplit('.', 1)[0]} dot com"
    return [
        ("EMAIL_ADDRESS", email, f"Please reply to {email} today."),
        ("EMAIL_ADDRESS", obfuscated, f"Write to {obfuscated} if needed."),
        ("EMAIL_ADDRESS", spelled, f"or {spelled} works too."),
        ("PHONE_NUMBER", de_phone, f"Festnetz: {de_phone}"),
        ("PHONE_NUMBER", intl_phone, f"Call me on {intl_phone} after six."),
        ("SECRET", slack, f"Alerts go to {slack}"),
        ("SECRET", key, f"OPENAI_API_KEY={key}"),
        ("PERSON", first, f"Hi {first},\nyour order shipped."),
        ("PERSON", f"{first} {last}", f"Thanks,\n{first} {last}"),
        ("STREET_ADDRESS", street, f"Ship it to {street}, Springfield."),
        ("STREET_ADDRESS", de_street, f"Lieferadresse: {de_street}, 10115 Berlin"),
        ("CREDIT_CARD", f.credit_card_number("visa16"), ""),
    ]


def _decoys(f: Faker, rng: random.Random) -> list[tuple[str, str]]:
    """``(kind it looks like, text)``."""
    token = base64.b64encode(rng.randbytes(18)).decode()
    return [
        (
            "PHONE_NUMBER",
            f"Release v{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 300)}",
        ),
        ("PHONE_NUMBER", f"Order ORD-{rng.randint(2019, 2026)}-{rng.randint(100000, 999999)}"),
        (
            "PHONE_NUMBER",
            f"at {f.date_time().isoformat()} (unix {rng.randint(1600000000, 1800000000)})",
        ),
        ("PHONE_NUMBER", f"product_id {rng.randint(1000000000, 9999999999)}"),
        ("SECRET", f"commit {rng.randbytes(20).hex()}"),
        ("SECRET", f"sha256 {rng.randbytes(32).hex()}"),
        ("SECRET", f"request id {token}"),
        ("SECRET", "https://api.github.com/repos/acme/app/hooks/12345678"),
        ("SECRET", "https://example.com/webhooks/github-events"),
        ("EMAIL_ADDRESS", "We met at noon at the office, then looked at example.com."),
        ("EMAIL_ADDRESS", f"Look at {f.domain_name()} for the docs."),
        ("PERSON", "Hi team,\nthe build is green."),
        ("PERSON", "Hello all, quick update."),
        ("PERSON", "Thanks,\nThe Support Team"),
        ("STREET_ADDRESS", "Street Fighter 2 and Route 66 are classics."),
        ("STREET_ADDRESS", f"Section {rng.randint(1, 9)} lists {rng.randint(2, 40)} items."),
    ]


def _item_for(kind: str, value: str, sentence: str, form: str) -> Item:
    if form == "phone_field":
        digits = re.sub(r"\D", "", value)
        number: int | str = int("49" + digits[1:]) if digits.startswith("0") else int(digits)
        return Item(kind, form, value, json.dumps({"name": "home", "phone": number}), True)
    return Item(kind, form, value, ENCODERS[form](sentence or value), True)


def _trace(i: int, items: list[Item]) -> Trace:
    calls = [
        ToolCall(id=f"call_{i}_{k}", name="fetch", arguments={"n": k}) for k in range(len(items))
    ]
    results = [
        ToolResult(call_id=c.id, output=it.output) for c, it in zip(calls, items, strict=True)
    ]
    return Trace(
        id=f"planted-{i}",
        source=TraceSource(format="canonical"),
        messages=[
            Message(role="user", parts=[Text(text="Look these up for me.")]),
            Message(role="assistant", parts=list(calls)),
            Message(role="tool", parts=list(results)),
            Message(role="assistant", parts=[Text(text="Done.")]),
        ],
    )


def planted_traces(n: int, seed: int = 0) -> PlantedSet:
    """``n`` traces; each plants every value kind in one form (rotating) and every decoy."""
    rng = random.Random(seed)
    f = Faker("en_US")
    f.seed_instance(seed)
    forms = list(ENCODERS)
    traces, all_items = [], []
    for i in range(n):
        items = []
        for j, (kind, value, sentence) in enumerate(_values(f, rng)):
            form = forms[(i + j) % len(forms)]
            items.append(_item_for(kind, value, sentence, form))
        phone = next(v for k, v, _ in _values(f, rng) if k == "PHONE_NUMBER")
        items.append(_item_for("PHONE_NUMBER", phone, "", "phone_field"))
        for kind, text in _decoys(f, rng):
            form = "plain" if i % 2 == 0 else forms[rng.randrange(len(forms))]
            items.append(Item(kind, form, text, ENCODERS[form](text), False))
        traces.append(_trace(i, items))
        all_items.append(items)
    return PlantedSet(traces, all_items)


def _survives(item: Item, output: str) -> bool:
    try:
        decoded = DECODERS[item.form](output)
    except (ValueError, KeyError, IndexError, TypeError):
        decoded = output
    hay = decoded.lower() + "\n" + output.lower()
    if item.value.lower() in hay:
        return True
    digits = re.sub(r"\D", "", item.value)
    if item.kind in ("PHONE_NUMBER", "CREDIT_CARD") and len(digits) >= 7:
        return digits.lstrip("0") in re.sub(r"\D", "", hay)
    if item.kind == "PERSON":
        return any(re.search(rf"\b{re.escape(t.lower())}\b", hay) for t in item.value.split())
    return False


class Tally(NamedTuple):
    """Counts behind a recall or precision figure."""

    planted: int
    found: int
    decoys: int
    decoys_changed: int


def score(planted: PlantedSet, scrubbed: list[Trace]) -> dict[str, dict[str, Tally]]:
    """Recall and precision counts per kind and per form (see the module docstring)."""
    by_kind: dict[str, list[int]] = {}
    by_form: dict[str, list[int]] = {}
    for items, trace in zip(planted.items, scrubbed, strict=True):
        outputs = [r.output for r in trace.tool_results()]
        for item, out in zip(items, outputs, strict=True):
            for table, key in ((by_kind, item.kind), (by_form, item.form)):
                c = table.setdefault(key, [0, 0, 0, 0])
                if item.private:
                    c[0] += 1
                    c[1] += not _survives(item, out)
                else:
                    c[2] += 1
                    c[3] += out != item.output
    return {
        "by_kind": {k: Tally(*v) for k, v in sorted(by_kind.items())},
        "by_form": {k: Tally(*v) for k, v in sorted(by_form.items())},
    }
