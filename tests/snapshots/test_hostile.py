"""A snapshot is untrusted input: system files, host paths, symlinks, setuid, root (issue 11).

Each hostile snapshot is written as YAML on disk, as an attacker would ship it. validate
reports every offending field (file and field named); loading refuses it with a
SnapshotError naming the file and the field; the readers the image build uses refuse too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploysim.errors import SnapshotError
from deploysim.snapshots import (
    Database,
    FileEntry,
    Snapshot,
    SnapshotDir,
    load_snapshot,
    validate_snapshot,
)


def _write(root: Path, data: dict[str, Any]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "snapshot.yaml").write_text(yaml.safe_dump({"name": root.name, **data}))
    return root


def _errors(root: Path) -> dict[str, str]:
    report = validate_snapshot(root)
    assert not report.ok
    return {str(i.field): i.message for i in report.errors}


def test_system_files_are_refused_at_every_placement(tmp_path: Path) -> None:
    """Files, symlinks, directories, repositories (and their commits) and databases at system
    paths are each an error of their own field; loading names the first one."""
    commit = {"message": "m", "author": "a <a@b.c>", "date": "2026-01-01T00:00:00Z"}
    root = _write(
        tmp_path / "sys",
        {
            "files": [
                {"path": "/home/agent/ok.txt", "content": "fine"},
                {"path": "/etc/passwd", "content": "agent:x:0:0::/home/agent:/bin/bash\n"},
                {"path": "/etc/sudoers.d/agent", "content": "agent ALL=(ALL) NOPASSWD: ALL\n"},
                {"path": "/etc/ld.so.preload", "kind": "symlink", "target": "/home/agent/x.so"},
                {"path": "/etc//../etc/shadow", "content": "x"},
                {"path": "/etc", "kind": "dir", "mode": "0777"},
                {"path": "/usr/local/lib/python3.11/dist-packages/sitecustomize.py", "content": ""},
            ],
            "repos": [
                {"path": "/", "commits": [commit]},
                {
                    "path": "/srv/app",
                    "commits": [{**commit, "changes": [{"path": "x", "content": "y"}]}],
                },
                {
                    "path": "/etc",
                    "commits": [{**commit, "changes": [{"path": "group", "content": "g"}]}],
                },
            ],
            "databases": [{"name": "d", "path": "/var/lib/dpkg/status.db"}],
        },
    )
    errors = _errors(root)
    for field in (
        "files[1].path",
        "files[2].path",
        "files[3].path",
        "files[5].path",
        "files[6].path",
        "repos[0].path",
        "repos[2].path",
        "databases[0].path",
    ):
        assert field in errors, (field, errors)
    assert "the user database" in errors["files[1].path"]
    assert "files[0].path" not in errors and "repos[1].path" not in errors
    with pytest.raises(SnapshotError) as e:
        load_snapshot(root)
    assert e.value.field == "files[1].path" and e.value.path.endswith("snapshot.yaml")


def test_setuid_modes_root_agent_and_harness_env_are_refused(tmp_path: Path) -> None:
    """setuid/setgid bits (files, databases), a root agent (by name or uid 0) and variables
    that steer the loader, the interpreter or the harness are errors of their fields."""
    root = _write(
        tmp_path / "priv",
        {
            "user": "0",
            "files": [{"path": "/home/agent/sh", "content": "x", "mode": "4755"}],
            "databases": [{"name": "d", "path": "/srv/d.db", "mode": "2644"}],
            "env": {"LD_PRELOAD": "/home/agent/x.so", "DEPLOYSIM_AGENT_USER": "root"},
        },
    )
    errors = _errors(root)
    assert {"user", "files[0].mode", "databases[0].mode", "env"} <= set(errors)
    assert "LD_PRELOAD" in errors["env"] and "DEPLOYSIM_AGENT_USER" in errors["env"]
    with pytest.raises(ValueError, match="root"):
        Snapshot(name="x", user="root")
    with pytest.raises(ValueError, match="setuid"):
        FileEntry(path="/home/agent/x", content="", mode="6755")


def _secret(tmp_path: Path) -> Path:
    secret = tmp_path / "host" / "shadow"
    secret.parent.mkdir()
    secret.write_text("root:$6$hostsecret:19000:0:99999:7:::\n")
    return secret


def test_every_content_path_stays_inside_the_snapshot(tmp_path: Path) -> None:
    """`../`, absolute paths and symlinks leading out are each an error of their own field,
    for files, commit changes, rows files and handler modules alike; none is read."""
    secret = _secret(tmp_path)
    root = tmp_path / "host-paths"
    (root / "files").mkdir(parents=True)
    (root / "files" / "key").symlink_to(secret)
    (root / "databases").mkdir()
    (root / "databases" / "rows.jsonl").symlink_to(secret)
    (root / "services").mkdir()
    (root / "services" / "h.py").write_text("def f(db):\n    return 1\n")
    (root / "services" / "helper.py").symlink_to(secret)  # the build ships siblings too
    commit = {"message": "m", "author": "a <a@b.c>", "date": "2026-01-01T00:00:00Z"}
    _write(
        root,
        {
            "files": [
                {"path": "/home/agent/a", "source": "../../host/shadow"},
                {"path": "/home/agent/b", "source": str(secret)},
                {"path": "/home/agent/c", "source": "key"},
            ],
            "repos": [
                {
                    "path": "/srv/app",
                    "commits": [{**commit, "changes": [{"path": "x", "source": "key"}]}],
                }
            ],
            "databases": [
                {
                    "name": "d",
                    "path": "/srv/d.db",
                    "tables": [
                        {
                            "name": "t",
                            "columns": [{"name": "id"}],
                            "primary_key": ["id"],
                            "rows_file": "rows.jsonl",
                        },
                        {
                            "name": "u",
                            "columns": [{"name": "id"}],
                            "primary_key": ["id"],
                            "rows_file": "/etc/shadow",
                        },
                    ],
                }
            ],
            "services": [
                {
                    "name": "s",
                    "function_tools": [
                        {
                            "name": "f",
                            "handler": {"kind": "python", "module": "h.py", "function": "f"},
                        }
                    ],
                }
            ],
        },
    )
    errors = _errors(root)
    # Syntax errors come first, per layer; fix them and the symlinks are reported.
    assert {"files[0].source", "files[1].source", "databases[0].tables[1].rows_file"} <= set(errors)
    data = yaml.safe_load((root / "snapshot.yaml").read_text())
    data["files"] = data["files"][2:]
    data["databases"][0]["tables"] = data["databases"][0]["tables"][:1]
    (root / "snapshot.yaml").write_text(yaml.safe_dump(data))
    errors = _errors(root)
    assert {
        "files[0].source",
        "repos[0].commits[0].changes[0].source",
        "databases[0].tables[0].rows_file",
        "services[0].function_tools[0].handler.module",
    } <= set(errors)
    assert "leads outside" in errors["files[0].source"]
    with pytest.raises(SnapshotError) as e:
        load_snapshot(root)
    assert e.value.field == "files[0].source" and "hostsecret" not in str(e.value)


def test_the_readers_refuse_what_load_would_refuse(tmp_path: Path) -> None:
    """SnapshotDir (which the image build reads through) checks again: a SnapshotDir made
    without loading, or a folder changed after loading, cannot read a host file or a FIFO."""
    secret = _secret(tmp_path)
    root = tmp_path / "swapped"
    (root / "files").mkdir(parents=True)
    (root / "files" / "a").symlink_to(secret)
    os.mkfifo(root / "files" / "fifo")
    snap = Snapshot(
        name="swapped",
        files=[
            FileEntry(path="/home/agent/a", source="a"),
            FileEntry(path="/home/agent/f", source="fifo"),
        ],
        databases=[Database(name="d", path="/srv/d.db")],
    )
    sd = SnapshotDir(root, snap)
    with pytest.raises(SnapshotError, match="leads outside"):
        sd.file_bytes(snap.files[0])
    with pytest.raises(SnapshotError, match="not a regular file"):
        sd.file_bytes(snap.files[1])  # refused at once, not waited on forever
    with pytest.raises(SnapshotError, match="lead out"):
        sd.module_files("s", "../../host/shadow")


def test_a_content_folder_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    """files/ itself linked to a host folder is a path leading out."""
    (tmp_path / "host").mkdir()
    (tmp_path / "host" / "id_rsa").write_text("KEY")
    root = _write(tmp_path / "linked", {"files": [{"path": "/home/agent/k", "source": "id_rsa"}]})
    (root / "files").symlink_to(tmp_path / "host")
    assert "leads outside" in _errors(root)["files[0].source"]


def test_entries_beneath_a_symlink_entry_are_refused(tmp_path: Path) -> None:
    """A file under a symlink entry would be written through it (/home/agent/x -> /etc, then
    /home/agent/x/passwd); a child layer linking a parent's folder away is refused too."""
    root = _write(
        tmp_path / "links",
        {
            "files": [
                {"path": "/home/agent/x", "kind": "symlink", "target": "/etc"},
                {"path": "/home/agent/x/passwd", "content": "agent:x:0:0::/:/bin/sh\n"},
            ],
            "databases": [{"name": "d", "path": "/home/agent/x/d.db"}],
        },
    )
    errors = _errors(root)
    assert "beneath the symlink /home/agent/x" in errors["files[1].path"]
    assert "databases[0].path" in errors
    _write(tmp_path / "base", {"files": [{"path": "/srv/app/conf", "content": "c"}]})
    child = _write(
        tmp_path / "child",
        {"extends": "base", "files": [{"path": "/srv/app", "kind": "symlink", "target": "/etc"}]},
    )
    assert "/srv/app/conf" in _errors(child)["files[0].path"]


