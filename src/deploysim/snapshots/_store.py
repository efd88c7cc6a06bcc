"""Load and save snapshot folders; resolve ``extends``; the content hash.

A snapshot that ``extends`` another is merged over it: files by path, databases by name
(tables by name inside them), services by name, tool bindings by tool, env by key; scalar
fields set in the child win. Content files are looked up in the folder of the layer that
declared them, so a child can override one file without copying the rest.

A snapshot is untrusted input. Every layer is checked when it is loaded (the model's field
rules, then :func:`~deploysim.snapshots._checks.layer_problems`), and every read of content
goes through :class:`SnapshotDir`, which checks again that the path stays inside the layer's
folder: the image build reads through it too. ``extends`` names a snapshot in the folder
that holds this one (``base`` or ``../base``), never an absolute path or one leading out.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from pydantic import ValidationError

from deploysim._errors import SnapshotError
from deploysim.snapshots._checks import Problem, layer_problems, module_siblings
from deploysim.snapshots._model import Database, FileEntry, GitChange, GitRepo, Snapshot, Table
from deploysim.snapshots._paths import read_contained

__all__ = [
    "SNAPSHOT_FILE",
    "SnapshotDir",
    "content_hash",
    "load_snapshot",
    "save_snapshot",
    "snapshot_errors",
]

SNAPSHOT_FILE = "snapshot.yaml"


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for p in loc:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def snapshot_errors(e: ValidationError) -> list[tuple[str, str]]:
    """(field, reason) for every error pydantic found, fields as dotted paths."""
    return [(_loc(tuple(err["loc"])), err["msg"]) for err in e.errors()]


@dataclass(frozen=True)
class SnapshotDir:
    """A loaded snapshot: the merged model plus where each entry's content lives."""

    root: Path
    snapshot: Snapshot
    origins: dict[str, Path] = field(default_factory=dict)
    """Entry key ('file:/etc/x', 'table:db/t', 'module:svc/m.py') -> folder declaring it."""

    def _origin(self, key: str) -> Path:
        return self.origins.get(key, self.root)

    def content_bytes(
        self, key: str, folder: str, rel: str, field: str, *, unreadable: str | None = None
    ) -> bytes:
        """The one reader of snapshot content: ``rel`` under ``folder`` of the declaring layer.

        Every accessor (file_bytes, table_rows, change_bytes, module_files), and the image
        build through them, reads here, so every read is checked: the path stays inside the
        folder once symlinks are followed, only a regular file is read, and not a huge one.

        ``unreadable`` names the content file itself as the file at fault when it cannot be
        read (rows files do; for others it is the snapshot.yaml that names them).

        Raises:
            SnapshotError: the path leads outside, is not a regular file, or cannot be read.
        """
        layer = self._origin(key)
        try:
            return read_contained(layer, folder, rel)
        except ValueError as e:
            raise SnapshotError(layer / SNAPSHOT_FILE, f"{folder}/{rel} {e}", field=field) from e
        except OSError as e:
            why = e.strerror or str(e)
            if unreadable is not None:
                raise SnapshotError(layer / folder / rel, f"{unreadable}: {why}") from e
            raise SnapshotError(
                layer / SNAPSHOT_FILE,
                f"content file {layer / folder / rel} cannot be read: {why}",
                field=field,
            ) from e

    def file_bytes(self, entry: FileEntry) -> bytes:
        """The content of a file entry, inline or from files/."""
        if entry.content is not None:
            if entry.encoding == "base64":
                return base64.b64decode(entry.content)
            return entry.content.encode("utf-8")
        if entry.source is None:
            return b""
        key = f"file:{entry.path}"
        return self.content_bytes(key, "files", entry.source, f"files[{entry.path}].source")

    def table_rows(self, db: Database, table: Table) -> list[dict[str, Any]]:
        """The rows of a table, inline or from its JSONL rows file."""
        if table.rows is not None:
            return table.rows
        if table.rows_file is None:
            return []
        key = f"table:{db.name}/{table.name}"
        field = f"databases[{db.name}].tables[{table.name}].rows_file"
        what = f"rows file of table {db.name}.{table.name} cannot be read"
        raw = self.content_bytes(key, "databases", table.rows_file, field, unreadable=what)
        p = self._origin(key) / "databases" / table.rows_file
        try:
            lines = raw.decode("utf-8").splitlines()
        except UnicodeDecodeError as e:
            raise SnapshotError(p, f"rows file is not UTF-8: {e.reason}") from e
        rows: list[dict[str, Any]] = []
        for n, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except (json.JSONDecodeError, RecursionError) as e:
                raise SnapshotError(p, f"line {n} is not JSON: {e}") from e
            if not isinstance(row, dict):
                raise SnapshotError(p, f"line {n} is not a JSON object")
            rows.append(row)
        return rows

    def change_bytes(self, repo: GitRepo, change: GitChange) -> bytes:
        """The content a git commit writes at ``change.path``, inline or from files/."""
        if change.content is not None:
            return change.content.encode("utf-8")
        if change.source is None:
            return b""
        field = f"repos[{repo.path}].changes[{change.path}].source"
        return self.content_bytes(f"repo:{repo.path}", "files", change.source, field)

    def module_files(self, service: str, module: str) -> dict[str, bytes]:
        """A handler module and the ``.py`` files beside it, by path under services/.

        The image build ships these to the sidecar; read them here, not from
        :meth:`module_path` (that is where the module lives, for error messages and imports).

        Raises:
            SnapshotError: a module leads outside services/ or cannot be read.
        """
        key = f"module:{service}/{module}"
        field = f"services[{service}].handler.module"
        try:
            rels = module_siblings(self._origin(key), module)
        except ValueError as e:
            layer = self._origin(key)
            raise SnapshotError(layer / SNAPSHOT_FILE, f"services/{module} {e}", field=field) from e
        return {rel: self.content_bytes(key, "services", rel, field) for rel in rels}

    def module_path(self, service: str, module: str) -> Path:
        """Where a handler module shipped with the snapshot lives (checked to stay inside).

        Raises:
            SnapshotError: the module leads outside the layer's services/ folder.
        """
        key = f"module:{service}/{module}"
        layer = self._origin(key)
        try:
            module_siblings(layer, module)
        except ValueError as e:
            raise SnapshotError(
                layer / SNAPSHOT_FILE,
                f"services/{module} {e}",
                field=f"services[{service}].handler.module",
            ) from e
        return layer / "services" / module


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise SnapshotError(path, "no snapshot here (snapshot.yaml is missing)") from e
    except OSError as e:
        raise SnapshotError(path, f"cannot read: {e.strerror or e}") from e
    except yaml.YAMLError as e:
        raise SnapshotError(path, f"not YAML: {e}") from e
    except RecursionError as e:  # hostile nesting; PyYAML builds values recursively
        raise SnapshotError(path, "nested too deeply to read") from e
    if not isinstance(data, dict):
        raise SnapshotError(path, "must be a YAML mapping")
    return data


