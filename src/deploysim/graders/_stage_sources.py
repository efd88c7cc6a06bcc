"""The data a scenario shows a model, as items the stage-lights checks read.

A snapshot gives its database cells (nested JSON flattened to leaves, keyed by a column path
where per-row ids become ``*``), its text files, its services' recorded responses and
function-tool results, its environment and its repositories' authors and files. Traces give
their user messages and tool results (JSON results flattened like cells). Source code files
are kept out of the word checks: "test" is ordinary vocabulary there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from deploysim.snapshots import SNAPSHOT_FILE, SnapshotDir, load_snapshot
from deploysim.traces import Trace

__all__ = ["DataItem", "StageTarget", "snapshot_items", "stage_target", "trace_items"]

_CODE_SUFFIXES = (".py", ".js", ".ts", ".go", ".rs", ".java", ".rb", ".c", ".h", ".cpp", ".sh",
                  ".toml", ".cfg", ".ini", ".lock", ".mod", ".sum")  # fmt: skip
_IDISH = re.compile(r"\d")
_TEXT_LIMIT = 256 * 1024


class DataItem(NamedTuple):
    """One value shown to the model, with where it lives."""

    location: str
    """Where: ``db.table[row].column``, a file path, ``trace#message``."""
    column: str | None
    """Column path for table cells and JSON leaves (ids as ``*``); None for free text."""
    value: Any
    code: bool = False
    """Source code: left out of the word checks."""


def _segment(key: str) -> str:
    return "*" if _IDISH.search(key) else key


def _flatten(value: Any, location: str, column: str) -> Iterator[DataItem]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _flatten(v, f"{location}.{k}", f"{column}.{_segment(str(k))}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _flatten(v, f"{location}[{i}]", f"{column}[]")
    elif value is not None:
        yield DataItem(location, column, value)


_NOT_JSON = object()


def _json(text: str) -> Any:
    """The parsed JSON of a text that looks like an object or list, else ``_NOT_JSON``."""
    stripped = text.strip()
    if stripped[:1] not in ("[", "{"):
        return _NOT_JSON
    try:
        return json.loads(stripped)
    except json.JSONDecodeError:
        return _NOT_JSON


def _cells(db: str, table: str, rows: list[dict[str, Any]], pk: list[str]) -> Iterator[DataItem]:
    for n, row in enumerate(rows):
        key = ",".join(str(row.get(k)) for k in pk) if pk else str(n)
        for col, value in row.items():
            parsed = _json(value) if isinstance(value, str) else _NOT_JSON
            cell = value if parsed is _NOT_JSON else parsed
            yield from _flatten(cell, f"{db}.{table}[{key}].{col}", f"{db}.{table}.{col}")


def _text(location: str, data: bytes, code: bool) -> Iterator[DataItem]:
    if len(data) > _TEXT_LIMIT:
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    yield DataItem(location, None, text, code)


def snapshot_items(sd: SnapshotDir) -> Iterator[DataItem]:
    """Every value of a snapshot a model could see."""
    snap = sd.snapshot
    for db in snap.databases:
        for table in db.tables:
            yield from _cells(db.name, table.name, sd.table_rows(db, table), table.primary_key)
    for entry in snap.files:
        if entry.kind == "file":
            yield from _text(entry.path, sd.file_bytes(entry), entry.path.endswith(_CODE_SUFFIXES))
    for svc in snap.services:
        for i, ex in enumerate(svc.exchanges):
            body = ex.response.json_body if ex.response.text is None else ex.response.text
            yield from _flatten(body, f"{svc.name}.exchanges[{i}]", f"{svc.name}.{ex.request.path}")
        for ft in svc.function_tools:
            for i, pair in enumerate(getattr(ft.handler, "pairs", []) or []):
                yield from _flatten(
                    pair.output, f"{svc.name}.{ft.name}[{i}]", f"{svc.name}.{ft.name}"
                )
    for key, value in snap.env.items():
        yield DataItem(f"env.{key}", f"env.{key}", value)
    for repo in snap.repos:
        for k, commit in enumerate(repo.commits):
            yield DataItem(f"{repo.path}@{k + 1}.author", "repo.author", commit.author)
            for change in commit.changes:
                if not change.delete:
                    where = f"{repo.path}/{change.path}@{k + 1}"
                    yield from _text(
                        where, sd.change_bytes(repo, change), change.path.endswith(_CODE_SUFFIXES)
                    )


def _result_items(location: str, text: str) -> Iterator[DataItem]:
    parsed = _json(text)
    if parsed is _NOT_JSON:
        yield DataItem(location, None, text)
    else:
        yield from _flatten(parsed, location, "tool")


def trace_items(traces: list[Trace]) -> Iterator[DataItem]:
    """User messages and tool results of traces."""
    for t in traces:
        for i, m in enumerate(t.messages):
            where = f"{t.id}#{i}"
            if m.role == "user" and m.text:
                yield DataItem(where, None, m.text)
            for r in m.tool_results:
                yield from _result_items(where, r.output)


class StageTarget(NamedTuple):
    """What a stage-lights check reads: a name and the items."""

    name: str
    items: list[DataItem]


def stage_target(path: str | Path) -> StageTarget:
    """The items of a scenario file (its snapshot and its traces) or of a snapshot folder.

    Raises:
        ScenarioError: the scenario or something it points at is invalid.
        SnapshotError: the snapshot folder is invalid.
    """
    p = Path(path)
    if p.is_dir() or p.name == SNAPSHOT_FILE:
        folder = p if p.is_dir() else p.parent
        sd = load_snapshot(folder)
        return StageTarget(f"snapshot {sd.snapshot.name}", list(snapshot_items(sd)))
    from deploysim.replay import load_scenario

    loaded = load_scenario(p)
    items = list(trace_items(loaded.traces))
    if loaded.snapshot is not None:
        items += list(snapshot_items(loaded.snapshot))
    return StageTarget(f"scenario {loaded.scenario.suite}/{loaded.scenario.name}", items)
