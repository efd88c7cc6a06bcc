"""State capture of a pod the agent made hostile: huge, many, unreadable and special files.

Every case must leave a valid :class:`PodState` with what went over a cap named in
``capture_notes`` (path and size): an agent that fills the disk is model behaviour with
evidence, never an out-of-memory exec server, a hang or an infrastructure error.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shlex
import stat
from pathlib import Path
from typing import Any

import pytest

from deploysim.sandbox import CaptureLimits, NotRegularFileError, PodState, diff_manifests
from deploysim.sandbox._containers import EXEC_DIR
from deploysim.sandbox._paths import cache_dir
from deploysim.sandbox._pod import Pod
from deploysim.sandbox._state import _cache_path, pod_image, watch_roots
from deploysim.snapshots import load_snapshot

pytestmark = pytest.mark.docker

DB = "/srv/shop/shop.db"
AGENT_DB_SNAPSHOT = """\
name: agentdb
databases:
  - name: app
    path: /home/agent/data/app.db
    tables:
      - name: notes
        primary_key: [id]
        columns: [{name: id, type: INTEGER}, {name: text}]
        rows: [{id: 1, text: hello}]
"""
# Hangs and OOMs must fail the test, not block it: capture of these pods takes seconds.
CAPTURE_TIMEOUT = 120


async def _sh(pod: Any, script: str, user: str | None = None) -> None:
    r = await pod.exec(["sh", "-c", script], user=user, timeout=120)
    assert r.returncode == 0, r.stderr


async def _capture(pod: Any, limits: CaptureLimits | None = None) -> PodState:
    state: PodState = await asyncio.wait_for(pod.capture_state(limits), CAPTURE_TIMEOUT)
    pod.check_alive()  # the exec server (pid 1's child) survived: not OOM-killed
    assert (await pod.exec(["echo", "ok"])).stdout == "ok\n"
    return PodState.model_validate_json(state.model_dump_json())  # a valid record


# The exec server's pid is in the "ready" status file beside its socket.
_PEAK = (
    "import json, sys; pid = json.load(open(sys.argv[1]))['pid']; "
    "print(next(l for l in open(f'/proc/{pid}/status') if l.startswith('VmHWM')))"
)


async def _server_peak_mib(pod: Any) -> float:
    """Peak resident memory of the in-pod exec server (VmHWM of its process)."""
    r = await pod.exec(["python3", "-c", _PEAK, EXEC_DIR + "/ready"], user="root")
    return int(r.stdout.split()[1]) / 1024


def _notes(state: PodState, kind: str) -> list[Any]:
    return [n for n in state.capture_notes if n.kind == kind]


def _change(state: PodState, path: str) -> Any:
    found = [f for f in state.files if f.path == path]
    assert found, f"{path} not among {[f.path for f in state.files][:20]}"
    return found[0]


async def test_flood_at_default_caps(pod: Any) -> None:
    """At the default caps: a 1 GiB file, 1000 x 256 KiB files, a FIFO, a symlink to /dev/zero
    and a 100 MiB database leave a valid record that names each overflow with its size."""
    await _sh(
        pod,
        # 1000 text files of 256 KiB: hard links to one, so the test writes 256 KiB only
        "truncate -s 1G big.bin; mkdir flood; cd flood; yes | head -c 256K > f1; "
        "for i in $(seq 2 1000); do ln f1 f$i; done; cd ..; "
        "mkfifo pipe; ln -s /dev/zero zero; "
        f"sqlite3 {DB} 'create table pad(b); insert into pad select zeroblob(1048576) "
        "from (with recursive c(i) as (select 1 union all select i+1 from c where i<100) "
        "select i from c)'",
    )
    state = await _capture(pod)
    big = _change(state, "/home/agent/big.bin")
    assert (big.change, big.size) == ("added", 1 << 30)
    assert big.note and "hash cap" in big.note
    [hashed] = [n for n in _notes(state, "file_hash") if n.path == "/home/agent/big.bin"]
    assert hashed.size == 1 << 30 and hashed.limit == CaptureLimits().hash_limit
    flood = [f for f in state.files if f.path.startswith("/home/agent/flood/")]
    assert len(flood) == 1000  # every file is listed, with or without its content
    shipped = sum(len(f.after or "") for f in flood)
    assert 0 < shipped <= CaptureLimits().content_total
    assert any(f.after is None and f.note and "budget" in f.note for f in flood)
    assert _notes(state, "content_total")
    assert _change(state, "/home/agent/pipe").kind == "other"
    zero = _change(state, "/home/agent/zero")
    assert (zero.kind, zero.after) == ("symlink", None)
    [db] = _notes(state, "database_size")
    assert db.path == DB and db.size is not None and db.size > 100 << 20
    assert db.limit == CaptureLimits().db_limit and "not compared: customers" in db.detail
    assert not state.rows  # the database was not compared, and says so
    assert len(state.model_dump_json()) < 2 * CaptureLimits().content_total  # a bounded record
    assert await _server_peak_mib(pod) < 128  # it was OOM-killed at the pod's 1 GiB


async def test_huge_file_is_hashed_in_part(pod: Any) -> None:
    """A file over the hash cap is summarized by size, time and a hash of its head: a change
    to its head is seen, an untouched file is not reported, and the cap is noted."""
    await _sh(pod, "truncate -s 3M keep.bin; truncate -s 3M edit.bin")
    limits = CaptureLimits(hash_limit=1 << 20, head_bytes=64 << 10)
    roots = ["/home/agent"]
    before = await pod.manifest(roots, limits.manifest_options())
    head = [n for n in before.notes if n.kind == "file_hash"]
    assert {(n.path, n.size) for n in head} == {
        ("/home/agent/keep.bin", 3 << 20),
        ("/home/agent/edit.bin", 3 << 20),
    }
    assert before.files["/home/agent/keep.bin"]["hashed"] == 64 << 10
    await _sh(pod, "printf x | dd of=edit.bin conv=notrunc status=none")
    after = await pod.manifest(roots, limits.manifest_options())
    changes = diff_manifests(before, after, limits)
    assert [(c.path, c.change) for c in changes] == [("/home/agent/edit.bin", "modified")]
    assert changes[0].note and "first 65536 bytes" in changes[0].note


async def test_fifo_and_device_symlink_at_the_database_path(pod: Any) -> None:
    """A FIFO or a symlink to /dev/zero where the database was is refused unopened (no hang,
    no endless read) and noted; FIFOs and symlinks elsewhere are listed as what they are."""
    await _sh(pod, f"mkfifo /tmp/pipe; rm {DB}; mkfifo {DB}")
    state = await _capture(pod)
    [refused] = _notes(state, "not_regular")
    assert refused.path == DB and "fifo" in refused.detail
    assert "tables not compared: customers" in refused.detail
    assert _change(state, "/tmp/pipe").kind == "other"
    await _sh(pod, f"rm {DB}; ln -s /dev/zero {DB}")
    state = await _capture(pod)
    [refused] = _notes(state, "not_regular")
    assert refused.path == DB and "symlink" in refused.detail


async def test_large_read_stays_small_in_the_exec_server(pod: Any) -> None:
    """Reading a 64 MiB file goes in chunks: the exec server never holds it whole (it peaked
    at four times the file's size), and the bytes arrive intact."""
    await _sh(pod, "head -c 67108864 /dev/urandom > big.bin; sha256sum big.bin > big.sum")
    data = await pod.read_file("big.bin")
    expected = (await pod.read_file("big.sum")).split()[0].decode()
    assert len(data) == 64 << 20 and hashlib.sha256(data).hexdigest() == expected
    assert await _server_peak_mib(pod) < 64
    with pytest.raises(OverflowError):
        await pod.read_file("big.bin", limit=1 << 20)


async def test_agent_reads_of_special_files_fail_fast(pod: Any) -> None:
    """read_file of a FIFO, or of a symlink to /dev/zero, raises at once: it never blocks on
    the FIFO nor reads the device without end."""
    await _sh(pod, "mkfifo pipe; ln -s /dev/zero zero")
    for name in ("pipe", "zero"):
        with pytest.raises(NotRegularFileError, match="not a regular file"):
            await asyncio.wait_for(pod.read_file(name), 30)
    assert (await pod.read_file("notes.txt")) == b"remember the milk\n"


async def test_symlinked_folder_above_the_database_is_not_followed(
    base_image: str, tmp_path: Path
) -> None:
    """A folder on the database's path swapped for a symlink is not followed (capture reads
    as root: the link could point anywhere)."""
    (tmp_path / "snapshot.yaml").write_text(AGENT_DB_SNAPSHOT)
    p = await Pod.start(load_snapshot(tmp_path), sample_id="hostile-state")
    try:
        await _sh(p, "mv data real && ln -s real data")
        state = await _capture(p)
        [refused] = _notes(state, "not_regular")
        assert refused.path == "/home/agent/data/app.db" and "symlink" in refused.detail
    finally:
        await p.close()


async def test_database_over_the_cap_and_corrupt(pod: Any) -> None:
    """A database grown over db_limit, or made unreadable, is not compared, with the reason."""
    await _sh(pod, f"sqlite3 {DB} 'create table pad(b); insert into pad values (zeroblob(300000))'")
    state = await _capture(pod, CaptureLimits(db_limit=256 << 10))
    [over] = _notes(state, "database_size")
    assert over.path == DB and over.size is not None and over.size > 256 << 10
    assert not state.rows
    await _sh(pod, f"head -c 8192 /dev/urandom > {DB}")
    state = await _capture(pod)
    [bad] = _notes(state, "database_unreadable")
    assert bad.path == DB and not state.rows


async def test_too_many_rows_and_row_changes(pod: Any) -> None:
    """A table over max_rows is not compared; past max_row_changes the changes are cut."""
    grow = "insert into customers select 'x'||i, 'n', '[]' from (with recursive c(i) as "
    grow += "(select 1 union all select i+1 from c where i<50) select i from c)"
    await _sh(pod, f'sqlite3 {DB} "{grow}"')
    state = await _capture(pod, CaptureLimits(max_rows=20))
    [rows] = _notes(state, "table_rows")
    assert (rows.path, rows.size, rows.limit) == ("shop.customers", 52, 20)
    state = await _capture(pod, CaptureLimits(max_row_changes=10))
    [cut] = _notes(state, "row_changes")
    assert (cut.size, len(state.rows)) == (50, 10)


async def test_entry_cap_stops_the_walk_without_false_deletions(pod: Any) -> None:
    """Past max_entries the walk stops and says what it did not visit; nothing it did not
    visit is reported deleted."""
    await _sh(pod, "mkdir -p /tmp/many && cd /tmp/many && for i in $(seq 400); do : > f$i; done")
    state = await _capture(pod, CaptureLimits(max_entries=200))
    assert _notes(state, "entries") and _notes(state, "unwalked")
    assert not [f for f in state.files if f.change == "deleted"]


async def test_manifest_cache_keeps_no_content(pod: Any) -> None:
    """The host's baseline cache holds hashes only, in a file only its owner can read; the
    old text of changed files still comes back (from the snapshot or the image)."""
    path = _cache_path(pod_image(pod), watch_roots(pod.snapshot))
    raw = path.read_text()
    assert "OPENSSH PRIVATE KEY" not in raw and "remember the milk" not in raw
    assert not any("content" in e for e in json.loads(raw)["files"].values())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache_dir("manifests").stat().st_mode) == 0o700
    os_release = (await pod.exec(["cat", "/etc/debian_version"])).stdout
    await _sh(pod, "echo changed > /etc/debian_version", user="root")
    await _sh(pod, "echo later > notes.txt")
    state = await _capture(pod)
    image_file = _change(state, "/etc/debian_version")
    assert (image_file.before, image_file.after) == (os_release, "changed\n")
    assert _change(state, "/home/agent/notes.txt").before == "remember the milk\n"


