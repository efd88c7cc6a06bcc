"""Recall and precision on offline-labelled data (small samples; bench/privacy.py runs more)."""

from __future__ import annotations

from deploysim.privacy import Pseudonymizer, detect_text, scrub_value

from .conftest import KEY
from .labelled import leaves, records, score_spans, secret_lines, sentences


def _predict(text: str) -> list[tuple[int, int, str]]:
    return [(s.start, s.end, s.type) for s in detect_text(text)]


def test_pattern_entities_in_template_sentences() -> None:
    """On sentences from presidio-evaluator's templates, pattern entities are found with
    high recall and no false positive; street addresses in prose are found by their shape,
    names only in greeting and signature positions (no NER), both with no false positive."""
    scores = score_spans(sentences(400, seed=1), _predict)
    for etype in ("EMAIL_ADDRESS", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS"):
        if etype in scores and scores[etype].gold:
            assert scores[etype].recall == 1.0, etype
    assert scores["PHONE_NUMBER"].recall >= 0.85
    assert all(s.precision == 1.0 for s in scores.values() if s.predicted)
    assert scores["STREET_ADDRESS"].recall >= 0.5
    assert scores["PERSON"].gold > 100 and scores["PERSON"].recall < 0.2  # the documented gap


def test_secrets_found_and_decoys_left() -> None:
    """Every generated secret is found whole; no decoy line (hashes, ids, usage counters,
    placeholders, base64 images) is flagged."""
    samples = secret_lines(200, seed=2)
    assert score_spans(samples, _predict)["SECRET"].recall == 1.0
    assert [s.text for s in samples if not s.spans and detect_text(s.text)] == []


def test_json_records_private_leaves_change_decoys_stay() -> None:
    """In generated tool results every labelled private leaf changes; ids, prices, statuses,
    dates and product names stay (cities made of Faker names may follow the name map)."""
    recs = records(60, seed=3)
    clean = scrub_value([r.value for r in recs], Pseudonymizer(KEY))
    missed, touched = [], []
    for rec, new in zip(recs, clean, strict=True):
        for (path, a), (_, b) in zip(leaves(rec.value), leaves(new), strict=True):
            if path in rec.private and a == b:
                missed.append(path)
            if path not in rec.private and a != b and path != "address.city":
                touched.append(path)
    assert missed == [] and touched == []