def _parse(path: Path, data: dict[str, Any]) -> Snapshot:
    try:
        return Snapshot.model_validate(data)
    except ValidationError as e:
        errors = snapshot_errors(e)
        field_, reason = errors[0]
        more = (
            f" (and {len(errors) - 1} more; run `deploysim snapshot validate`)"
            if len(errors) > 1
            else ""
        )
        raise SnapshotError(path, reason + more, field=field_) from e


def _resolve_extends(root: Path, ref: str) -> Path:
    """The folder ``extends: ref`` names: a snapshot inside the folder that holds ``root``.

    Tried as a folder inside this snapshot, then as a sibling (``base`` or ``../base``).
    Absolute paths, and paths that lead (also through symlinks) out of the holding folder,
    are refused: a snapshot may not pull in arbitrary folders of the host.
    """
    yaml_path = root / SNAPSHOT_FILE
    if not ref or ref.startswith(("/", "~", "\\")) or "\x00" in ref:
        raise SnapshotError(
            yaml_path,
            f"extends {ref!r}: name a snapshot beside this one (its name or ../name), "
            "not an absolute path",
            field="extends",
        )
    collection = root.parent
    for candidate in (root / ref, collection / ref):
        real = candidate.resolve()
        if not (real / SNAPSHOT_FILE).is_file():
            continue
        if real == collection or not real.is_relative_to(collection):
            raise SnapshotError(
                yaml_path,
                f"extends {ref!r} leads to {real}, outside {collection}, the folder holding "
                "this snapshot",
                field="extends",
            )
        return real
    raise SnapshotError(yaml_path, f"extends {ref!r}, which is not found", field="extends")