TABLE = 'o"rd]ers; DROP TABLE x;-- ü'
HOSTILE_SNAPSHOT = {
    "name": "hostile-names",
    "databases": [
        {
            "name": "shop",
            "path": "/srv/shop/shop.db",
            "tables": [
                {
                    "name": TABLE,
                    "primary_key": ["i]d; x"],
                    "columns": [
                        {"name": "i]d; x", "type": "INTEGER"},
                        {"name": "st]at us"},
                        {"name": "ta'gs", "type": "JSON"},
                    ],
                    "rows": [
                        {"i]d; x": 1, "st]at us": "open", "ta'gs": ["a"]},
                        {"i]d; x": 2, "st]at us": "shipped", "ta'gs": []},
                    ],
                }
            ],
        }
    ],
    "services": [
        {
            "name": "shop",
            "hostnames": ["api.shop.test"],
            "database": "shop",
            "resources": [
                {
                    "path": "/v1/orders",
                    "table": TABLE,
                    "id_field": "i]d; x",
                    "filters": ["st]at us"],
                }
            ],
        }
    ],
}


def _sql_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def test_hostile_table_and_column_names(base_image: str, tmp_path: Path) -> None:
    """Table and column names with quotes, brackets, spaces, semicolons and unicode are data
    everywhere at run time: the sidecar's resources serve them, and state capture reports the
    agent's row changes and new tables by those names."""
    import yaml

    (tmp_path / "snapshot.yaml").write_text(yaml.safe_dump(HOSTILE_SNAPSHOT, allow_unicode=True))
    p = await Pod.start(load_snapshot(tmp_path), sample_id="hostile-names")
    try:
        t, status, key = _sql_name(TABLE), _sql_name("st]at us"), _sql_name("i]d; x")
        sql = f'UPDATE {t} SET {status} = \'gone\' WHERE {key} = 2; CREATE TABLE "new""; t"(a);'
        await _sh(p, f"sqlite3 /srv/shop/shop.db {shlex.quote(sql)}")
        post = (
            "curl -sS -X POST -H 'content-type: application/json' "
            '-d \'{"st]at us": "new", "ta\'\\\'\'gs": ["b"]}\' http://api.shop.test/v1/orders; '
            "curl -sS 'http://api.shop.test/v1/orders?st%5Dat%20us=new'; "
            "curl -sS -X DELETE http://api.shop.test/v1/orders/1"
        )
        r = await p.exec(["sh", "-c", post])
        assert r.returncode == 0 and r.stdout.count('"i]d; x": 3') == 2, r.stdout
        state = await _capture(p)
        assert [(c.table, c.key, c.columns) for c in state.rows] == [
            (TABLE, {"i]d; x": 2}, ["st]at us"])
        ]
        assert state.new_tables == ['shop.new"; t']
        served = state.services_tables["shop"][TABLE]
        assert [(row["i]d; x"], row["st]at us"]) for row in served] == [(2, "shipped"), (3, "new")]
        assert [e["status"] for e in state.services_log] == [201, 200, 204]
    finally:
        await p.close()


