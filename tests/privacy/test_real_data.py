"""The scrubber on real agent traces (../shared/data: tau-bench airline, tau2 retail).

Ground truth comes from the datasets' own initial state (the user profiles behind the tool
results), not from the scrubber's detections, so a value the detectors never saw still
counts as a leak here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deploysim.privacy import Pseudonymizer, gate_files, scrub_value
from deploysim.traces import Trace, validate, write_traces

from .conftest import RealScrub

# Fields whose values may change; any other leaf of a tool result or argument must not.
PII_KEYS = {"user_id", "first_name", "last_name", "dob", "address1", "address2", "zip", "email"}


def _users(root: Path) -> dict[str, dict[str, Any]]:
    airline = json.loads((root / "tau-bench-airline/initial_state/users.json").read_text())
    retail = json.loads((root / "tau2-retail/initial_state/db.json").read_text())["users"]
    return {**airline, **retail}


def _dump(traces: list[Trace]) -> str:
    """Everything written for the traces except the tool specs (copied verbatim)."""
    return "\n".join(t.model_dump_json(exclude={"tools"}) for t in traces)


def _ground_truth(real: RealScrub) -> dict[str, set[str]]:
    """Private values of every user the traces mention, from the datasets' initial state."""
    users = _users(real.root)
    original = _dump([t for ts in real.originals.values() for t in ts])
    truth: dict[str, set[str]] = {
        k: set() for k in ("user_id", "email", "name", "dob", "street", "zip")
    }
    for uid, user in users.items():
        if uid not in original:
            continue
        truth["user_id"].add(uid)
        truth["email"].add(user["email"])
        people = [{**user["name"], "dob": user.get("dob")}, *user.get("saved_passengers", [])]
        for p in people:
            truth["name"].update({p["first_name"], p["last_name"]})
            if p.get("dob"):
                truth["dob"].add(p["dob"])
        truth["street"].add(user["address"]["address1"])
        truth["zip"].add(user["address"]["zip"])
    return truth


def test_no_original_private_value_survives(real: RealScrub) -> None:
    """No email, user id (it embeds the name), JSON-field name, date of birth, street or ZIP
    of a user the traces mention survives anywhere in the scrubbed traces (raw included)."""
    truth = _ground_truth(real)
    assert len(truth["email"]) > 50 and len(truth["name"]) > 50
    text = _dump(real.result.traces)
    lower = text.lower()
    survivors = {
        "email": [v for v in truth["email"] if v.lower() in lower],
        "user_id": [v for v in truth["user_id"] if v in text],
        "name": _found(rf"(?<![A-Za-z])(?:{'|'.join(truth['name'])})(?![a-z])", text),
        "dob": [v for v in truth["dob"] if v in text],
        "street": [v for v in truth["street"] if v in text],
        "zip": _found(rf"(?<!\d)(?:{'|'.join(truth['zip'])})(?!\d)", text),
    }
    assert {k: v for k, v in survivors.items() if v} == {}


def _found(pattern: str, text: str) -> list[str]:
    return sorted(set(re.findall(pattern, text)))


