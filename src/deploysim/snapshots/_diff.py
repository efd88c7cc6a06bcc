"""Differences between two snapshots: files, rows by primary key, services, settings.

:func:`diff_rows` is the row-level core, usable on any two row lists (the sandbox diffs
database states read back with :func:`read_rows` the same way).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from deploysim.snapshots._model import Exchange, FileEntry, Service, Snapshot, Table
from deploysim.snapshots._store import SnapshotDir, content_hash

__all__ = [
    "FileChange",
    "KeyedChange",
    "RowChange",
    "ServiceDiff",
    "SnapshotDiff",
    "TableDiff",
    "diff_rows",
    "diff_snapshots",
    "exchange_key",
]

Status = Literal["added", "removed", "changed"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileChange(_Model):
    """A file (or directory, symlink) added, removed or changed."""

    path: str
    status: Status
    changed: list[str] = Field(
        default_factory=list, description="What changed: content, mode, owner, group, kind, target."
    )
    before: dict[str, str | None] | None = None
    after: dict[str, str | None] | None = None


class RowChange(_Model):
    """A row added, removed or changed, identified by its primary key."""

    key: dict[str, Any]
    status: Status
    columns: list[str] = Field(default_factory=list, description="Changed columns.")
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


class TableDiff(_Model):
    """Schema and row changes of one table."""

    database: str
    table: str
    status: Status
    columns_added: list[str] = Field(default_factory=list)
    columns_removed: list[str] = Field(default_factory=list)
    columns_changed: list[str] = Field(
        default_factory=list, description="Same name, other type/nullability/reference/values."
    )
    primary_key: list[list[str]] | None = Field(
        default=None, description="[before, after] when the primary key changed."
    )
    rows: list[RowChange] = Field(default_factory=list)


class KeyedChange(_Model):
    """A keyed item (route, resource, function tool, env var, binding) added/removed/changed."""

    key: str
    status: Status


class ServiceDiff(_Model):
    """Changes of one service."""

    name: str
    status: Status
    hostnames_added: list[str] = Field(default_factory=list)
    hostnames_removed: list[str] = Field(default_factory=list)
    settings: list[str] = Field(
        default_factory=list, description="Changed scalar settings (scheme, database, ...)."
    )
    routes: list[KeyedChange] = Field(default_factory=list, description="Recorded exchanges.")
    resources: list[KeyedChange] = Field(default_factory=list)
    function_tools: list[KeyedChange] = Field(default_factory=list)


class SnapshotDiff(_Model):
    """Everything that differs from snapshot A to snapshot B."""

    a: str
    b: str
    hash_a: str | None = None
    hash_b: str | None = None
    settings: list[str] = Field(
        default_factory=list, description="Changed top-level fields (version, clock, ...)."
    )
    env: list[KeyedChange] = Field(default_factory=list)
    tool_bindings: list[KeyedChange] = Field(default_factory=list)
    files: list[FileChange] = Field(default_factory=list)
    repos: list[KeyedChange] = Field(default_factory=list)
    tables: list[TableDiff] = Field(default_factory=list)
    services: list[ServiceDiff] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        """No difference at all."""
        return not (
            self.settings
            or self.env
            or self.tool_bindings
            or self.files
            or self.repos
            or self.tables
            or self.services
        )


def _keyed(a: dict[str, Any], b: dict[str, Any]) -> list[KeyedChange]:
    out = [KeyedChange(key=k, status="removed") for k in a if k not in b]
    out += [KeyedChange(key=k, status="added") for k in b if k not in a]
    out += [KeyedChange(key=k, status="changed") for k in a if k in b and a[k] != b[k]]
    return sorted(out, key=lambda c: c.key)


# --------------------------------------------------------------------------- files


def _file_facts(sd: SnapshotDir, f: FileEntry) -> dict[str, str | None]:
    sha = hashlib.sha256(sd.file_bytes(f)).hexdigest() if f.kind == "file" else None
    return {
        "kind": f.kind,
        "content": sha,
        "mode": f.mode,
        "owner": f.owner,
        "group": f.group,
        "target": f.target,
    }


def _diff_files(a: SnapshotDir, b: SnapshotDir) -> list[FileChange]:
    fa = {f.path: _file_facts(a, f) for f in a.snapshot.files}
    fb = {f.path: _file_facts(b, f) for f in b.snapshot.files}
    out: list[FileChange] = []
    for path in sorted(fa.keys() | fb.keys()):
        before, after = fa.get(path), fb.get(path)
        if before is None:
            out.append(FileChange(path=path, status="added", after=after))
        elif after is None:
            out.append(FileChange(path=path, status="removed", before=before))
        elif before != after:
            changed = [k for k in before if before[k] != after[k]]
            out.append(
                FileChange(path=path, status="changed", changed=changed, before=before, after=after)
            )
    return out


# --------------------------------------------------------------------------- rows


def _key(row: dict[str, Any], pk: list[str]) -> str:
    return json.dumps([row.get(k) for k in pk], sort_keys=True, default=str)


def diff_rows(
    primary_key: list[str], before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> list[RowChange]:
    """Rows added, removed and changed, matched by ``primary_key``, in key order.

    A column missing from a row counts as null, so ``{"a": 1}`` equals ``{"a": 1, "b": None}``.
    """
    ia = {_key(r, primary_key): r for r in before}
    ib = {_key(r, primary_key): r for r in after}
    out: list[RowChange] = []
    for k in sorted(ia.keys() | ib.keys()):
        ra, rb = ia.get(k), ib.get(k)
        key = dict(zip(primary_key, json.loads(k), strict=True))
        if ra is None:
            out.append(RowChange(key=key, status="added", after=rb))
        elif rb is None:
            out.append(RowChange(key=key, status="removed", before=ra))
        else:
            cols = sorted(c for c in ra.keys() | rb.keys() if ra.get(c) != rb.get(c))
            if cols:
                out.append(RowChange(key=key, status="changed", columns=cols, before=ra, after=rb))
    return out


def _column_facts(t: Table) -> dict[str, Any]:
    return {c.name: c.model_dump(exclude={"name"}) for c in t.columns}


def _diff_table(
    db: str, a: SnapshotDir, ta: Table | None, b: SnapshotDir, tb: Table | None
) -> TableDiff | None:
    da, dbb = a.snapshot.database(db), b.snapshot.database(db)
    rows_a = a.table_rows(da, ta) if da is not None and ta is not None else []
    rows_b = b.table_rows(dbb, tb) if dbb is not None and tb is not None else []
    ref = tb or ta
    assert ref is not None  # one side exists by construction
    rows = diff_rows(ref.primary_key, rows_a, rows_b)
    if ta is None or tb is None:
        return TableDiff(
            database=db, table=ref.name, status="added" if ta is None else "removed", rows=rows
        )
    ca, cb = _column_facts(ta), _column_facts(tb)
    diff = TableDiff(
        database=db,
        table=ref.name,
        status="changed",
        columns_added=[c for c in cb if c not in ca],
        columns_removed=[c for c in ca if c not in cb],
        columns_changed=[c for c in ca if c in cb and ca[c] != cb[c]],
        primary_key=[ta.primary_key, tb.primary_key] if ta.primary_key != tb.primary_key else None,
        rows=rows,
    )
    unchanged = not (
        diff.columns_added or diff.columns_removed or diff.columns_changed or diff.rows
    )
    return None if unchanged and diff.primary_key is None else diff


def _diff_tables(a: SnapshotDir, b: SnapshotDir) -> list[TableDiff]:
    out: list[TableDiff] = []
    names = sorted({d.name for d in a.snapshot.databases} | {d.name for d in b.snapshot.databases})
    for db in names:
        da, dbb = a.snapshot.database(db), b.snapshot.database(db)
        tables = sorted(
            {t.name for t in (da.tables if da else [])}
            | {t.name for t in (dbb.tables if dbb else [])}
        )
        for t in tables:
            d = _diff_table(db, a, da.table(t) if da else None, b, dbb.table(t) if dbb else None)
            if d is not None:
                out.append(d)
    return out


# --------------------------------------------------------------------------- services


def exchange_key(ex: Exchange) -> str:
    """A readable identity of a recorded request: method, path, query and body."""
    r = ex.request
    key = f"{r.method.upper()} {r.path}"
    if r.query:
        key += "?" + "&".join(f"{k}={v}" for k, v in sorted(r.query.items()))
    if r.json_body is not None:
        key += " " + json.dumps(r.json_body, sort_keys=True, separators=(",", ":"))
    return key


def _routes(s: Service) -> dict[str, Any]:
    seen: Counter[str] = Counter()
    out: dict[str, Any] = {}
    for ex in s.exchanges:
        k = exchange_key(ex)
        seen[k] += 1
        # The same request recorded twice is answered in turn; keep both apart.
        out[k if seen[k] == 1 else f"{k} #{seen[k]}"] = ex.model_dump(exclude={"provenance"})
    return out


def _diff_service(sa: Service | None, sb: Service | None) -> ServiceDiff | None:
    ref = sb or sa
    assert ref is not None
    if sa is None or sb is None:
        return ServiceDiff(name=ref.name, status="added" if sa is None else "removed")
    scalars = ("scheme", "database", "error_body")
    diff = ServiceDiff(
        name=ref.name,
        status="changed",
        hostnames_added=[h for h in sb.hostnames if h not in sa.hostnames],
        hostnames_removed=[h for h in sa.hostnames if h not in sb.hostnames],
        settings=[k for k in scalars if getattr(sa, k) != getattr(sb, k)],
        routes=_keyed(_routes(sa), _routes(sb)),
        resources=_keyed(
            {r.path: r.model_dump() for r in sa.resources},
            {r.path: r.model_dump() for r in sb.resources},
        ),
        function_tools=_keyed(
            {t.name: t.model_dump(exclude={"provenance"}) for t in sa.function_tools},
            {t.name: t.model_dump(exclude={"provenance"}) for t in sb.function_tools},
        ),
    )
    parts = (
        diff.hostnames_added,
        diff.hostnames_removed,
        diff.settings,
        diff.routes,
        diff.resources,
        diff.function_tools,
    )
    return diff if any(parts) else None


def _diff_services(a: Snapshot, b: Snapshot) -> list[ServiceDiff]:
    names = sorted({s.name for s in a.services} | {s.name for s in b.services})
    return [d for n in names if (d := _diff_service(a.service(n), b.service(n))) is not None]


# --------------------------------------------------------------------------- snapshot


def _repo_facts(sd: SnapshotDir) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for r in sd.snapshot.repos:
        commits = [
            {
                **c.model_dump(mode="json", exclude={"changes"}),
                "changes": [
                    [
                        ch.path,
                        ch.delete,
                        ch.executable,
                        sd.change_bytes(r, ch) if not ch.delete else b"",
                    ]
                    for ch in c.changes
                ],
            }
            for c in r.commits
        ]
        out[r.path] = {**r.model_dump(mode="json", exclude={"commits", "provenance"}), "c": commits}
    return out


def diff_snapshots(a: SnapshotDir, b: SnapshotDir) -> SnapshotDiff:
    """Compare two loaded snapshots (each already merged over what it extends).

    Raises:
        SnapshotError: a content file or rows file of either snapshot cannot be read.
    """
    sa, sb = a.snapshot, b.snapshot
    scalars = ("version", "base_image", "user", "workdir", "clock")
    return SnapshotDiff(
        a=str(a.root),
        b=str(b.root),
        hash_a=content_hash(a),
        hash_b=content_hash(b),
        settings=[k for k in scalars if getattr(sa, k) != getattr(sb, k)],
        env=_keyed(sa.env, sb.env),
        tool_bindings=_keyed(
            {t.tool: t.model_dump() for t in sa.tool_bindings},
            {t.tool: t.model_dump() for t in sb.tool_bindings},
        ),
        files=_diff_files(a, b),
        repos=_keyed(_repo_facts(a), _repo_facts(b)),
        tables=_diff_tables(a, b),
        services=_diff_services(sa, sb),
    )