PAY_SNAPSHOT = """\
name: payments-flood
services:
  - name: pay
    hostnames: [api.lumenpay.io]
    database: pay
    resources:
      - {path: /v1/refunds, table: refunds, id_field: id}
databases:
  - name: pay
    path: /var/lib/pay/pay.db
    tables:
      - name: refunds
        primary_key: [id]
        columns: [{name: id}, {name: amount, type: REAL}, {name: note}]
        rows: [{id: re_1, amount: 1.5, note: first}]
"""


async def test_sidecar_survives_twenty_megabyte_posts(base_image: str, tmp_path: Path) -> None:
    """Thirty 20 MB POSTs from the agent get 413 from the services sidecar, which stays up
    (512 MB limit); a long accepted body is logged as prefix, size and hash, and capture
    returns a small, valid record."""
    (tmp_path / "snapshot.yaml").write_text(PAY_SNAPSHOT)
    p = await Pod.start(load_snapshot(tmp_path), sample_id="hostile-sidecar")
    try:
        flood = (
            "head -c 20000000 /dev/zero | tr '\\0' a > /tmp/big; "
            "for i in $(seq 30); do curl -s -o /dev/null -w '%{http_code} ' "
            "-H 'content-type: application/json' --data-binary @/tmp/big "
            "http://api.lumenpay.io/v1/refunds; done; "
            'python3 -c \'import json; print(json.dumps({"id": "re_2", "note": "n" * 300000}))\''
            " > /tmp/long.json; curl -s -o /dev/null -w '%{http_code}' "
            "-H 'content-type: application/json' --data-binary @/tmp/long.json "
            "http://api.lumenpay.io/v1/refunds"
        )
        r = await p.exec(["sh", "-c", flood], timeout=300)
        assert r.stdout.split() == ["413"] * 30 + ["201"], r.stderr
        state = await _capture(p)
        await asyncio.to_thread(p.services.reload)
        assert p.services.status == "running"
        *refused, long = state.services_log
        assert len(refused) == 30
        assert all(e["body_truncated"] and e["body_size"] == 20_000_000 for e in refused)
        assert long["body_truncated"] and long["body_sha256"] and long["body_size"] > 300_000
        assert len(state.model_dump_json()) < 2_000_000
    finally:
        await p.close()
