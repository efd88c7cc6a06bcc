"""A flooding agent against the services app: bodies and the request log stay bounded.

The agent decides what it sends. Bodies over the accept cap are refused unread with 413 in
the API's own error shape; long accepted bodies are logged as a prefix, size and sha256
(in memory, in requests.jsonl and in the admin dump); past the log's memory budget later
entries are counted, not kept. Graders keying requests by body tell truncated bodies apart.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from deploysim.graders._state_diff import write_requests
from deploysim.replay import EndState
from deploysim.services import LOG_FILE, LogEntry, LogLimits, StateDump, create_app
from tests.services.conftest import SHOP_MODULE, client, serve, shop_snapshot, write_snapshot

SHOP = {"host": "api.shop.test"}
MAIL = {"host": "mail.example.test"}


def _app(tmp_path: Path, **options: object) -> tuple[object, Path]:
    snap = write_snapshot(tmp_path / "snap", shop_snapshot(), {"shop_tools.py": SHOP_MODULE})
    state = tmp_path / "state"
    return create_app(snap, state, **options), state  # type: ignore[arg-type]


def _chunks(total: int, size: int = 1 << 16) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


def test_twenty_megabyte_posts_are_refused_unread(tmp_path: Path) -> None:
    """A 20 MB POST (declared, or streamed without a length) gets 413 in the API's error shape,
    the app keeps answering, and the log entry is small: size, no body kept, a note."""
    app, state = _app(tmp_path)
    with serve(app) as url, client(url) as http:
        declared = http.post("/v1/orders", content=b"{" * 20_000_000, headers=SHOP)
        streamed = http.post("/inbox", content=_chunks(20_000_000), headers=MAIL)
        assert (declared.status_code, streamed.status_code) == (413, 413)
        assert declared.json()["error"]["message"] == "Request Entity Too Large"
        assert streamed.json() == {"status": 413, "reason": "Request Entity Too Large", "ok": False}
        assert http.get("/v1/ping", headers=SHOP).json() == {"pong": True}
        entries = [LogEntry.model_validate(e) for e in http.get("/__deploysim/log").json()]
    big, chunked, _ = entries
    assert big.body_truncated and big.body_size == 20_000_000 and big.body is None
    assert chunked.body_truncated and chunked.body_size and chunked.body_size > 1 << 20
    assert big.note and "refused unread" in big.note
    assert max(len(line) for line in (state / LOG_FILE).read_text().splitlines()) < 16_384


def test_long_accepted_body_is_kept_as_prefix_size_and_hash(tmp_path: Path) -> None:
    """A body under the accept cap but over the log's body limit is served whole, and logged
    as its first bytes, its size and its sha256, the same in memory, file and dump."""
    app, state = _app(tmp_path, log_limits=LogLimits(body_limit=1024, prefix_bytes=100))
    long_text = "z" * 50_000
    raw = json.dumps({"slug": "long", "text": long_text}).encode()
    with serve(app) as url, client(url) as http:
        created = http.post("/v1/notes", content=raw, headers=SHOP)
        assert created.status_code == 201 and created.json()["text"] == long_text
        dump = StateDump.model_validate(http.get("/__deploysim/state").json())
    [entry] = dump.log
    assert entry.body_truncated and entry.body_size == len(raw)
    assert isinstance(entry.body, str) and raw.decode().startswith(entry.body)
    assert len(entry.body) == 100 and entry.body_sha256 is not None
    assert entry.response_truncated and entry.response_size and entry.response_size > 50_000
    line = json.loads((state / LOG_FILE).read_text())
    assert line == entry.model_dump(mode="json")
    assert {n["slug"] for n in dump.databases["shop"]["notes"]} == {"hello", "long"}


def test_log_memory_budget_counts_what_it_drops(tmp_path: Path) -> None:
    """Past the memory budget entries go to the file only; the dump counts them."""
    app, state = _app(tmp_path, log_limits=LogLimits(memory_budget=4096))
    with serve(app) as url, client(url) as http:
        for _ in range(40):
            http.get("/v1/ping", headers=SHOP)
        dump = StateDump.model_validate(http.get("/__deploysim/state").json())
    assert dump.log and dump.log_dropped and len(dump.log) + dump.log_dropped == 40
    assert [e.seq for e in dump.log] == list(range(len(dump.log)))
    assert len((state / LOG_FILE).read_text().splitlines()) == 40


def test_deeply_nested_body_is_text_not_a_crash(tmp_path: Path) -> None:
    """A body nested deeper than the JSON parser goes is logged as text, not a 500."""
    app, _ = _app(tmp_path)
    with serve(app) as url, client(url) as http:
        r = http.post("/v1/orders", content=b"[" * 200_000, headers=SHOP)
        assert r.status_code == 422
        [entry] = http.get("/__deploysim/log").json()
    assert entry["body_truncated"] and entry["body_size"] == 200_000


def _end_state(entries: list[LogEntry]) -> EndState:
    log = [e.model_dump(mode="json") for e in entries]
    return EndState(captured=True, scope="services", services_log=log)


def test_truncated_bodies_with_one_prefix_are_different_requests(tmp_path: Path) -> None:
    """Two long bodies that share the kept prefix are two different write requests for the
    state diff; the same long body twice is the same request."""
    app, _ = _app(tmp_path, log_limits=LogLimits(body_limit=256, prefix_bytes=64))
    pad = "p" * 5000
    with serve(app) as url, client(url) as http:
        for slug in ("a", "b", "a"):
            http.post("/tools/place_order", json={"customer": pad + slug, "items": [1]})
        entries = [LogEntry.model_validate(e) for e in http.get("/__deploysim/log").json()]
    assert len({e.body for e in entries}) == 1  # the prefixes alone are identical
    keys = write_requests(_end_state(entries), {})
    assert keys[0] == keys[2] != keys[1]
