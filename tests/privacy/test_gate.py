from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest

from deploysim.privacy import Entity, Pseudonymizer, gate_files, gate_text, scrub_traces
from deploysim.traces import write_traces

from .conftest import KEY, PRIVATE, make_trace

EMAIL = PRIVATE["email"]


@pytest.fixture
def known() -> Pseudonymizer:
    pz = Pseudonymizer(KEY)
    for e in (
        Entity("email", EMAIL),
        Entity("first_name", "Jonathan"),
        Entity("phone", PRIVATE["phone"]),
    ):
        pz.observe(e)
    pz.finalize()
    return pz


@pytest.mark.parametrize(
    ("text", "layer"),
    [
        (f"contact {EMAIL}", "text"),
        (f"https://x.example/?to={quote(EMAIL, safe='')}", "text"),
        ("https://x.example/?q=%4Aonathan%20said%20hi", "url"),
        ("note: Jonathan &amp; co".replace("Jonathan", "&#74;onathan"), "html"),
        (
            "blob " + base64.b64encode(json.dumps({"user": {"mail": EMAIL}}).encode()).decode(),
            "base64",
        ),
        (
            json.dumps(
                {"inner": json.dumps({"n": "Jonath\u00e1n", "m": EMAIL})}, ensure_ascii=True
            ),
            "text",
        ),
        ("phone 4158675309 stored compact", "text"),
    ],
)
def test_gate_finds_values_in_every_layer(known: Pseudonymizer, text: str, layer: str) -> None:
    """The gate finds original values as written, URL-encoded, HTML-escaped, inside base64
    JSON, inside escaped nested JSON, and digits in any punctuation."""
    leaks = gate_text(text, known, "artifact", "loc")
    assert leaks and {leak.layer for leak in leaks} >= {layer}


def test_gate_reports_never_contain_values(known: Pseudonymizer) -> None:
    """A leak names artifact, location, type and a keyed fingerprint, never the value; the
    same value gets the same fingerprint."""
    leaks = gate_text(f"{EMAIL} and again {EMAIL.upper()}", known, "out.jsonl", "line 3")
    dump = json.dumps([leak.model_dump() for leak in leaks]) + "".join(map(str, leaks))
    assert "jonathan" not in dump.lower() and "acme" not in dump.lower()
    assert len(leaks) == 1 and leaks[0].entity_type == "EMAIL_ADDRESS"
    assert leaks[0].fingerprint.startswith("EMAIL_ADDRESS#")


def test_gate_passes_scrubbed_and_fails_unscrubbed(tmp_path: Path) -> None:
    """On the synthetic trace the gate passes the scrubbed output and fails the input, with
    leaks located by line, trace id and field path (raw and attachments included)."""
    pz = Pseudonymizer(KEY)
    trace = make_trace()
    clean = scrub_traces([trace], pz).traces
    write_traces(clean, tmp_path / "clean.jsonl")
    write_traces([trace], tmp_path / "dirty.jsonl")
    ok = gate_files([tmp_path / "clean.jsonl"], pz)
    assert ok.passed and ok.status == "pass" and ok.strings > 50
    bad = gate_files([tmp_path / "dirty.jsonl"], pz)
    assert bad.status == "fail"
    where = {leak.location.split(": ", 1)[1].split("[")[0].split(".")[0] for leak in bad.leaks}
    assert {"messages", "metadata", "raw"} <= where
    assert any("attachments" in leak.location for leak in bad.leaks)
    assert all(leak.location.startswith("line 1 (id synthetic-0): ") for leak in bad.leaks)


def test_base64_in_a_tool_result_is_scrubbed_inside_the_blob(tmp_path: Path) -> None:
    """A value inside base64 in a tool result is replaced inside the blob, which stays valid
    base64 of the scrubbed text; the gate passes the output."""
    trace = make_trace()
    msg = trace.messages[5]
    part = msg.parts[0]
    blob = base64.b64encode(f"owner: {EMAIL}".encode()).decode()
    hidden = part.model_copy(update={"output": part.output + "\nblob " + blob})  # type: ignore[union-attr]
    trace = trace.model_copy(
        update={
            "messages": [
                *trace.messages[:5],
                msg.model_copy(update={"parts": [hidden]}),
                *trace.messages[6:],
            ]
        }
    )
    pz = Pseudonymizer(KEY)
    clean = scrub_traces([trace], pz).traces[0]
    out = clean.messages[5].parts[0].output  # type: ignore[union-attr]
    new_blob = out.rsplit("blob ", 1)[1]
    decoded = base64.b64decode(new_blob, validate=True).decode()
    assert decoded.startswith("owner: ") and EMAIL not in decoded and "@" in decoded
    write_traces([clean], tmp_path / "out.jsonl")
    assert gate_files([tmp_path / "out.jsonl"], pz).passed


@pytest.mark.parametrize(
    "encode",
    [
        lambda v: base64.b64encode(f"contact: {v}".encode()).decode(),
        lambda v: "https://x.example/?to=" + "".join(f"%{b:02X}" for b in v.encode()),
        lambda v: "".join(f"&#{ord(c)};" for c in v),
    ],
    ids=["base64", "url", "html"],
)
def test_gate_detects_encoded_values_it_never_saw(encode: Callable[[str], str]) -> None:
    """The gate finds a private value hidden in an encoding on its own: the map never saw it
    plain (an empty pseudonymizer), and it is still reported, under its layer."""
    pz = Pseudonymizer(KEY)
    for value, etype in ((EMAIL, "EMAIL_ADDRESS"), (PRIVATE["openai"], "SECRET")):
        leaks = gate_text(encode(value), pz, "artifact", "loc")
        assert [leak.entity_type for leak in leaks] == [etype]
        assert leaks[0].layer in ("base64", "url", "html")


def test_tool_specs_are_notices_not_leaks(tmp_path: Path) -> None:
    """A real value in a tool description (copied verbatim) is a notice, not a gate failure."""
    trace = make_trace()
    tools = [
        trace.tools[0].model_copy(update={"description": "Look up, e.g. Jonathan."}),
        trace.tools[1],
    ]
    trace = trace.model_copy(update={"tools": tools})
    pz = Pseudonymizer(KEY)
    write_traces(scrub_traces([trace], pz).traces, tmp_path / "out.jsonl")
    report = gate_files([tmp_path / "out.jsonl"], pz)
    assert report.passed and [n.location.split(": ", 1)[1] for n in report.notices] == [
        "tools[0].description"
    ]


def test_gate_reads_plain_text(tmp_path: Path, known: Pseudonymizer) -> None:
    """Non-JSON artifacts are scanned line by line."""
    (tmp_path / "log.txt").write_text(f"ok\nsent to {html.escape(EMAIL)}\n")
    report = gate_files([tmp_path / "log.txt"], known)
    assert [leak.location for leak in report.leaks] == ["line 2"]
