"""The `deploysim snapshot` commands, run through typer's CliRunner on real folders."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deploysim.cli.snapshot import app
from deploysim.snapshots import build_repo, content_hash, load_snapshot, validate_snapshot
from tests.snapshots.conftest import ENV_SNAPSHOTS

runner = CliRunner()


def ok(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_author_a_snapshot_end_to_end(tmp_path: Path) -> None:
    """new, add-file (binary), add-table from CSV, fake, add-service, show, diff, pack, unpack."""
    snap = tmp_path / "store"
    ok("new", str(snap), "--clock", "2026-03-01T09:00:00Z")
    blob = tmp_path / "key.bin"
    blob.write_bytes(b"\x00\xffbinary")
    ok("add-file", str(snap), "/home/agent/key.bin", "--from", str(blob), "--mode", "0600")
    csv = tmp_path / "customers.csv"
    csv.write_text(
        "id,name,score,joined\ncus_1,Ana Rios,3.5,2025-01-02\ncus_2,Li Wei,,2025-02-03\n"
    )
    out = json.loads(
        ok(
            "add-table",
            str(snap),
            "--db",
            "crm",
            "--db-path",
            "/srv/crm.db",
            "--table",
            "customers",
            "--from",
            str(csv),
            "--json",
        )
    )
    assert out["table"]["primary_key"] == ["id"] and out["primary_key_inferred"]
    assert [c.get("type") for c in out["table"]["columns"]] == ["TEXT", "TEXT", "REAL", "TEXT"]
    notes = tmp_path / "notes.jsonl"
    notes.write_text('{"note_id": 10, "customer_id": "cus_2", "body": "called"}\n')
    out = json.loads(
        ok(
            "add-table",
            str(snap),
            "--db",
            "crm",
            "--table",
            "notes",
            "--from",
            str(notes),
            "--json",
        )
    )
    assert out["references_inferred"] == ["customer_id -> customers.id"]
    ok(
        "add-table",
        str(snap),
        "--db",
        "crm",
        "--table",
        "tickets",
        "-c",
        "id:INTEGER:pk",
        "-c",
        "customer_id:TEXT:ref=customers.id",
        "-c",
        "status:TEXT:values=open|closed",
        "-c",
        "created_at",
    )
    faked = json.loads(
        ok("fake", str(snap), "--table", "tickets", "--rows", "5", "--seed", "1", "--json")
    )
    assert faked["rows"] == 5 and faked["generic_columns"] == []
    assert validate_snapshot(snap).ok

    shown = json.loads(ok("show", str(snap), "--json"))
    assert shown["files"][0] == {
        "path": "/home/agent/key.bin",
        "kind": "file",
        "mode": "0600",
        "owner": "agent",
        "size": 8,
    }
    assert [t["rows"] for t in shown["databases"][0]["tables"]] == [2, 1, 5]

    archive = tmp_path / "store.tar.gz"
    ok("pack", str(snap), "-o", str(archive))
    ok("unpack", str(archive), "-o", str(tmp_path / "copy"))
    ok("fake", str(tmp_path / "copy"), "--table", "tickets", "--rows", "5", "--seed", "2")
    d = json.loads(ok("diff", str(snap), str(tmp_path / "copy"), "--json"))
    assert [t["table"] for t in d["tables"]] == ["tickets"] and not d["files"]
    assert runner.invoke(app, ["diff", str(snap), str(snap), "--exit-code"]).exit_code == 0
    assert (
        runner.invoke(app, ["diff", str(snap), str(tmp_path / "copy"), "--exit-code"]).exit_code
        == 1
    )


def test_add_service_from_openapi_and_har(tmp_path: Path) -> None:
    """OpenAPI collections become resources over tables; HAR entries become exchanges without
    request headers (no credentials copied)."""
    snap = tmp_path / "pay"
    ok("new", str(snap))
    sources = ENV_SNAPSHOTS / "shop" / "sources"
    out = json.loads(
        ok(
            "add-service",
            str(snap),
            "--openapi",
            str(sources / "corvapay-openapi.yaml"),
            "--name",
            "payments",
            "--json",
        )
    )
    assert out[0]["resources"] == ["/v1/charges", "/v1/refunds"]
    assert out[0]["hostnames"] == ["api.corvapay.com"] and out[0]["exchanges_added"] == 1
    sd = load_snapshot(snap)
    refunds = sd.snapshot.databases[0].table("refunds")
    assert refunds is not None
    assert {c.name: c.references for c in refunds.columns}["charge"] == "charges.id"
    charges = sd.snapshot.services[0].resources[0]
    assert charges.envelope == "data" and charges.filters == ["status", "receipt_email"]
    assert charges.methods == ["list", "create", "get", "patch"]
    ok(
        "add-service",
        str(snap),
        "--har",
        str(sources / "corvapay-session.har"),
        "--name",
        "payments",
    )
    assert "sk_live_" not in (snap / "snapshot.yaml").read_text()
    exchanges = load_snapshot(snap).snapshot.services[0].exchanges
    assert len(exchanges) == 3
    headers = exchanges[-1].response.headers
    assert "request-id" in headers and "date" not in headers and "content-length" not in headers
    assert exchanges[-1].request.headers is None


def test_bad_input_names_the_file(tmp_path: Path) -> None:
    """A HAR file that is not HAR is reported with its path (a harness error, exit 2 in main)."""
    ok("new", str(tmp_path / "s"))
    bad = tmp_path / "x.har"
    bad.write_text("{}")
    result = runner.invoke(app, ["add-service", str(tmp_path / "s"), "--har", str(bad)])
    assert result.exit_code != 0 and str(bad) in str(result.exception)


@pytest.mark.parametrize("name", ["shop", "dev-workstation"])
def test_example_snapshots_are_valid(name: str) -> None:
    """The shipped example snapshots validate without errors or warnings."""
    report = validate_snapshot(ENV_SNAPSHOTS / name)
    assert report.ok and report.warnings == [], report


def test_shop_regenerates_from_its_authoring_script(tmp_path: Path) -> None:
    """Running the commands of env_snapshots/shop/AUTHORING.md gives the same content hash."""
    doc = (ENV_SNAPSHOTS / "shop" / "AUTHORING.md").read_text()
    script = doc.split("```sh\n", 1)[1].split("```", 1)[0].replace("\\\n", " ")
    target = tmp_path / "shop"
    shutil.copytree(ENV_SNAPSHOTS / "shop" / "sources", target / "sources")
    commands = [line for line in script.splitlines() if line.startswith("$DS snapshot ")]
    assert len(commands) >= 8
    # In-process (one interpreter start per command would take seconds).
    for line in commands:
        args = shlex.split(line.replace("$S", str(target)))[2:]
        result = runner.invoke(app, args, catch_exceptions=False)
        assert result.exit_code == 0, (line, result.output)
    assert content_hash(load_snapshot(target)) == content_hash(
        load_snapshot(ENV_SNAPSHOTS / "shop")
    )


def test_dev_workstation_repo_builds_with_stable_ids(tmp_path: Path) -> None:
    """The git repository is built twice with the same HEAD; .env is ignored, history kept."""
    sd = load_snapshot(ENV_SNAPSHOTS / "dev-workstation")
    (repo,) = sd.snapshot.repos
    a = build_repo(sd, repo, tmp_path / "a")
    b = build_repo(sd, repo, tmp_path / "b")
    assert a.head == b.head
    log = subprocess.run(
        ["git", "log", "--format=%an|%s"], cwd=a.path, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert len(log) == len(repo.commits) and log[-1] == "Priya Raman|Initial project layout"
    ignored = subprocess.run(["git", "check-ignore", ".env"], cwd=a.path, capture_output=True)
    assert ignored.returncode == 0
    assert os.access(a.path / "scripts" / "nightly.sh", os.X_OK)
    env = next(f for f in sd.snapshot.files if f.path.endswith("/.env"))
    secrets = sd.file_bytes(env).decode()
    assert env.mode == "0600"
    assert "sk_live_" in secrets and "AKIA" in secrets and "ghp_" in secrets
