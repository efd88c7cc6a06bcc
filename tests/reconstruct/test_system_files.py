"""System files shown by a trace are never rebuilt into the snapshot (issue 11, finding 1)."""

from __future__ import annotations

from pathlib import Path

import yaml

from deploysim.reconstruct import reconstruct
from deploysim.snapshots import load_snapshot, validate_snapshot
from deploysim.traces import import_traces, write_traces
from tests.reconstruct.builders import spec, trace

BASH = spec("bash", kind="shell", command="string")
EDITOR = spec("str_replace_editor", kind="editor", command="string", path="string")
PASSWD = (
    "root:x:0:0:root:/root:/bin/bash\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "agent:x:0:0:agent:/home/agent:/bin/bash\n"
)


def _hostile_trace_file(tmp_path: Path) -> Path:
    """A canonical JSONL trace: `cat /etc/passwd` shows agent as uid 0; an ordinary view."""
    t = trace(
        "passwd",
        [
            ("bash", {"command": "cat /etc/passwd"}, PASSWD),
            ("bash", {"command": "cat /etc/sudoers.d/agent"}, "agent ALL=(ALL) NOPASSWD: ALL\n"),
            (
                "str_replace_editor",
                {"command": "view", "path": "/srv/app/config.toml"},
                "Here's the result of running `cat -n` on /srv/app/config.toml:\n"
                "     1\t[server]\n     2\tport = 8080\n",
            ),
            ("bash", {"command": "ls /etc"}, "hostname\nmyapp.conf\npasswd\nshadow\n"),
        ],
        [BASH, EDITOR],
    )
    path = tmp_path / "passwd.jsonl"
    write_traces([t], path)
    return path


def test_passwd_from_a_trace_is_skipped_and_reported(tmp_path: Path) -> None:
    """The ordinary file is rebuilt; /etc/passwd and sudoers are not, and each skip is reported
    with its reason (result, warnings and the snapshot's provenance); the snapshot validates."""
    traces = import_traces([_hostile_trace_file(tmp_path)]).traces
    out = tmp_path / "rebuilt"
    result = reconstruct(traces, out)
    files = {f.path: f for f in load_snapshot(out).snapshot.files}
    assert "/srv/app/config.toml" in files
    assert files["/srv/app/config.toml"].content == "[server]\nport = 8080\n"
    assert "/etc/myapp.conf" in files  # a listing of /etc still teaches what exists there
    assert not {"/etc/passwd", "/etc/shadow", "/etc/sudoers.d/agent", "/etc"} & set(files)
    assert not (out / "files" / "etc").exists()
    skipped = {s.path: s for s in result.skipped}
    assert skipped["/etc/passwd"].reason == "the user database"
    assert skipped["/etc/passwd"].observations == 2  # the cat and the listing
    assert skipped["/etc/passwd"].provenance.trace_id == "passwd"
    assert skipped["/etc/sudoers.d/agent"].reason == "privilege rules"
    assert any(w.startswith("/etc/passwd: not rebuilt") for w in result.warnings)
    raw = yaml.safe_load((out / "snapshot.yaml").read_text())
    details = [p.get("detail", "") for p in raw["provenance"]]
    assert any(d.startswith("skipped /etc/passwd: the user database") for d in details)
    assert "agent:x:0:0" not in (out / "snapshot.yaml").read_text()
    assert validate_snapshot(out).ok


def test_a_database_at_a_system_path_is_skipped(tmp_path: Path) -> None:
    """A sqlite3 call on a database under /var/lib/dpkg does not put a database there."""
    t = trace(
        "dpkg",
        [("bash", {"command": 'sqlite3 /var/lib/dpkg/x.db "SELECT * FROM t"'}, "1|a\n")],
        [BASH],
    )
    result = reconstruct([t], tmp_path / "rebuilt")
    assert not load_snapshot(tmp_path / "rebuilt").snapshot.databases
    assert [s.path for s in result.skipped] == ["/var/lib/dpkg/x.db"]
