"""diff_snapshots (files, rows by key, services) and pack/unpack (determinism, safety)."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest
import yaml

from deploysim.errors import SnapshotError
from deploysim.snapshots import (
    content_hash,
    diff_rows,
    diff_snapshots,
    load_snapshot,
    pack_snapshot,
    unpack_snapshot,
)


def _copy(mini: Path, tmp_path: Path) -> Path:
    other = tmp_path / "after"
    shutil.copytree(mini, other)
    return other


def test_identical_snapshots_have_no_diff(mini: Path, tmp_path: Path) -> None:
    """A copy differs in nothing, and the hashes agree."""
    d = diff_snapshots(load_snapshot(mini), load_snapshot(_copy(mini, tmp_path)))
    assert d.empty and d.hash_a == d.hash_b


def test_diff_reports_files_rows_and_routes(mini: Path, tmp_path: Path) -> None:
    """Each kind of change shows up once, with the changed fields or columns named."""
    after = _copy(mini, tmp_path)
    data = yaml.safe_load((after / "snapshot.yaml").read_text())
    data["files"][1]["mode"] = "0644"
    data["files"][1]["owner"] = "root"
    data["files"].append({"path": "/etc/motd", "content": "hi"})
    del data["files"][0]
    rows = data["databases"][0]["tables"][1]["rows"]
    rows[0]["status"] = "shipped"
    rows.append({"id": 3, "customer_id": "cus_a", "status": "paid", "total": 9.5})
    del rows[1]
    svc = data["services"][0]
    svc["exchanges"].append({"request": {"method": "POST", "path": "/v1/refunds"}, "response": {}})
    svc["function_tools"] = svc["function_tools"][:1]
    (after / "snapshot.yaml").write_text(yaml.safe_dump(data))
    (after / "files" / "logo.bin").write_bytes(b"new")

    d = diff_snapshots(load_snapshot(mini), load_snapshot(after))
    files = {f.path: f for f in d.files}
    assert files["/etc/motd"].status == "added"
    assert files["/home/agent/notes.txt"].status == "removed"
    assert files["/home/agent/logo.bin"].changed == ["content", "mode", "owner"]
    (orders,) = [t for t in d.tables if t.table == "orders"]
    by_key = {r.key["id"]: r for r in orders.rows}
    assert by_key[1].status == "changed" and by_key[1].columns == ["status"]
    assert by_key[2].status == "removed" and by_key[3].status == "added"
    (api,) = d.services
    assert [(r.key, r.status) for r in api.routes] == [("POST /v1/refunds", "added")]
    assert [(t.key, t.status) for t in api.function_tools] == [("refund", "removed")]


def test_diff_rows_treats_missing_columns_as_null() -> None:
    """A column absent in one row and null in the other is no change; keys may be composite."""
    before = [{"a": 1, "b": 2, "x": None}]
    after = [{"a": 1, "b": 2}, {"a": 1, "b": 3, "x": 5}]
    changes = diff_rows(["a", "b"], before, after)
    assert [(c.key, c.status) for c in changes] == [({"a": 1, "b": 3}, "added")]


def test_pack_is_deterministic_and_round_trips(mini: Path, tmp_path: Path) -> None:
    """Packing twice gives identical bytes; unpacking gives the same content hash."""
    a = pack_snapshot(mini, tmp_path / "a.tar.gz")
    b = pack_snapshot(mini, tmp_path / "b.tar.gz")
    assert a.path.read_bytes() == b.path.read_bytes()
    out = unpack_snapshot(a.path, tmp_path / "copy")
    assert out.hash == a.hash == content_hash(load_snapshot(tmp_path / "copy"))
    again = pack_snapshot(tmp_path / "copy", tmp_path / "c.tar.gz")
    assert again.path.read_bytes() == a.path.read_bytes()


def test_pack_flattens_extends(mini: Path, tmp_path: Path) -> None:
    """A child snapshot packs alone: unpacked, it needs no parent and keeps its hash."""
    child = tmp_path / "child"
    child.mkdir()
    (child / "snapshot.yaml").write_text("name: child\nextends: ../mini\nenv: {A: b}\n")
    packed = pack_snapshot(child, tmp_path / "child.tar.gz")
    out = unpack_snapshot(packed.path, tmp_path / "alone" / "child")
    assert load_snapshot(out.path).snapshot.extends is None
    assert out.hash == packed.hash == content_hash(load_snapshot(child))


def _archive(tmp_path: Path, members: list[tarfile.TarInfo]) -> Path:
    path = tmp_path / "evil.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for m in members:
            data = b"x" * m.size
            tar.addfile(m, io.BytesIO(data) if m.isfile() else None)
    return path


@pytest.mark.parametrize(
    "name, kind",
    [
        ("../escape.txt", tarfile.REGTYPE),
        ("/etc/evil", tarfile.REGTYPE),
        ("snap/link", tarfile.SYMTYPE),
    ],
)
def test_unpack_refuses_unsafe_members(tmp_path: Path, name: str, kind: bytes) -> None:
    """Absolute paths, '..' and links are refused before anything is written, even trusted."""
    yaml_member = tarfile.TarInfo("snap/snapshot.yaml")
    yaml_member.size = 1
    bad = tarfile.TarInfo(name)
    bad.type = kind
    bad.size = 1 if kind == tarfile.REGTYPE else 0
    if kind == tarfile.SYMTYPE:
        bad.linkname = "/etc/passwd"
    archive = _archive(tmp_path, [yaml_member, bad])
    with pytest.raises(SnapshotError, match="refused"):
        unpack_snapshot(archive, tmp_path / "out", trust=True)
    assert not (tmp_path / "out").exists() and not (tmp_path / "escape.txt").exists()


def _rewrite(packed: Path, out: Path, *, fix_manifest: bool) -> Path:
    """A copy of ``packed`` with one row changed; with ``fix_manifest`` the manifest agrees."""
    members: list[tuple[tarfile.TarInfo, bytes]] = []
    with tarfile.open(packed) as src:
        for m in src.getmembers():
            f = src.extractfile(m)
            data = f.read() if f else b""
            if m.name.endswith("customers.jsonl"):
                data = data.replace(b"gold", b"gilt")
            members.append((m, data))
    if fix_manifest:
        manifest = json.loads(members[0][1])
        for entry in manifest["members"]:
            for m, data in members:
                if m.name == entry["name"] and m.isfile():
                    entry.update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
        members[0] = (members[0][0], json.dumps(manifest).encode())
    with tarfile.open(out, "w:gz") as dst:
        for m, data in members:
            m.size = len(data)
            dst.addfile(m, io.BytesIO(data) if m.isfile() else None)
    return out


def test_unpack_detects_tampering(mini: Path, tmp_path: Path) -> None:
    """A member that no longer matches its manifest entry is rejected; so is an archive whose
    manifest was rewritten to match, by the content hash recorded when packing."""
    packed = pack_snapshot(mini, tmp_path / "a.tar.gz")
    bad = _rewrite(packed.path, tmp_path / "t.tar.gz", fix_manifest=False)
    with pytest.raises(SnapshotError, match="SHA-256"):
        unpack_snapshot(bad, tmp_path / "out")
    rewritten = _rewrite(packed.path, tmp_path / "r.tar.gz", fix_manifest=True)
    with pytest.raises(SnapshotError, match="content hash"):
        unpack_snapshot(rewritten, tmp_path / "out")
    assert not (tmp_path / "out").exists()
