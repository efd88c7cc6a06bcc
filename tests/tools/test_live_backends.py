"""Live editor, SQL and HTTP backends against real pods of the authored snapshots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploysim.snapshots import load_snapshot
from deploysim.tools import CallContext, PodServices, Router, ToolRequest
from deploysim.traces import ToolSpec

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.docker

EDIT = ToolSpec(name="str_replace_based_edit_tool", kind="editor")
WRITE = ToolSpec(name="write_file", kind="editor")
SQL = ToolSpec(name="run_sql", kind="sql")
HTTP = ToolSpec(name="http_request", kind="http")


async def test_editor_views_edits_inserts_and_undoes(base_image: str) -> None:
    """The editor acts on the pod's files with the reference tool's texts and errors."""
    from deploysim.sandbox import Pod

    sd = load_snapshot(REPO / "env_snapshots" / "dev-workstation")
    pod = await Pod.start(sd)
    try:
        router = Router([EDIT, WRITE], CallContext(pod=pod), sd)

        async def edit(**args: object) -> tuple[str, bool, str]:
            out = await router.call(ToolRequest(name=EDIT.name, arguments=dict(args)))
            return out.output, out.is_error, out.provenance

        path = "/home/agent/src/ledgerline/README.md"
        text, err, prov = await edit(command="view", path=path, view_range=[1, 2])
        assert (
            not err
            and prov == "live"
            and text.startswith(f"Here's the result of running `cat -n` on {path}")
        )
        assert "     1\t" in text and "     3\t" not in text
        text, err, _ = await edit(
            command="str_replace", path=path, old_str="zzz-absent", new_str="x"
        )
        assert err and "did not appear verbatim" in text
        text, err, _ = await edit(command="create", path="notes/todo.md", file_text="one\ntwo\n")
        assert (
            not err
            and text == "File created successfully at: /home/agent/src/ledgerline/notes/todo.md"
        )
        text, err, _ = await edit(command="create", path="notes/todo.md", file_text="x")
        assert err and "already exists" in text
        text, err, _ = await edit(
            command="str_replace", path="notes/todo.md", old_str="two", new_str="2"
        )
        assert not err and "has been edited" in text
        text, err, _ = await edit(
            command="insert", path="notes/todo.md", insert_line=0, new_str="zero"
        )
        assert not err
        assert (await pod.read_file("notes/todo.md")).decode() == "zero\none\n2\n"
        await edit(command="undo_edit", path="notes/todo.md")
        assert (await pod.read_file("notes/todo.md")).decode() == "one\n2\n"
        text, err, _ = await edit(command="view", path="/nope/file")
        assert err and "does not exist" in text
        text, err, _ = await edit(command="frobnicate", path=path)
        assert err and "Unrecognized command" in text
        plain = await router.call(
            ToolRequest(name="write_file", arguments={"path": "/tmp/plain.txt", "content": "hi"})
        )
        assert not plain.is_error and (await pod.read_file("/tmp/plain.txt")) == b"hi"
        denied = await edit(command="create", path="/etc/motd2", file_text="x")
        assert denied[1] and "Permission denied" in denied[0]
    finally:
        await pod.close()


async def test_sql_and_http_run_inside_the_pod(base_image: str) -> None:
    """SQL runs on the pod's SQLite file; HTTP reaches the mocked API inside the pod."""
    from deploysim.sandbox import Pod

    sd = load_snapshot(REPO / "env_snapshots" / "shop")
    pod = await Pod.start(sd)
    try:
        router = Router([SQL, HTTP], CallContext(pod=pod, services=PodServices(pod)), sd)
        rows = await router.call(
            ToolRequest(
                name="run_sql", arguments={"query": "SELECT order_number FROM orders WHERE id = 1"}
            )
        )
        assert (rows.provenance, rows.backend) == ("live", "sql")
        assert json.loads(rows.output) == [{"order_number": "828083"}]
        upd = await router.call(
            ToolRequest(
                name="run_sql", arguments={"query": "UPDATE orders SET notes = 'x' WHERE id < 3"}
            )
        )
        assert json.loads(upd.output) == {"rows_affected": 2}
        bad = await router.call(ToolRequest(name="run_sql", arguments={"query": "SELEC nonsense"}))
        assert bad.is_error and bad.output.startswith("Error: ") and "syntax error" in bad.output
        other = await router.call(
            ToolRequest(
                name="run_sql",
                arguments={"query": "SELECT count(*) AS n FROM charges", "database": "payments"},
            )
        )
        assert json.loads(other.output) == [{"n": 150}]
        got = await router.call(
            ToolRequest(
                name="http_request",
                arguments={
                    "method": "GET",
                    "url": "https://api.corvapay.com/v1/charges/ch_YE8aIWrqVLlgdI",
                },
            )
        )
        assert (got.provenance, got.backend, got.is_error) == ("live", "http", False)
        assert json.loads(got.output)["amount"] == 4562 and got.structured["status"] == 200
        missing = await router.call(
            ToolRequest(
                name="http_request",
                arguments={"url": "https://api.corvapay.com/v1/charges/ch_nope"},
            )
        )
        assert missing.is_error and missing.structured["status"] == 404
        patched = await router.call(
            ToolRequest(
                name="http_request",
                arguments={
                    "method": "PATCH",
                    "url": "https://api.corvapay.com/v1/charges/ch_YE8aIWrqVLlgdI",
                    "body": {"description": "flagged"},
                },
            )
        )
        assert json.loads(patched.output)["description"] == "flagged"
        offline = await router.call(
            ToolRequest(name="http_request", arguments={"url": "https://example.org/"})
        )
        assert offline.is_error and offline.provenance == "live"  # nothing leaves the pod
        state = await pod.capture_state()
        assert any(r.table == "orders" and r.change == "modified" for r in state.rows)
        assert any(e["method"] == "PATCH" for e in state.services_log)
    finally:
        await pod.close()