def _leaves(value: Any, key: str | None = None) -> Iterator[tuple[str | None, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v, key)
    else:
        yield key, value


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def test_only_private_fields_change(real: RealScrub) -> None:
    """In every tool result and argument, only leaves under private keys change, or free
    text that mentions a real user: flight numbers, airports, order/item/product/payment
    ids, prices, dates and statuses survive."""
    truth = _ground_truth(real)
    mention = re.compile(rf"\b(?:{'|'.join(truth['name'] | truth['user_id'])})\b")
    changed: dict[str | None, int] = {}
    unexplained: list[str | None] = []
    compared = 0

    def compare(a_doc: Any, b_doc: Any) -> None:
        nonlocal compared
        pairs = list(zip(_leaves(a_doc), _leaves(b_doc), strict=True))
        compared += len(pairs)
        for (k, a), (_, b) in pairs:
            if a != b:
                changed[k] = changed.get(k, 0) + 1
                if k not in PII_KEYS and not (isinstance(a, str) and mention.search(a)):
                    unexplained.append(k)

    originals = [t for ts in real.originals.values() for t in ts]
    for before, after in zip(originals, real.result.traces, strict=True):
        for old, new in zip(before.tool_calls(), after.tool_calls(), strict=True):
            compare(old.arguments, new.arguments)
        for old_r, new_r in zip(before.tool_results(), after.tool_results(), strict=True):
            if _json(old_r.output) is not None:
                compare(_json(old_r.output), _json(new_r.output))
    assert compared > 15_000
    assert unexplained == []
    assert {"first_name", "last_name", "email", "user_id"} <= set(changed)


def test_arguments_parse_and_validate_as_before(real: RealScrub) -> None:
    """Scrubbed arguments still parse (raw strings equal the parsed dicts) and every trace
    has exactly the validation findings (schema fit, pairing) it had before."""
    for before, after in zip(
        [t for ts in real.originals.values() for t in ts], real.result.traces, strict=True
    ):
        assert [(f.code, f.call_id) for f in validate(after)] == [
            (f.code, f.call_id) for f in validate(before)
        ]
        for call in after.tool_calls():
            if call.raw_arguments is not None:
                assert json.loads(call.raw_arguments) == call.arguments


def test_same_value_same_fake_across_traces(real: RealScrub) -> None:
    """Each real user id maps to one fake in every call of every trace of both datasets, and
    two real ids never share a fake."""
    mapping: dict[str, set[str]] = {}
    for before, after in zip(
        [t for ts in real.originals.values() for t in ts], real.result.traces, strict=True
    ):
        for old, new in zip(before.tool_calls(), after.tool_calls(), strict=True):
            if old.arguments and "user_id" in old.arguments:
                mapping.setdefault(old.arguments["user_id"], set()).add(new.arguments["user_id"])  # type: ignore[index]
    assert len(mapping) > 50
    assert all(len(fakes) == 1 for fakes in mapping.values())
    fakes = [next(iter(f)) for f in mapping.values()]
    assert len(set(fakes)) == len(fakes)
    repeated = sum(
        1
        for uid in mapping
        if sum(uid in t.model_dump_json() for t in real.originals["tau2-retail"]) > 1
    )
    assert repeated > 0  # the property is exercised across traces, not only within one


def test_gate_passes_scrubbed_and_fails_original(real: RealScrub, tmp_path: Path) -> None:
    """The leak gate passes the scrubbed output of both datasets and fails their originals."""
    write_traces(real.result.traces, tmp_path / "scrubbed.jsonl")
    report = gate_files([tmp_path / "scrubbed.jsonl"], real.pz)
    assert report.status == "pass" and report.strings > 100_000
    originals = [ts[i] for ts in real.originals.values() for i in range(3)]
    write_traces(originals, tmp_path / "original.jsonl")
    failed = gate_files([tmp_path / "original.jsonl"], real.pz)
    assert failed.status == "fail"
    assert {leak.entity_type for leak in failed.leaks} >= {
        "PERSON",
        "EMAIL_ADDRESS",
        "STREET_ADDRESS",
    }


@pytest.mark.parametrize("dataset", ["tau-bench-airline", "tau2-retail"])
def test_snapshot_scrubbed_with_the_same_map_matches_tool_results(
    real: RealScrub, dataset: str
) -> None:
    """The user table of the initial state, scrubbed with the same map (keys rewritten),
    holds exactly the scrubbed profile each get_user_details call returned, wherever the
    original call returned the original row: the rebuilt state stays faithful, pseudonymized."""
    root = real.root / dataset / "initial_state"
    users = (
        json.loads((root / "users.json").read_text())
        if dataset == "tau-bench-airline"
        else (json.loads((root / "db.json").read_text())["users"])
    )
    pz = Pseudonymizer(b"".join(bytes([i]) for i in range(32)), real.pz.entries())
    clean_users = scrub_value(users, pz, rewrite_keys=True)
    checked = 0
    traces = zip(real.originals[dataset], real.scrubbed[dataset], strict=True)
    for before, after in traces:
        calls = zip(before.tool_calls(), after.tool_calls(), strict=True)
        results = {r.call_id: r for r in before.tool_results()}
        new_results = {r.call_id: r for r in after.tool_results()}
        for old, new in calls:
            if old.name != "get_user_details" or old.id not in results:
                continue
            row = _drop_none(_json(results[old.id].output))
            if row is None or row != _drop_none(users.get(old.arguments["user_id"])):  # type: ignore[index]
                continue  # the trace had changed the row before this call
            fake_uid = new.arguments["user_id"]  # type: ignore[index]
            assert _drop_none(_json(new_results[old.id].output)) == _drop_none(
                clean_users[fake_uid]
            )
            checked += 1
    assert checked >= 10


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value
