"""validate_snapshot: every structural error, deep checks, file and field in each issue."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from deploysim.cli.snapshot import app
from deploysim.snapshots import Issue, validate_snapshot


def _edit(root: Path, change: dict[str, object]) -> None:
    """Apply ``{dotted.path: value}`` edits to snapshot.yaml (list items by index)."""
    data = yaml.safe_load((root / "snapshot.yaml").read_text())
    for dotted, value in change.items():
        node = data
        parts = [int(p) if p.isdigit() else p for p in dotted.split(".")]
        for p in parts[:-1]:
            node = node[p]
        node[parts[-1]] = value
    (root / "snapshot.yaml").write_text(yaml.safe_dump(data))


def _find(issues: list[Issue], field: str) -> Issue:
    hits = [i for i in issues if i.field == field]
    assert hits, f"no issue for {field}: {[(i.field, i.message) for i in issues]}"
    return hits[0]


def test_valid_snapshot_has_no_errors(mini: Path) -> None:
    """The fixture snapshot is valid and its clock is frozen, so no warning either."""
    report = validate_snapshot(mini)
    assert report.ok and report.errors == [] and report.warnings == []


def test_all_structural_errors_are_reported(mini: Path) -> None:
    """Two independent schema errors are both reported, each with the file and its field."""
    _edit(mini, {"services.0.hostnames": ["Not A Host"], "files.0.mode": "rwx"})
    report = validate_snapshot(mini)
    assert not report.ok
    fields = {i.field for i in report.errors}
    assert {"services[0].hostnames", "files[0].mode"} <= fields
    assert all(i.file.endswith("snapshot.yaml") for i in report.errors)


def test_missing_content_file(mini: Path) -> None:
    """A file entry whose source is missing is an error on that entry's source field."""
    (mini / "files" / "logo.bin").unlink()
    issue = _find(validate_snapshot(mini).errors, "files./home/agent/logo.bin.source")
    assert "cannot be read" in issue.message


def test_rows_must_fit_their_table(mini: Path) -> None:
    """Unknown columns, wrong types, values outside the enum and duplicate keys are errors."""
    (mini / "databases" / "shop" / "customers.jsonl").write_text(
        '{"id": "cus_a", "email": 5, "nick": "x"}\n{"id": "cus_a", "email": "b@c.io"}\n'
    )
    _edit(mini, {"databases.0.tables.1.rows.0.status": "lost"})
    errors = validate_snapshot(mini).errors
    base = "databases.shop.tables.customers.rows"
    assert _find(errors, f"{base}[0].nick").message == "unknown column 'nick'"
    assert "does not fit a TEXT column" in _find(errors, f"{base}[0].email").message
    assert "duplicate primary key" in _find(errors, f"{base}[1]").message
    assert _find(errors, f"{base}[0].nick").file.endswith("customers.jsonl")
    status = _find(errors, "databases.shop.tables.orders.rows[0].status")
    assert "not one of the allowed values" in status.message


def test_foreign_keys_must_resolve(mini: Path) -> None:
    """An order pointing at a customer that does not exist is an error on that row."""
    _edit(mini, {"databases.0.tables.1.rows.1.customer_id": "cus_zz"})
    issue = _find(
        validate_snapshot(mini).errors, "databases.shop.tables.orders.rows[1].customer_id"
    )
    assert issue.message == "'cus_zz' is not a customers.id value"


def test_service_references(mini: Path) -> None:
    """Unknown database, handler table/column, bad SQL, missing python function, unknown
    binding service and a hostname served twice are each reported."""
    data = yaml.safe_load((mini / "snapshot.yaml").read_text())
    svc = data["services"][0]
    svc["function_tools"][0]["handler"]["key"] = {"customer_id": "nope"}
    svc["function_tools"].append(
        {"name": "q", "handler": {"kind": "query", "sql": "SELECT x FROM missing WHERE id = :id"}}
    )
    svc["function_tools"][1]["handler"]["function"] = "absent"
    data["services"].append({"name": "dup", "hostnames": ["api.tallyfin.com"], "database": "gone"})
    data["tool_bindings"].append({"tool": "t2", "service": "ghost"})
    (mini / "snapshot.yaml").write_text(yaml.safe_dump(data))
    errors = validate_snapshot(mini).errors
    assert (
        "not in table 'customers'"
        in _find(errors, "services.api.function_tools.get_customer.handler").message
    )
    assert "no such table" in _find(errors, "services.api.function_tools.q.handler.sql").message
    assert (
        "no function 'absent'"
        in _find(errors, "services.api.function_tools.refund.handler.function").message
    )
    assert "does not exist" in _find(errors, "services.dup.database").message
    assert "ghost" in _find(errors, "tool_bindings.t2.service").message
    assert "served by 2 services" in _find(errors, "services").message


def test_unreadable_yaml_and_missing_folder(tmp_path: Path) -> None:
    """A folder without snapshot.yaml and a YAML syntax error are issues, not exceptions."""
    assert "missing" in validate_snapshot(tmp_path / "nothing").errors[0].message
    (tmp_path / "snapshot.yaml").write_text("name: [unclosed\n")
    assert "not YAML" in validate_snapshot(tmp_path).errors[0].message


def test_cli_validate_json_and_exit_code(mini: Path) -> None:
    """`validate --json` prints ok/errors/warnings and exits 1 when there is an error."""
    runner = CliRunner()
    ok = runner.invoke(app, ["validate", str(mini), "--json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout) == {"ok": True, "errors": [], "warnings": []}
    (mini / "services" / "refund.py").unlink()
    bad = runner.invoke(app, ["validate", str(mini), "--json"])
    assert bad.exit_code == 1
    doc = json.loads(bad.stdout)
    assert doc["ok"] is False and doc["errors"][0]["field"].endswith("handler.module")
    assert doc["errors"][0]["file"].endswith("refund.py")