def test_extends_names_a_sibling_only(tmp_path: Path) -> None:
    """extends may name a snapshot beside this one; an absolute path, a path leading out of
    the holding folder and a sibling that is a symlink to elsewhere are refused."""
    outside = _write(tmp_path / "elsewhere" / "secret", {})
    coll = tmp_path / "env_snapshots"
    _write(coll / "base", {})
    (coll / "linked").symlink_to(outside)
    assert load_snapshot(_write(coll / "ok", {"extends": "base"})).snapshot.name == "ok"
    assert load_snapshot(_write(coll / "ok2", {"extends": "../base"})).snapshot.name == "ok2"
    for i, ref in enumerate([str(outside), "../../elsewhere/secret", "linked"]):
        child = _write(coll / f"bad{i}", {"extends": ref})
        with pytest.raises(SnapshotError) as e:
            load_snapshot(child)
        assert e.value.field == "extends"
        assert "extends" in _errors(child)


def test_authoring_refuses_before_it_copies(tmp_path: Path) -> None:
    """add-file validates the sandbox path before copying: a system path or one with '..'
    copies nothing into files/ (or beside it); a source's setuid bit is not kept."""
    from deploysim.snapshots import add_file, new_snapshot

    root = tmp_path / "authored"
    new_snapshot(root)
    src = tmp_path / "payload"
    src.write_text("agent:x:0:0::/:/bin/sh\n")
    for path in ("/etc/passwd", "/home/../../../outside"):
        with pytest.raises(SnapshotError):
            add_file(root, path, source=src)
    assert not (root / "files").exists() and not (tmp_path / "outside").exists()
    src.chmod(0o4755)
    assert add_file(root, "/home/agent/tool", source=src).mode == "0755"


