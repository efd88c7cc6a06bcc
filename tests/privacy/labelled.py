"""Labelled data made offline, for recall and precision per entity type.

- sentences: presidio-evaluator's templates (data/presidio_templates.txt, MIT) filled by a
  seeded Faker, with the span of every filled placeholder labelled;
- secrets: lines holding generated keys of known shapes, and decoy lines (hashes, ids,
  usage counters, placeholders) that must not be flagged;
- records: JSON tool results (user profiles, orders) whose private leaves are labelled,
  beside decoy leaves (ids, product names, prices, dates, statuses).

Used by tests (small samples) and by bench/privacy.py (full measurement).
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NamedTuple

from faker import Faker

TEMPLATES = Path(__file__).parent / "data" / "presidio_templates.txt"


class Gold(NamedTuple):
    start: int
    end: int
    type: str


class Sample(NamedTuple):
    text: str
    spans: list[Gold]


def _placeholders(f: Faker) -> dict[str, tuple[str | None, Callable[[], str]]]:
    """Placeholder -> (label, generator); label None means filler that is not private here."""

    def address() -> str:
        return str(f.address()).replace("\n", ", ")

    def ip() -> str:
        return str(f.ipv4_public() if f.random.random() < 0.8 else f.ipv6())

    return {
        "person": ("PERSON", f.name),
        "name": ("PERSON", f.name),
        "name_male": ("PERSON", f.name_male),
        "name_female": ("PERSON", f.name_female),
        "first_name": ("PERSON", f.first_name),
        "first_name_male": ("PERSON", f.first_name_male),
        "first_name_female": ("PERSON", f.first_name_female),
        "first_name_nonbinary": ("PERSON", f.first_name_nonbinary),
        "last_name": ("PERSON", f.last_name),
        "last_name_male": ("PERSON", f.last_name_male),
        "last_name_female": ("PERSON", f.last_name_female),
        "email": ("EMAIL_ADDRESS", f.email),
        "phone_number": ("PHONE_NUMBER", f.phone_number),
        "credit_card_number": ("CREDIT_CARD", f.credit_card_number),
        "iban": ("IBAN_CODE", f.iban),
        "ip_address": ("IP_ADDRESS", ip),
        "ssn": ("US_SSN", f.ssn),
        "address": ("STREET_ADDRESS", address),
        "street_name": ("STREET_ADDRESS", f.street_name),
        "building_number": (None, f.building_number),
        "secondary_address": ("STREET_ADDRESS", f.secondary_address),
        "postcode": ("ZIP_CODE", f.postcode),
        "zipcode": ("ZIP_CODE", f.zipcode),
        "date_of_birth": ("DATE_OF_BIRTH", lambda: f.date_of_birth().isoformat()),
        "city": (None, f.city),
        "country": (None, f.country),
        "state_abbr": (None, f.state_abbr),
        "organization": (None, f.company),
        "job": (None, f.job),
        "url": (None, f.url),
        "age": (None, lambda: str(f.random_int(18, 90))),
        "year": (None, f.year),
        "date_time": (None, lambda: f.date_time().isoformat(sep=" ")),
        "day_of_week": (None, f.day_of_week),
        "nationality": (None, lambda: "Canadian"),
        "nation_woman": (None, lambda: "Canadian"),
        "nation_plural": (None, lambda: "Canadians"),
        "prefix": (None, f.prefix),
        "prefix_male": (None, f.prefix_male),
        "prefix_female": (None, f.prefix_female),
        "us_driver_license": (None, lambda: f.bothify("?#######").upper()),
    }


_SLOT = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


def sentences(n: int, seed: int = 0) -> list[Sample]:
    """``n`` labelled sentences from presidio-evaluator's templates (seeded, offline)."""
    templates = [t.strip() for t in TEMPLATES.read_text(encoding="utf-8").splitlines() if t.strip()]
    f = Faker("en_US")
    f.seed_instance(seed)
    rng = random.Random(seed)
    slots = _placeholders(f)
    out: list[Sample] = []
    for _ in range(n):
        template = rng.choice(templates)
        text = ""
        spans: list[Gold] = []
        pos = 0
        for m in _SLOT.finditer(template):
            text += template[pos : m.start()]
            label, make = slots.get(m.group(1), (None, lambda: "something"))
            value = str(make())
            if label:
                spans.append(Gold(len(text), len(text) + len(value), label))
            text += value
            pos = m.end()
        text += template[pos:]
        out.append(Sample(text, spans))
    return out


