"""Finding 17: inspect logs are scrubbed everywhere: attachments, metadata, store, events."""

from __future__ import annotations

import base64
import copy
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from deploysim.privacy import scrub_files

FIXTURE = Path(__file__).parents[1] / "traces" / "fixtures" / "inspect" / "tiny_log.json"
ATTACHMENT = "a1" * 16

# Planted values, each in a part of the sample other than its messages.
PLANTED = {
    "attachment_email": "lena.vogel@acme-shop.io",
    "attachment_card": "4539 1488 0343 6467",
    "attachment_phone_de": "030 12345678",
    "metadata_id_email": "k.brandt@northwind-mail.de",
    "metadata_phone": "+49 151 2345 6789",
    "metadata_secret": "sk-proj-Xa81KqLm29ZpVb7TnWc3Rd5Yf0HgJe4Ls6Pu",
    "store_iban": "DE89 3704 0044 0532 0130 00",
    "store_compact_phone": "4915112345678",
    "event_patch_phone": "+44 20 7946 0958",
    "event_secret": "ghp_R8aK2mQ9xV4bN7cT1yW6zL3pD5fG0hJ8sE2u",
    "event_ip": "81.2.69.142",
    "event_base64_email": "otto.krause@example-bank.com",
}


def _sample() -> dict[str, Any]:
    log = json.loads(FIXTURE.read_text())
    sample: dict[str, Any] = copy.deepcopy(log["samples"][0])
    p = PLANTED
    sample["attachments"][ATTACHMENT] = (
        f"Customer note: mail {p['attachment_email']}, card {p['attachment_card']}, "
        f"Festnetz {p['attachment_phone_de']}."
    )
    sample["metadata"] = {
        "difficulty": "easy",
        "customer": {"id": p["metadata_id_email"], "contact": p["metadata_phone"]},
        "deploy": {"api_key": p["metadata_secret"]},
    }
    sample["store"] = {
        "Profile:iban": p["store_iban"],
        "Profile:mobile": p["store_compact_phone"],
    }
    note = base64.b64encode(f"forward to {p['event_base64_email']}".encode()).decode()
    sample["events"] += [
        {
            "timestamp": "2026-01-20T10:00:09+00:00",
            "event": "tool",
            "type": "function",
            "id": "toolu_09",
            "function": "bash",
            "arguments": {"cmd": "cat notes"},
            "result": f"attachment://{ATTACHMENT}",
        },
        {
            "timestamp": "2026-01-20T10:00:10+00:00",
            "event": "store",
            "changes": [{"op": "add", "path": "/Profile:phone", "value": p["event_patch_phone"]}],
        },
        {
            "timestamp": "2026-01-20T10:00:11+00:00",
            "event": "info",
            "source": "app",
            "data": {"client": p["event_ip"], "msg": f"token {p['event_secret']}"},
        },
        {
            "timestamp": "2026-01-20T10:00:12+00:00",
            "event": "model",
            "model": "m",
            "input": [],
            "tools": [],
            "tool_choice": "auto",
            "config": {},
            "output": {"model": "m", "choices": []},
            "call": {
                "request": {
                    "messages": [{"role": "user", "content": f"data:text/plain;base64,{note}"}]
                },
                "response": {},
            },
        },
    ]
    return sample


def _write_eval(path: Path) -> Path:
    """A .eval zipped the way inspect writes one: header, one member per sample, summaries."""
    log = json.loads(FIXTURE.read_text())
    sample = _sample()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("header.json", json.dumps({k: v for k, v in log.items() if k != "samples"}))
        zf.writestr(f"samples/{sample['id']}_epoch_1.json", json.dumps(sample))
        zf.writestr("summaries.json", "[]")
        zf.writestr("reductions.json", "[]")
    return path


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


def test_the_hand_made_log_is_valid_for_inspect(tmp_path: Path) -> None:
    """inspect_ai itself reads the planted log, attachments and events included."""
    inspect_log = pytest.importorskip("inspect_ai.log")
    log = inspect_log.read_eval_log(str(_write_eval(tmp_path / "planted.eval")))
    assert log.samples is not None and log.samples[0].store["Profile:iban"]
    assert log.samples[0].attachments[ATTACHMENT].startswith("Customer note")


def test_no_planted_value_survives_in_attachments_metadata_store_or_events(
    tmp_path: Path,
) -> None:
    """Scrubbing a .eval replaces every planted value wherever the sample holds it (the
    attachment pool, sample metadata, the store, store patches, info and model events,
    base64 inside a model call); the gate passes and no value is left in any form."""
    out = tmp_path / "out.jsonl"
    report = scrub_files([_write_eval(tmp_path / "planted.eval")], out)
    assert report.gate == "pass", [str(leak) for leak in report.leaks]
    text = out.read_text()
    raw = json.loads(text.splitlines()[0])["raw"]
    blob = raw["events"][-1]["call"]["request"]["messages"][0]["content"].split(",", 1)[1]
    decoded = base64.b64decode(blob, validate=True).decode()
    assert decoded.startswith("forward to ")
    haystack = text + "\n" + decoded
    survivors = [
        name
        for name, value in PLANTED.items()
        if value.lower() in haystack.lower()
        or (len(_digits(value)) >= 9 and _digits(value) in _digits(haystack))
    ]
    assert survivors == []
    assert raw["attachments"][ATTACHMENT].startswith("Customer note: mail ")
    assert raw["events"][-4]["result"] == f"attachment://{ATTACHMENT}"
