"""Privacy benchmark: recall/precision per entity type, leaks on real traces, throughput.

    .venv/bin/python bench/privacy.py --json
    .venv/bin/python bench/privacy.py --ner /path/to/spacy/model   # also measure NER

Labelled data is made offline (tests/privacy/labelled.py): sentences from presidio-evaluator's
templates, secret and decoy lines, JSON tool results. Planted traces (tests/privacy/planted.py)
hold private values in one form each (plain, base64, URL encoding, HTML entities, JSON in a
string, base64 of JSON, digits in a phone field) beside decoys. Real traces come from
../shared/data (tau-bench airline, tau2 retail); their ground truth is the datasets' own
initial state. Times are CPU seconds of this process (best of several runs), so other jobs on
a shared machine disturb them less; throughput is also given as a ratio to a reference
workload timed the same way (dumping and parsing the same traces as JSON).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.privacy.labelled import leaves, records, score_spans, secret_lines, sentences  # noqa: E402
from tests.privacy.planted import planted_traces, score  # noqa: E402

from deploysim.privacy import (  # noqa: E402
    PrivacyError,
    ProseDetector,
    Pseudonymizer,
    detect_text,
    gate_files,
    scrub_traces,
    scrub_value,
    spacy_person_detector,
)
from deploysim.traces import Trace, dump_trace, import_traces, load_tools_file, write_traces  # noqa: E402

KEY = bytes(range(32))
DATASETS = ("tau-bench-airline", "tau2-retail")


def _num(x: float) -> float | None:
    return None if math.isnan(x) else round(x, 3)


def _scores(scores: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        t: {
            "gold": s.gold,
            "recall": _num(s.recall),
            "predicted": s.predicted,
            "precision": _num(s.precision),
        }
        for t, s in scores.items()
    }


def bench_prose(n: int, ner: ProseDetector | None) -> dict[str, Any]:
    samples = sentences(n, seed=0)
    out = {"sentences": n, "detectors": _scores(score_spans(samples, _predict(())))}
    if ner is not None:
        out["detectors+ner"] = _scores(score_spans(samples, _predict((ner,))))
    return out


def _predict(extra: tuple[ProseDetector, ...]) -> Any:
    def predict(text: str) -> list[tuple[int, int, str]]:
        return [(s.start, s.end, s.type) for s in detect_text(text, extra)]

    return predict


def bench_secrets(n: int) -> dict[str, Any]:
    samples = secret_lines(n, seed=0)
    decoys = [s for s in samples if not s.spans]
    flagged = sum(1 for s in decoys if detect_text(s.text))
    return {
        "lines": n,
        "scores": _scores(score_spans(samples, _predict(()))),
        "decoy_lines": len(decoys),
        "decoy_lines_flagged": flagged,
    }


def bench_records(n: int) -> dict[str, Any]:
    recs = records(n, seed=0)
    pz = Pseudonymizer(KEY)
    clean = scrub_value([r.value for r in recs], pz)
    per: dict[str, list[int]] = {}
    changed_private = changed_other = 0
    decoy_leaves = 0
    for rec, new in zip(recs, clean, strict=True):
        for (path, a), (_, b) in zip(leaves(rec.value), leaves(new), strict=True):
            etype = rec.private.get(path)
            if etype is None:
                decoy_leaves += 1
                changed_other += a != b
                continue
            c = per.setdefault(etype, [0, 0])
            c[0] += 1
            c[1] += a != b
            changed_private += a != b
    return {
        "records": n,
        "recall": {t: round(found / gold, 3) for t, (gold, found) in sorted(per.items())},
        "decoy_leaves": decoy_leaves,
        "decoy_leaves_changed": changed_other,
        "precision": round(changed_private / max(1, changed_private + changed_other), 3),
    }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def bench_planted(n: int) -> dict[str, Any]:
    """Recall per kind and per form, precision per kind, and what survives a passing gate."""
    planted = planted_traces(n, seed=0)
    pz = Pseudonymizer(KEY)
    result = scrub_traces(planted.traces, pz)
    scores = score(planted, result.traces)
    with tempfile.TemporaryDirectory() as tmp:
        write_traces(result.traces, Path(tmp) / "planted.jsonl")
        gate = gate_files([Path(tmp) / "planted.jsonl"], pz)
    by_kind = {
        kind: {
            "planted": t.planted,
            "found": t.found,
            "recall": _ratio(t.found, t.planted),
            "decoys": t.decoys,
            "decoys_changed": t.decoys_changed,
            "precision": _ratio(t.found, t.found + t.decoys_changed),
        }
        for kind, t in scores["by_kind"].items()
    }
    by_form = {
        form: {"planted": t.planted, "found": t.found, "recall": _ratio(t.found, t.planted)}
        for form, t in scores["by_form"].items()
        if t.planted
    }
    surviving = sum(t.planted - t.found for t in scores["by_kind"].values())
    return {
        "traces": n,
        "planted": sum(t.planted for t in scores["by_kind"].values()),
        "decoys": sum(t.decoys for t in scores["by_kind"].values()),
        "by_kind": by_kind,
        "by_form": by_form,
        "surviving_after_scrub": surviving,
        "gate": {"status": gate.status, "leaks": len(gate.leaks)},
        "surviving_a_passing_gate": surviving if gate.passed else 0,
    }


def _reference_s(traces: list[Trace]) -> float:
    """Seconds to dump and parse the traces as JSON: the same-process yardstick."""
    best = math.inf
    for _ in range(5):
        t0 = time.process_time()
        for t in traces:
            json.loads(dump_trace(t))
        best = min(best, time.process_time() - t0)
    return best


def _ground_truth(root: Path, originals: list[Trace]) -> dict[str, set[str]]:
    airline = json.loads((root / "tau-bench-airline/initial_state/users.json").read_text())
    retail = json.loads((root / "tau2-retail/initial_state/db.json").read_text())["users"]
    text = "\n".join(t.model_dump_json(exclude={"tools"}) for t in originals)
    truth: dict[str, set[str]] = {
        k: set()
        for k in (
            "EMAIL_ADDRESS",
            "USERNAME",
            "PERSON",
            "DATE_OF_BIRTH",
            "STREET_ADDRESS",
            "ZIP_CODE",
        )
    }
    for uid, user in {**airline, **retail}.items():
        if uid not in text:
            continue
        truth["USERNAME"].add(uid)
        truth["EMAIL_ADDRESS"].add(user["email"])
        for p in [{**user["name"], "dob": user.get("dob")}, *user.get("saved_passengers", [])]:
            truth["PERSON"].update({p["first_name"], p["last_name"]})
            if p.get("dob"):
                truth["DATE_OF_BIRTH"].add(p["dob"])
        truth["STREET_ADDRESS"].add(user["address"]["address1"])
        truth["ZIP_CODE"].add(user["address"]["zip"])
    return truth


def _survivors(truth: dict[str, set[str]], text: str) -> dict[str, int]:
    out = {}
    for etype, values in truth.items():
        if etype == "PERSON":
            found = set(re.findall(rf"(?<![A-Za-z])(?:{'|'.join(values)})(?![a-z])", text))
        elif etype == "ZIP_CODE":
            found = set(re.findall(rf"(?<!\d)(?:{'|'.join(values)})(?!\d)", text))
        elif etype == "EMAIL_ADDRESS":
            lower = text.lower()
            found = {v for v in values if v.lower() in lower}
        else:
            found = {v for v in values if v in text}
        out[etype] = len(found)
    return out


def bench_shared(root: Path, ner: ProseDetector | None) -> dict[str, Any]:
    t0 = time.process_time()
    originals: list[Trace] = []
    for name in DATASETS:
        tools = load_tools_file(root / name / "tool_schemas.json")
        originals += import_traces([root / name / "traces.json"], tools=tools).traces
    t_import = time.process_time() - t0
    size = sum(len(dump_trace(t).encode()) + 1 for t in originals)

    runs = []
    for _ in range(2):
        pz = Pseudonymizer(KEY)
        t1 = time.process_time()
        result = scrub_traces(originals, pz)
        runs.append(time.process_time() - t1)
    t_scrub = min(runs)

    truth = _ground_truth(root, originals)
    scrubbed_text = "\n".join(t.model_dump_json(exclude={"tools"}) for t in result.traces)
    with tempfile.TemporaryDirectory() as tmp:
        write_traces(result.traces, Path(tmp) / "scrubbed.jsonl")
        write_traces(originals, Path(tmp) / "original.jsonl")
        t2 = time.process_time()
        passed = gate_files([Path(tmp) / "scrubbed.jsonl"], pz)
        t_gate = time.process_time() - t2
        failed = gate_files([Path(tmp) / "original.jsonl"], pz)

    t_ref = _reference_s(originals)
    noise: dict[str, int] = {}
    for t in originals:
        for m in t.messages:
            for p in m.parts:
                text = getattr(p, "text", None) or getattr(p, "output", None) or ""
                for s in detect_text(text):
                    noise[s.type] = noise.get(s.type, 0) + 1

    out: dict[str, Any] = {
        "traces": len(originals),
        "input_mb": round(size / 1e6, 2),
        "values": result.values,
        "replaced": result.replaced,
        "ground_truth_values": {k: len(v) for k, v in truth.items()},
        "leaks_after_scrub": _survivors(truth, scrubbed_text),
        "gate_scrubbed": {
            "status": passed.status,
            "leaks": len(passed.leaks),
            "notices": len(passed.notices),
            "strings": passed.strings,
        },
        "gate_original": {"status": failed.status, "leaks": len(failed.leaks)},
        "text_detector_findings_on_originals": dict(sorted(noise.items())),
        "decoys": _decoys(originals, result.traces, truth),
        "throughput": {
            "import_s": round(t_import, 2),
            "scrub_s": round(t_scrub, 2),
            "scrub_mb_per_s": round(size / 1e6 / t_scrub, 2),
            "gate_s": round(t_gate, 2),
            "gate_mb_per_s": round(size / 1e6 / t_gate, 2),
            "reference_s": round(t_ref, 3),
            "scrub_x_reference": round(t_scrub / t_ref, 1),
            "gate_x_reference": round(t_gate / t_ref, 1),
        },
    }
    if ner is not None:
        out["ner_on_prose"] = _ner_on_prose(originals, truth, ner)
        out["scrub_with_ner"] = _scrub_with_ner(originals, truth, ner)
    return out


def _scrub_with_ner(
    originals: list[Trace], truth: dict[str, set[str]], ner: ProseDetector
) -> dict[str, Any]:
    """What NER on prose does to the scrubbed traces: extra values, and decoys it breaks."""
    pz = Pseudonymizer(KEY)
    try:
        result = scrub_traces(originals, pz, prose_detectors=[ner])
    except PrivacyError as e:
        return {"error": str(e)}
    text = "\n".join(t.model_dump_json(exclude={"tools"}) for t in result.traces)
    return {
        "values": result.values,
        "leaks_after_scrub": _survivors(truth, text),
        "decoys": _decoys(originals, result.traces, truth),
    }


def _decoys(before: list[Trace], after: list[Trace], truth: dict[str, set[str]]) -> dict[str, int]:
    private = {"user_id", "first_name", "last_name", "dob", "address1", "address2", "zip", "email"}
    mention = re.compile(rf"\b(?:{'|'.join(truth['PERSON'] | truth['USERNAME'])})\b")
    compared = unexplained = 0
    for a, b in zip(before, after, strict=True):
        docs = [
            (c.arguments, d.arguments) for c, d in zip(a.tool_calls(), b.tool_calls(), strict=True)
        ]
        for r, s in zip(a.tool_results(), b.tool_results(), strict=True):
            try:
                docs.append((json.loads(r.output), json.loads(s.output)))
            except ValueError:
                continue
        for x, y in docs:
            for (path, v), (_, w) in zip(leaves(x), leaves(y), strict=True):
                compared += 1
                key = path.rsplit(".", 1)[-1]
                if v != w and key not in private and not (isinstance(v, str) and mention.search(v)):
                    unexplained += 1
    return {"leaves_compared": compared, "non_private_leaves_changed": unexplained}


def _ner_on_prose(
    traces: list[Trace], truth: dict[str, set[str]], ner: ProseDetector
) -> dict[str, int]:
    names = truth["PERSON"]
    spans = hits = 0
    for t in traces:
        for m in t.messages:
            if m.role not in ("user", "assistant"):
                continue
            for p in m.parts:
                text = getattr(p, "text", "")
                for s in ner(text) if text else []:
                    spans += 1
                    hits += any(tok in names for tok in text[s.start : s.end].split())
    return {
        "person_spans": spans,
        "spans_that_are_real_names": hits,
        "false_positive_spans": spans - hits,
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--json", action="store_true", help="print one JSON document")
    ap.add_argument("--sentences", type=int, default=1500)
    ap.add_argument("--planted", type=int, default=40, help="planted traces (each ~30 items)")
    ap.add_argument(
        "--data", type=Path, default=None, help="shared traces dir (../shared/data/traces)"
    )
    ap.add_argument("--ner", default=None, help="spaCy model name or directory to measure NER too")
    args = ap.parse_args()
    root = args.data or next(
        p
        for p in (REPO.parent / "shared/data/traces", Path("/work/shared/data/traces"))
        if p.is_dir()
    )
    ner = spacy_person_detector(args.ner) if args.ner else None
    t0 = time.perf_counter()
    report = {
        "prose": bench_prose(args.sentences, ner),
        "secrets": bench_secrets(600),
        "json_records": bench_records(300),
        "planted": bench_planted(args.planted),
        "shared_traces": bench_shared(root, ner),
    }
    report["seconds"] = round(time.perf_counter() - t0, 1)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for section, data in report.items():
        print(f"== {section}")
        print(json.dumps(data, indent=2) if isinstance(data, dict) else data)


if __name__ == "__main__":
    main()
