"""State diff: the candidate's end state against the original's, itemized."""

from __future__ import annotations

from typing import Any

from deploysim.graders import state_diff
from deploysim.replay import EndState

from .conftest import record


def _row(key: str, change: str = "modified", **after: Any) -> dict[str, Any]:
    before = {"id": key, "status": "active"}
    return {
        "database": "shop",
        "table": "orders",
        "key": {"id": key},
        "change": change,
        "before": before if change != "added" else None,
        "after": {**before, **after} if change != "deleted" else None,
        "columns": sorted(after),
    }


def _state(**fields: Any) -> EndState:
    return EndState(captured=True, scope="full", **fields)


def test_equal_end_states_have_no_items() -> None:
    """The same changes on both sides (prefix effects included) cancel out."""
    same = _state(rows=[_row("1", status="cancelled")])
    d = state_diff(record([], end_state=same), record([], end_state=same))
    assert d.compared and d.reference == "original_replay"
    assert d.items == []
    assert "same end state" in d.summary()


def test_rows_added_missing_and_different() -> None:
    """Rows only the candidate changed are +, only the original -, differently ~."""
    cand = _state(rows=[_row("1", status="cancelled"), _row("2", status="refunded")])
    orig = _state(rows=[_row("1", status="shipped"), _row("3", status="cancelled")])
    items = {
        i.key: i for i in state_diff(record([], end_state=cand), record([], end_state=orig)).items
    }
    assert items["shop.orders[2]"].sign == "+"
    assert items["shop.orders[3]"].sign == "-"
    assert items["shop.orders[1]"].sign == "~"
    assert (
        "cancelled" in items["shop.orders[1]"].detail
        and "shipped" in items["shop.orders[1]"].detail
    )


def test_files_compare_change_content_and_mode() -> None:
    """A file changed differently (content) is ~; a file deleted only by the candidate is +."""
    cand = _state(
        files=[
            {"path": "/app/a.txt", "change": "modified", "kind": "file", "after": "new"},
            {"path": "/app/b.txt", "change": "deleted", "kind": "file"},
        ]
    )
    orig = _state(
        files=[{"path": "/app/a.txt", "change": "modified", "kind": "file", "after": "other"}]
    )
    d = state_diff(record([], end_state=cand), record([], end_state=orig))
    rendered = [i.render() for i in d.items]
    assert "~ file /app/a.txt: content differs" in rendered
    assert "+ file /app/b.txt: deleted" in rendered


def test_service_write_requests_after_the_handover() -> None:
    """Write requests after the prefix are compared as a multiset; reads and refusals are not."""
    log = [
        {"tool": "cancel_reservation", "method": "POST", "body": {"id": "P"}, "status": 200},
        {"tool": "cancel_reservation", "method": "POST", "body": {"id": "X"}, "status": 200},
        {"tool": "get_reservation", "method": "POST", "body": {"id": "X"}, "status": 200},
        {"method": "POST", "host": "api.shop.com", "path": "/v1/refunds", "status": 402},
    ]
    cand = _state(services_log=log, services_log_prefix_entries=1)
    orig = _state(services_log=log[:1], services_log_prefix_entries=1)
    rec = record([], end_state=cand, original=[])
    effects = record([], end_state=orig)
    d = state_diff(rec, effects)
    assert [i.render() for i in d.items] == [
        '+ request cancel_reservation {"id": "X"}',
        '+ request get_reservation {"id": "X"}',
    ]


def test_without_reference_the_state_is_itemized_alone() -> None:
    """No original-mode record: the candidate's changes are listed and the summary says so."""
    d = state_diff(record([], end_state=_state(rows=[_row("1", status="cancelled")])))
    assert d.reference == "none"
    assert [i.sign for i in d.items] == ["+"]
    assert "pod's start" in d.summary()


def test_uncaptured_state_is_not_compared() -> None:
    """A sample whose end state was not captured gives no diff, with the reason."""
    d = state_diff(record([], end_state=EndState(captured=False, reason="pod died")))
    assert not d.compared
    assert "pod died" in d.summary()


def test_tables_capture_did_not_compare_are_named_not_itemized() -> None:
    """A services table the candidate's capture noted as not compared (over the sidecar's
    dump caps) gives no "-" items for the original's changes there, which the candidate may
    well have made too: the table is named in ``not_compared`` and the summary instead. Other
    tables are still itemized."""
    note = {
        "kind": "table_rows",
        "path": "shop.orders",
        "size": 300_000,
        "limit": 200_000,
        "detail": "services table not compared",
    }
    other = {**_row("9", status="x"), "table": "notes", "key": {"slug": "9"}}
    cand = _state(services_rows=[], capture_notes=[note])
    ref = _state(services_rows=[_row("1", status="cancelled"), other])
    d = state_diff(record([], end_state=cand), record([], end_state=ref))
    assert [(i.sign, i.key) for i in d.items] == [("-", "shop.notes[9]")]
    assert d.not_compared == ["shop.orders"]
    assert "not compared: shop.orders" in d.summary()


def test_truncated_bodies_key_requests_by_size_and_hash() -> None:
    """Two long POST bodies the services kept only the start of are told apart by their hash
    (the same prefix would otherwise make them one request), and the diff tolerates them."""

    def post(digest: str) -> dict[str, Any]:
        return {
            "seq": 0,
            "host": "api.shop.test",
            "method": "POST",
            "path": "/v1/notes",
            "body": "same prefix",
            "body_truncated": True,
            "body_size": 100_000,
            "body_sha256": digest,
            "status": 201,
        }

    cand = _state(services_log=[post("aa" * 32)])
    ref = _state(services_log=[post("bb" * 32)])
    d = state_diff(record([], end_state=cand), record([], end_state=ref))
    assert sorted(i.sign for i in d.items) == ["+", "-"]
    assert all("100000 bytes" in i.key for i in d.items)
