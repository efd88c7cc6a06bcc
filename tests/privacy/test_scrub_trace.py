from __future__ import annotations

import json

from deploysim.privacy import Pseudonymizer, Scrubber, scrub_traces, scrub_value
from deploysim.traces import Reasoning, ToolCall, ToolResult, validate

from .conftest import DECOYS, KEY, PRIVATE, make_trace


def _dump(trace: object) -> str:
    return trace.model_dump_json()  # type: ignore[attr-defined]


def test_no_planted_value_survives_anywhere(pz: Pseudonymizer) -> None:
    """Every planted private value is gone from the whole trace (raw, metadata, attachments
    included), checked by plain case-insensitive substring search, independent of the matcher."""
    out = scrub_traces([make_trace()], pz).traces[0]
    text = _dump(out).lower()
    left = [k for k, v in PRIVATE.items() if v.lower() in text]
    assert left == []
    assert PRIVATE["phone_digits"] not in "".join(c for c in text if c.isdigit() or c == " ")


def test_decoys_and_protocol_survive(pz: Pseudonymizer) -> None:
    """Ids, tool names, tool specs, hashes, versions, SKUs, URLs, documented test values and
    JSON keys are unchanged."""
    before = make_trace()
    after = scrub_traces([before], pz).traces[0]
    text = _dump(after)
    assert [d for d in DECOYS if d not in text] == []
    assert after.tools == before.tools
    assert [m.role for m in after.messages] == [m.role for m in before.messages]
    assert [c.id for c in after.tool_calls()] == [c.id for c in before.tool_calls()]
    assert [c.name for c in after.tool_calls()] == [c.name for c in before.tool_calls()]
    old = json.loads(before.tool_results()[0].output)
    new = json.loads(after.tool_results()[0].output)
    assert old.keys() == new.keys() and old["address"].keys() == new["address"].keys()
    assert new["address"]["city"] == "San Francisco" and new["items"] == old["items"]


def test_arguments_still_parse_match_and_validate(pz: Pseudonymizer) -> None:
    """Scrubbed tool arguments: the raw string still parses, equals the parsed dict, keeps its
    compact layout, and the trace gains no validation finding."""
    before = make_trace()
    after = scrub_traces([before], pz).traces[0]
    for call in after.tool_calls():
        assert call.raw_arguments is not None
        assert json.loads(call.raw_arguments) == call.arguments
    first = after.tool_calls()[0]
    assert first.raw_arguments is not None and ", " not in first.raw_arguments
    assert "@" in first.arguments["email"]  # type: ignore[index]
    assert [f.code for f in validate(after)] == [f.code for f in validate(before)]


def test_same_value_same_fake_in_every_field(pz: Pseudonymizer) -> None:
    """One real email becomes one fake in the call, the result, the prose (upper-cased there),
    the metadata, the raw record and the JWT claims; the fake email follows the fake name."""
    out = scrub_traces([make_trace()], pz).traces[0]
    fake_email = out.tool_calls()[0].arguments["email"]  # type: ignore[index]
    result = json.loads(out.tool_results()[0].output)
    assert result["email"] == fake_email
    assert out.metadata["customer"]["email"] == fake_email
    assert fake_email.upper() in out.messages[1].parts[0].text  # type: ignore[union-attr]
    assert json.loads(out.raw["messages"][1]["tool_calls"][0]["function"]["arguments"]) == {
        "email": fake_email
    }
    first, last = result["name"]["first_name"], result["name"]["last_name"]
    assert fake_email.split("@")[0] == f"{first}.{last}".lower()
    assert fake_email.endswith(".example")
    assert out.metadata["customer"]["name"] == f"{first} {last}"
    assert f"{first} {last}" in out.raw["attachments"]["a1b2c3d4e5f6"]


def test_formats_survive(pz: Pseudonymizer) -> None:
    """Fakes keep their format: phone layout, card layout and Luhn, IBAN spacing and checksum,
    SSN and date layout, URL credentials in place, secret prefixes and lengths."""
    from schwifty import IBAN

    out = scrub_traces([make_trace()], pz).traces[0]
    r = json.loads(out.tool_results()[0].output)
    assert r["phone"][3] == "-" and r["phone"][7] == "-" and r["phone"][4:7] == "555"
    card = r["payment"]["card_number"]
    digits = [int(c) for c in card.replace(" ", "")][::-1]
    luhn = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits))
    assert luhn % 10 == 0 and [len(g) for g in card.split()] == [4, 4, 4, 4]
    iban = r["payment"]["iban"]
    assert IBAN(iban).country_code == "DE" and len(iban) == len(PRIVATE["iban"])
    assert r["ssn"][3] == "-" and r["ssn"][6] == "-" and r["dob"][4] == "-"
    env = out.tool_results()[1].output
    assert "postgres://admin:" in env and "@db.internal." in env and ".example:5432/app" in env
    key = next(line for line in env.splitlines() if line.startswith("OPENAI_API_KEY="))
    assert key.startswith("OPENAI_API_KEY=sk-proj-") and len(key) == len(
        "OPENAI_API_KEY=" + PRIVATE["openai"]
    )


def test_opaque_reasoning_is_dropped_and_reported(pz: Pseudonymizer) -> None:
    """Opaque reasoning cannot be scrubbed: it is dropped, and its location is reported."""
    result = scrub_traces([make_trace()], pz)
    reasoning = result.traces[0].messages[2].parts[0]
    assert isinstance(reasoning, Reasoning) and reasoning.opaque is None
    assert reasoning.text.startswith("Look up ") and PRIVATE["first"] not in reasoning.text
    assert result.dropped_opaque == [
        "synthetic.jsonl record 0 trace synthetic-0: messages[2].parts[0].opaque"
    ]


