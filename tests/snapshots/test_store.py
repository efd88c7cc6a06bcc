"""Loading, extends, saving and the content hash of snapshot folders (the owner's _store)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from deploysim.errors import SnapshotError
from deploysim.snapshots import (
    FunctionTool,
    RecordedHandler,
    Service,
    Snapshot,
    content_hash,
    load_snapshot,
    materialize_database,
    read_rows,
    save_snapshot,
)
from tests.snapshots.conftest import write_mini

# The hash of the mini snapshot. It must only change when the canonical form changes on
# purpose: new optional model fields left unset must not move it.
MINI_HASH = "ce626a3f483a05a95a0bd26af63e73c9b9188c490da14a49666a1ca74eb15324"


def test_save_keeps_handler_kinds(tmp_path: Path) -> None:
    """A handler whose kind is the default still loads after save (kind is the discriminator)."""
    snap = Snapshot(
        name="x",
        services=[
            Service(name="s", function_tools=[FunctionTool(name="t", handler=RecordedHandler())])
        ],
    )
    save_snapshot(snap, tmp_path)
    loaded = load_snapshot(tmp_path).snapshot
    assert loaded.services[0].function_tools[0].handler.kind == "recorded"


def test_hash_is_stable(mini: Path) -> None:
    """The content hash of a fixed snapshot is a fixed value (across runs and versions)."""
    assert content_hash(load_snapshot(mini)) == MINI_HASH


def test_hash_ignores_storage_and_provenance(mini: Path, tmp_path: Path) -> None:
    """Inline content and files/ content hash the same; provenance does not count."""
    sd = load_snapshot(mini)
    other = tmp_path / "other"
    shutil.copytree(mini, other)
    data = yaml.safe_load((other / "snapshot.yaml").read_text())
    data["files"][0] = {
        "path": "/home/agent/notes.txt",
        "source": "notes.txt",
        "provenance": [{"source": "trace", "trace_id": "t1"}],
    }
    (other / "files" / "notes.txt").write_text("hello\n")
    (other / "snapshot.yaml").write_text(yaml.safe_dump(data))
    assert content_hash(load_snapshot(other)) == content_hash(sd)


def test_hash_changes_with_a_row(mini: Path) -> None:
    """Changing one value of one row changes the hash."""
    before = content_hash(load_snapshot(mini))
    p = mini / "databases" / "shop" / "customers.jsonl"
    p.write_text(p.read_text().replace("gold", "silver"))
    assert content_hash(load_snapshot(mini)) != before


def test_extends_overrides_by_key(mini: Path, tmp_path: Path) -> None:
    """A child overrides one file and one env var; the rest comes from the parent folder."""
    child = tmp_path / "child"
    child.mkdir()
    (child / "snapshot.yaml").write_text(
        "name: child\nextends: ../mini\nenv: {MODE: test}\n"
        "files:\n- {path: /home/agent/notes.txt, content: changed}\n"
    )
    sd = load_snapshot(child)
    files = {f.path: sd.file_bytes(f) for f in sd.snapshot.files}
    assert files["/home/agent/notes.txt"] == b"changed"
    assert files["/home/agent/logo.bin"] == bytes(range(256))
    assert sd.snapshot.env == {"MODE": "test"} and sd.snapshot.name == "child"


def test_extends_loop_is_an_error(tmp_path: Path) -> None:
    """Two snapshots extending each other raise an error naming the extends field."""
    for a, b in (("a", "b"), ("b", "a")):
        (tmp_path / a).mkdir()
        (tmp_path / a / "snapshot.yaml").write_text(f"name: {a}\nextends: ../{b}\n")
    with pytest.raises(SnapshotError) as e:
        load_snapshot(tmp_path / "a")
    assert e.value.field == "extends" and "loops" in e.value.reason


def test_materialize_round_trip(mini: Path, tmp_path: Path) -> None:
    """Rows written to a real SQLite file read back equal, ordered by primary key."""
    sd = load_snapshot(mini)
    db = sd.snapshot.databases[0]
    out = materialize_database(sd, db, tmp_path / "shop.db")
    for t in db.tables:
        assert read_rows(out, t) == sorted(sd.table_rows(db, t), key=lambda r: r["id"])


def test_load_error_names_file_and_field(tmp_path: Path) -> None:
    """A bad field makes load fail with the file and the dotted field in the error."""
    write_mini(tmp_path)
    text = (tmp_path / "snapshot.yaml").read_text().replace("api.tallyfin.com", "API_BAD")
    (tmp_path / "snapshot.yaml").write_text(text)
    with pytest.raises(SnapshotError) as e:
        load_snapshot(tmp_path)
    assert e.value.path.endswith("snapshot.yaml")
    assert e.value.field == "services[0].hostnames"