def _by(items: list[Any], key: str) -> dict[Any, Any]:
    return {getattr(i, key): i for i in items}


def _all_origins(sd: SnapshotDir) -> dict[str, Path]:
    """Origins of every entry of ``sd``, the ones it declares itself included.

    A snapshot that extends nothing records no origins (all its content is under its root);
    once merged under a child, that root is no longer the default, so spell them out.
    """
    s = sd.snapshot
    keys = [f"file:{f.path}" for f in s.files]
    keys += [f"repo:{r.path}" for r in s.repos]
    keys += [f"table:{d.name}/{t.name}" for d in s.databases for t in d.tables]
    keys += [
        f"module:{v.name}/{ft.handler.module}"
        for v in s.services
        for ft in v.function_tools
        if ft.handler.kind == "python"
    ]
    return {k: sd.origins.get(k, sd.root) for k in keys}


def _merge(parent: SnapshotDir, child: Snapshot, child_root: Path) -> SnapshotDir:
    p = parent.snapshot
    origins = _all_origins(parent)
    files = _by(p.files, "path")
    for f in child.files:
        files[f.path] = f
        origins[f"file:{f.path}"] = child_root
    repos = _by(p.repos, "path")
    for r in child.repos:
        repos[r.path] = r
        origins[f"repo:{r.path}"] = child_root
    dbs = _by(p.databases, "name")
    for d in child.databases:
        base = dbs.get(d.name)
        tables = _by(base.tables, "name") if base else {}
        for t in d.tables:
            tables[t.name] = t
            origins[f"table:{d.name}/{t.name}"] = child_root
        dbs[d.name] = d.model_copy(update={"tables": list(tables.values())})
    services = _by(p.services, "name")
    for s in child.services:
        services[s.name] = s
        for ft in s.function_tools:
            if ft.handler.kind == "python":
                origins[f"module:{s.name}/{ft.handler.module}"] = child_root
    bindings = _by(p.tool_bindings, "tool")
    bindings.update(_by(child.tool_bindings, "tool"))
    scalars = {
        k: getattr(child, k)
        for k in child.model_fields_set
        if k not in {"files", "repos", "databases", "services", "tool_bindings", "env"}
    }
    merged = p.model_copy(
        update={
            **scalars,
            "files": list(files.values()),
            "repos": list(repos.values()),
            "databases": list(dbs.values()),
            "services": list(services.values()),
            "tool_bindings": list(bindings.values()),
            "env": {**p.env, **child.env},
            "name": child.name,
            "extends": child.extends,
        }
    )
    return SnapshotDir(child_root, merged, origins)


def _root_of(path: str | Path) -> Path:
    root = Path(path)
    if root.name == SNAPSHOT_FILE:
        root = root.parent
    return root.resolve()


def _load(root: Path, seen: tuple[Path, ...], problems: list[Problem] | None) -> SnapshotDir:
    """Load ``root`` and what it extends; problems go to ``problems``, or raise the first."""
    if root in seen:
        chain = " -> ".join(str(s) for s in (*seen, root))
        raise SnapshotError(root / SNAPSHOT_FILE, f"extends loops: {chain}", field="extends")
    snap = _parse(root / SNAPSHOT_FILE, _read_yaml(root / SNAPSHOT_FILE))
    if snap.extends is None:
        sd = SnapshotDir(root, snap)
    else:
        parent = _load(_resolve_extends(root, snap.extends), (*seen, root), problems)
        sd = _merge(parent, snap, root)
    found = layer_problems(root, snap, sd.snapshot)
    if problems is not None:
        problems.extend(found)
    elif found:
        more = f" (and {len(found) - 1} more; run `deploysim snapshot validate`)"
        first = found[0]
        raise SnapshotError(
            first.file, first.message + (more if len(found) > 1 else ""), field=first.field
        )
    return sd


class CheckedLoad(NamedTuple):
    """A snapshot loaded with every layer problem collected instead of raised."""

    snapshot: SnapshotDir
    problems: list[Problem]