def test_consistent_across_traces_and_runs() -> None:
    """The same key gives the same pseudonyms in every trace of a run and in a fresh run."""
    a = scrub_traces([make_trace(0), make_trace(1)], Pseudonymizer(KEY)).traces
    b = scrub_traces([make_trace(2)], Pseudonymizer(KEY)).traces
    outputs = {t.tool_results()[0].output for t in [*a, *b]}
    assert len(outputs) == 1
    other = scrub_traces([make_trace(0)], Pseudonymizer(b"\x01" * 32)).traces[0]
    assert other.tool_results()[0].output not in outputs


def test_snapshot_values_share_the_map(pz: Pseudonymizer) -> None:
    """Snapshot data scrubbed after the traces reuses their fakes, including dict keys
    keyed by a private value when asked, and adds new people to the map."""
    out = scrub_traces([make_trace()], pz).traces[0]
    fake = json.loads(out.tool_results()[0].output)
    rows = {
        PRIVATE["email"]: {"name": "Jonathan Reyes", "phone": "(415) 867-5309"},
        "maria.gomez@example.org": {"name": "Maria Gomez", "phone": "(212) 555-7788"},
    }
    clean = scrub_value(rows, pz, rewrite_keys=True)
    assert fake["email"] in clean
    assert (
        clean[fake["email"]]["name"] == fake["name"]["first_name"] + " " + fake["name"]["last_name"]
    )
    assert clean[fake["email"]]["phone"].replace("(", "").replace(") ", "-") == fake["phone"]
    assert "Maria" not in json.dumps(clean) and "maria.gomez" not in json.dumps(clean)


def test_snapshot_path_hints_name_unusual_columns(pz: Pseudonymizer) -> None:
    """A column the built-in hints cannot know is scrubbed when a path hint names its type."""
    rows = [{"cust_nm": "Priya Natarajan", "note": "VIP"}]
    plain = scrub_value(rows, pz)
    hinted = scrub_value(rows, pz, path_hints={"cust_nm": "PERSON"})
    assert plain == rows
    assert hinted[0]["note"] == "VIP" and "Priya" not in hinted[0]["cust_nm"]


def test_person_names_need_a_person_record(pz: Pseudonymizer) -> None:
    """`name` is a person only in a person-like record: product and tool names survive."""
    value = {
        "items": [{"name": "Bluetooth Speaker", "price": 321.18}],
        "action": {"name": "Book Flight", "kwargs": {}},
        "passenger": {"name": "Amelia Ahmed", "seat": "12A"},
    }
    out = scrub_value(value, pz)
    assert out["items"] == value["items"] and out["action"] == value["action"]
    assert "Amelia" not in out["passenger"]["name"] and out["passenger"]["seat"] == "12A"


def test_json_in_unreproducible_layout_still_parses(pz: Pseudonymizer) -> None:
    """A JSON string in a layout json.dumps cannot reproduce is rewritten as text and still
    parses, with the value replaced."""
    odd = '{ "email" :  "jonathan.reyes@acme-shop.io" ,"n": 1}'
    out = scrub_value({"output": odd}, pz)["output"]
    assert json.loads(out)["n"] == 1 and "jonathan" not in out and "@" in out


def test_scrubber_observes_everything_before_rewriting() -> None:
    """A name seen only in snapshot rows is replaced in the prose of a trace when both are
    observed first (two-phase use of Scrubber)."""
    trace = make_trace()
    trace = trace.model_copy(
        update={
            "messages": [
                *trace.messages[:-1],
                trace.messages[-1].model_copy(
                    update={
                        "parts": [
                            *trace.messages[-1].parts,
                            *[
                                p.model_copy(update={"text": "Say hi to Priya Natarajan."})
                                for p in trace.messages[-1].parts
                            ],
                        ]
                    }
                ),
            ]
        }
    )
    s = Scrubber(Pseudonymizer(KEY))
    s.observe_trace(trace)
    s.observe_value([{"first_name": "Priya", "last_name": "Natarajan"}])
    out = s.scrub_trace(trace)
    assert "Priya" not in _dump(out) and "Natarajan" not in _dump(out)
    assert s.replaced["PERSON"] > 0


def test_tool_results_text_and_structured(pz: Pseudonymizer) -> None:
    """Structured tool results are scrubbed like the text beside them."""
    trace = make_trace()
    msg = trace.messages[3]
    res = msg.parts[0]
    assert isinstance(res, ToolResult)
    with_structured = res.model_copy(update={"structured": json.loads(res.output)})
    trace = trace.model_copy(
        update={
            "messages": [
                *trace.messages[:3],
                msg.model_copy(update={"parts": [with_structured]}),
                *trace.messages[4:],
            ]
        }
    )
    out = scrub_traces([trace], pz).traces[0].messages[3].parts[0]
    assert isinstance(out, ToolResult)
    assert out.structured == json.loads(out.output)
    assert isinstance(trace.messages[2].parts[1], ToolCall)


def test_scrubbing_scrubbed_data_again_changes_nothing(pz: Pseudonymizer) -> None:
    """Data built from scrubbed traces (a rebuilt snapshot) scrubbed with the same map keeps
    its pseudonyms: fakes are never taken for new private values."""
    first = scrub_traces([make_trace()], pz).traces[0]
    result = json.loads(first.tool_results()[0].output)
    assert scrub_value(result, pz) == result
    assert scrub_traces([first], pz).traces[0] == first
