"""Snapshots the app cannot serve fail at create_app with an error naming file and field."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest

from deploysim.errors import SnapshotError
from deploysim.services import create_app
from tests.services.conftest import AIRLINE, SHOP_MODULE, shop_snapshot, write_snapshot


def _shop(tmp_path: Path, edit: Any, module: str = SHOP_MODULE) -> Path:
    data = copy.deepcopy(shop_snapshot())
    edit(data)
    return write_snapshot(tmp_path / "snap", data, {"shop_tools.py": module})


def test_unbuilt_airline_rows_say_how_to_build_them(tmp_path: Path) -> None:
    """Without generated rows files, the error names the rows file and the build command."""
    snap = tmp_path / "airline"
    snap.mkdir()
    shutil.copy(AIRLINE / "snapshot.yaml", snap)
    shutil.copy(AIRLINE / "build.py", snap)
    shutil.copytree(AIRLINE / "services", snap / "services")
    with pytest.raises(SnapshotError) as e:
        create_app(snap, tmp_path / "state")
    assert e.value.path.endswith("databases/users.jsonl")
    assert f"python {snap / 'build.py'}" in str(e.value)


def test_missing_handler_function(tmp_path: Path) -> None:
    """A python handler naming a function its module lacks fails with the handler's field."""

    def edit(d: dict[str, Any]) -> None:
        d["services"][0]["function_tools"][4]["handler"]["function"] = "nope"

    with pytest.raises(SnapshotError, match="has no function 'nope'") as e:
        create_app(_shop(tmp_path, edit), tmp_path / "state")
    assert e.value.field == "services[0].function_tools[4].handler"


def test_handler_module_that_fails_to_import(tmp_path: Path) -> None:
    """A module raising at import fails create_app with the exception named."""
    snap = _shop(tmp_path, lambda d: None, module="raise RuntimeError('bad module')\n")
    with pytest.raises(SnapshotError, match="RuntimeError: bad module"):
        create_app(snap, tmp_path / "state")


def test_missing_handler_module(tmp_path: Path) -> None:
    """A handler module that does not exist is named in the error."""

    def edit(d: dict[str, Any]) -> None:
        d["services"][0]["function_tools"][4]["handler"]["module"] = "gone.py"

    with pytest.raises(SnapshotError, match=r"gone\.py does not exist"):
        create_app(_shop(tmp_path, edit), tmp_path / "state")


def test_tool_defined_by_two_services(tmp_path: Path) -> None:
    """Tool names are unique across services: /tools/<name> must be unambiguous."""

    def edit(d: dict[str, Any]) -> None:
        d["services"][1]["function_tools"] = [d["services"][0]["function_tools"][7]]

    with pytest.raises(SnapshotError, match="'weather' is defined by services 'shop' and 'mail'"):
        create_app(_shop(tmp_path, edit), tmp_path / "state")


def test_hostname_claimed_by_two_services(tmp_path: Path) -> None:
    """A Host must route to one service: a hostname claimed twice is refused."""

    def edit(d: dict[str, Any]) -> None:
        d["services"][1]["hostnames"] = ["api.shop.test"]

    with pytest.raises(SnapshotError, match=r"'api\.shop\.test' is claimed by services") as e:
        create_app(_shop(tmp_path, edit), tmp_path / "state")
    assert e.value.field == "services[1].hostnames"


def test_query_tool_without_database(tmp_path: Path) -> None:
    """A query handler in a service without a database is refused at start."""

    def edit(d: dict[str, Any]) -> None:
        query = {"name": "q", "handler": {"kind": "query", "sql": "SELECT 1"}}
        d["services"][1]["function_tools"] = [query]

    with pytest.raises(SnapshotError, match="runs SQL, but service 'mail' has no database"):
        create_app(_shop(tmp_path, edit), tmp_path / "state")


def test_unknown_tables_and_columns(tmp_path: Path) -> None:
    """Resources and handlers naming unknown tables or columns fail with their field."""

    def bad_table(d: dict[str, Any]) -> None:
        d["services"][0]["resources"][0]["table"] = "invoices"

    def bad_filter(d: dict[str, Any]) -> None:
        d["services"][0]["resources"][0]["filters"] = ["colour"]

    def bad_lookup(d: dict[str, Any]) -> None:
        d["services"][0]["function_tools"][0]["handler"]["table"] = "invoices"

    def bad_database(d: dict[str, Any]) -> None:
        d["services"][0]["database"] = "warehouse"

    cases = [
        (bad_table, "services[0].resources[0].table"),
        (bad_filter, "services[0].resources[0]"),
        (bad_lookup, "services[0].function_tools[0].handler.table"),
        (bad_database, "services[0].database"),
    ]
    for i, (edit, field) in enumerate(cases):
        with pytest.raises(SnapshotError) as e:
            create_app(_shop(tmp_path / str(i), edit), tmp_path / str(i) / "state")
        assert e.value.field == field