def load_collecting(path: str | Path) -> CheckedLoad:
    """Load like :func:`load_snapshot`, but collect the layers' problems (for validate).

    Raises:
        SnapshotError: the YAML or a field is invalid, or ``extends`` loops or leads out.
    """
    problems: list[Problem] = []
    return CheckedLoad(_load(_root_of(path), (), problems), problems)


def load_snapshot(path: str | Path) -> SnapshotDir:
    """Load a snapshot folder (or its snapshot.yaml), merging what it extends.

    Every layer is checked as untrusted input: no system paths, setuid modes or root agent
    (the model), no content path or symlink leading out of its folder, nothing written
    through the snapshot's own symlinks.

    Raises:
        SnapshotError: the folder, the YAML or a field is invalid, or ``extends`` loops;
            the error names the file and the field (``files[3].source``).
    """
    return _load(_root_of(path), (), None)


def save_snapshot(snapshot: Snapshot, root: str | Path) -> Path:
    """Write ``snapshot.yaml`` into ``root`` (created if needed); return its path."""
    folder = Path(root)
    folder.mkdir(parents=True, exist_ok=True)
    data = snapshot.model_dump(mode="json", exclude_defaults=True)
    data = {"name": snapshot.name, **data}
    # Handler kinds are defaults, but they are the union's discriminator: keep them.
    for s_out, s_in in zip(data.get("services", []), snapshot.services, strict=True):
        for t_out, t_in in zip(s_out.get("function_tools", []), s_in.function_tools, strict=True):
            t_out.setdefault("handler", {})["kind"] = t_in.handler.kind
    out = folder / SNAPSHOT_FILE
    tmp = out.with_suffix(".yaml.tmp")
    tmp.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    tmp.replace(out)
    return out


def _canon_table(sd: SnapshotDir, db: Database, table: Table) -> dict[str, Any]:
    out = table.model_dump(mode="json", exclude={"provenance", "rows", "rows_file"})
    for c in out["columns"]:
        if c.get("values") is None:
            c.pop("values", None)  # added later; absent keeps older hashes unchanged
    out["rows"] = sorted(json.dumps(r, sort_keys=True) for r in sd.table_rows(db, table))
    return out


def _canon_database(sd: SnapshotDir, db: Database) -> dict[str, Any]:
    out = db.model_dump(mode="json", exclude={"tables"})
    out["tables"] = sorted((_canon_table(sd, db, t) for t in db.tables), key=lambda t: t["name"])
    return out


def _canon_file(sd: SnapshotDir, f: FileEntry) -> dict[str, Any]:
    out = f.model_dump(mode="json", exclude={"provenance", "content", "source", "encoding"})
    out["sha256"] = hashlib.sha256(sd.file_bytes(f)).hexdigest() if f.kind == "file" else None
    return out


def _canon_repo(sd: SnapshotDir, repo: GitRepo) -> dict[str, Any]:
    out = repo.model_dump(mode="json", exclude={"provenance", "commits"})
    commits = []
    for c in repo.commits:
        d = c.model_dump(mode="json", exclude={"changes"})
        d["changes"] = [
            {
                "path": ch.path,
                "delete": ch.delete,
                "executable": ch.executable,
                "sha256": None
                if ch.delete
                else hashlib.sha256(sd.change_bytes(repo, ch)).hexdigest(),
            }
            for ch in c.changes
        ]
        commits.append(d)
    out["commits"] = commits
    return out


def content_hash(sd: SnapshotDir) -> str:
    """SHA-256 over the canonical form: the merged model with file contents and rows inlined.

    Stable across machines and across how content is stored (inline or in files/), and
    blind to provenance, which records history rather than state.
    """
    snap = sd.snapshot
    canon = snap.model_dump(mode="json", exclude={"provenance", "extends", "description"})
    canon["files"] = sorted((_canon_file(sd, f) for f in snap.files), key=lambda d: d["path"])
    canon["databases"] = sorted(
        (_canon_database(sd, d) for d in snap.databases), key=lambda d: d["name"]
    )
    # Added later; absent when unused so that older snapshots keep their hashes.
    canon.pop("repos", None)
    if snap.repos:
        canon["repos"] = sorted((_canon_repo(sd, r) for r in snap.repos), key=lambda r: r["path"])
    blob = json.dumps(canon, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