def test_git_remotes_cannot_pass_options(tmp_path: Path) -> None:
    """Remote names and URLs reach `git remote add` on the host: option look-alikes are
    refused."""
    commit = {"message": "m", "author": "a <a@b.c>", "date": "2026-01-01T00:00:00Z"}
    root = _write(
        tmp_path / "remotes",
        {"repos": [{"path": "/srv/app", "commits": [commit], "remotes": {"-f": "x"}}]},
    )
    assert "repos[0].remotes" in _errors(root)


def test_a_huge_content_file_is_refused_not_read(tmp_path: Path) -> None:
    """A sparse 2 GiB content file is refused from its size, without reading it."""
    root = _write(tmp_path / "huge", {"files": [{"path": "/home/agent/big", "source": "big"}]})
    (root / "files").mkdir()
    with (root / "files" / "big").open("wb") as fh:
        fh.truncate(2 << 30)
    sd = load_snapshot(root)
    with pytest.raises(SnapshotError, match="larger than 1024 MiB"):
        sd.file_bytes(sd.snapshot.files[0])
    assert any("larger than" in m for m in _errors(root).values())


def test_deeply_nested_yaml_is_a_clear_error(tmp_path: Path) -> None:
    """2000 nested lists in snapshot.yaml give an error naming the file, not RecursionError."""
    root = tmp_path / "deep"
    root.mkdir()
    (root / "snapshot.yaml").write_text("name: deep\nenv: " + "[" * 2_000 + "]" * 2_000)
    with pytest.raises(SnapshotError, match="nested too deeply"):
        load_snapshot(root)
    assert "nested too deeply" in next(iter(_errors(root).values()))