def _rand(rng: random.Random, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def secret_lines(n: int, seed: int = 0) -> list[Sample]:
    """``n`` lines: about half hold a labelled secret, the rest are decoys."""
    rng = random.Random(seed)
    upper = string.ascii_uppercase + string.digits
    makers: list[Callable[[], tuple[str, str]]] = [
        lambda: ("export OPENAI_API_KEY={}", "sk-proj-" + _rand(rng, 48)),
        lambda: ("ANTHROPIC_API_KEY={}", "sk-ant-api03-" + _rand(rng, 40)),
        lambda: (
            "git remote set-url origin https://{}@github.com/acme/app",
            "ghp_" + _rand(rng, 36),
        ),
        lambda: ("slack token: {}", "xoxb-" + _rand(rng, 12, string.digits) + "-" + _rand(rng, 24)),
        lambda: ("aws_access_key_id = {}", "AKIA" + _rand(rng, 16, upper)),
        lambda: ("stripe.api_key = '{}'", "sk_live_" + _rand(rng, 24)),
        lambda: ("db: postgres://app:{}@db.internal:5432/prod", _rand(rng, 14) + "!"),
        lambda: ("password={}", _rand(rng, 10)),
        lambda: ("curl -H 'Authorization: Bearer {}' https://api.acme.io", _rand(rng, 40)),
        lambda: ("GOOGLE_KEY {}", "AIza" + _rand(rng, 35)),
        lambda: ("gitlab {}", "glpat-" + _rand(rng, 20)),
        lambda: ("hf {}", "hf_" + _rand(rng, 34)),
    ]
    decoys: list[Callable[[], str]] = [
        lambda: "commit " + _rand(rng, 40, "0123456789abcdef"),
        lambda: "sha256:" + _rand(rng, 64, "0123456789abcdef"),
        lambda: "request-id " + str(Faker().uuid4()),
        lambda: "chatcmpl-" + _rand(rng, 29) + " finished",
        lambda: "tool call call_" + _rand(rng, 24),
        lambda: f"max_tokens={rng.randint(100, 8000)} prompt_tokens: {rng.randint(10, 900)}",
        lambda: "OPENAI_API_KEY=${OPENAI_API_KEY} password=*** api_key: <your-key>",
        lambda: f"version {rng.randint(0, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 40)} built",
        lambda: "image data:image/png;base64," + _rand(rng, 60, string.ascii_letters + "+/"),
        lambda: "token_type: bearer, expires_in: 3600",
    ]
    out: list[Sample] = []
    for i in range(n):
        if i % 2 == 0:
            template, secret = rng.choice(makers)()
            start = template.index("{}")
            out.append(
                Sample(template.format(secret), [Gold(start, start + len(secret), "SECRET")])
            )
        else:
            out.append(Sample(rng.choice(decoys)(), []))
    return out


class Record(NamedTuple):
    value: dict[str, Any]
    private: dict[str, str]  # dotted path -> entity type of leaves that must change


def records(n: int, seed: int = 0) -> list[Record]:
    """``n`` JSON tool results: a profile with labelled private leaves and decoy leaves."""
    f = Faker("en_US")
    f.seed_instance(seed)
    out: list[Record] = []
    for i in range(n):
        first, last = f.first_name(), f.last_name()
        value = {
            "user_id": f"{first.lower()}_{last.lower()}_{f.random_int(1000, 9999)}",
            "name": {"first_name": first, "last_name": last},
            "email": f"{first}.{last}{f.random_int(10, 99)}@{f.free_email_domain()}".lower(),
            "phone": f.numerify("(###) 555-####").replace("(0", "(2").replace("(1", "(3"),
            "dob": f.date_of_birth(minimum_age=18, maximum_age=90).isoformat(),
            "address": {
                "address1": f.street_address(),
                "city": f.city(),
                "state": f.state_abbr(),
                "zip": f.zipcode(),
            },
            "ssn": f.ssn(),
            "payment": {"card_number": f.credit_card_number(), "brand": f.credit_card_provider()},
            "orders": [
                {
                    "order_id": f"#W{f.random_int(1000000, 9999999)}",
                    "items": [{"name": f.catch_phrase(), "price": round(f.pyfloat(2, 2, True), 2)}],
                    "status": f.random_element(["pending", "delivered", "cancelled"]),
                    "placed": f.date_this_year().isoformat(),
                }
            ],
            "membership": f.random_element(["gold", "silver", "regular"]),
            "record": i,
        }
        private = {
            "user_id": "USERNAME",
            "name.first_name": "PERSON",
            "name.last_name": "PERSON",
            "email": "EMAIL_ADDRESS",
            "phone": "PHONE_NUMBER",
            "dob": "DATE_OF_BIRTH",
            "address.address1": "STREET_ADDRESS",
            "address.zip": "ZIP_CODE",
            "ssn": "US_SSN",
            "payment.card_number": "CREDIT_CARD",
        }
        out.append(Record(value, private))
    return out


def leaves(value: Any, path: str = "") -> Iterable[tuple[str, Any]]:
    """(dotted path, leaf) pairs; list items keep their parent's path."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        for v in value:
            yield from leaves(v, path)
    else:
        yield path, value


class Score(NamedTuple):
    gold: int
    found: int
    predicted: int
    correct: int

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else float("nan")

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else float("nan")


def score_spans(
    samples: Iterable[Sample], predict: Callable[[str], list[tuple[int, int, str]]]
) -> dict[str, Score]:
    """Overlap match on the same type: recall over gold spans, precision over predictions.

    A predicted ZIP code inside a labelled street address is correct: the templates label
    a whole address ("342 Lori Bypass, East Sandra, MP 11019") as one STREET_ADDRESS span.
    """
    counts: dict[str, list[int]] = {}
    for s in samples:
        pred = predict(s.text)
        for g in s.spans:
            c = counts.setdefault(g.type, [0, 0, 0, 0])
            c[0] += 1
            c[1] += any(p[2] == g.type and p[0] < g.end and g.start < p[1] for p in pred)
        for p in pred:
            c = counts.setdefault(p[2], [0, 0, 0, 0])
            c[2] += 1
            c[3] += any(
                (p[2] == g.type or (p[2], g.type) == ("ZIP_CODE", "STREET_ADDRESS"))
                and p[0] < g.end
                and g.start < p[1]
                for g in s.spans
            )
    return {t: Score(*c) for t, c in sorted(counts.items())}
