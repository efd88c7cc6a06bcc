"""Checks of one snapshot layer that need its folder or the merged model: run on every load.

The model checks each field alone (syntax, system paths, modes, names). What needs more is
here, and both loading (which raises the first problem) and ``snapshot validate`` (which
reports them all) run it on each layer of an ``extends`` chain:

- every content path of the layer (``files[i].source``, a commit change's ``source``,
  ``rows_file``, a handler module and the sibling modules it may import) resolves inside its
  folder of the layer, with no symlink leading out;
- no entry lies beneath a symlink entry (the merged one, so a child cannot link a parent's
  folder elsewhere): unpacking ``/home/agent/x -> /etc`` then ``/home/agent/x/passwd`` would
  write ``/etc/passwd``;
- table names stay distinct, ignoring ASCII case, once merged over the parent's.

Fields are the layer's own, with indices (``files[3].source``), in the layer's snapshot.yaml.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from deploysim.snapshots._ident import identifier_collisions
from deploysim.snapshots._model import Snapshot
from deploysim.snapshots._paths import contained_path

__all__ = ["Problem", "layer_problems", "module_siblings"]


class Problem(NamedTuple):
    """One problem of a layer: the file at fault, the field, what is wrong."""

    file: Path
    field: str
    message: str


class _Placed(NamedTuple):
    path: str
    field: str


def module_siblings(layer_root: Path, module: str) -> list[str]:
    """A handler module and the ``.py`` files beside it (which it may import), under services/.

    Raises:
        ValueError: the module or one of its siblings leads outside the services/ folder.
    """
    contained_path(layer_root, "services", module)
    base = layer_root.resolve() / "services"
    here = (base / module).parent  # where the image build looks for them
    folder = "" if here == base else here.relative_to(base).as_posix() + "/"
    rels = [module]
    if here.is_dir():
        for p in sorted(here.glob("*.py")):
            rel = folder + p.name
            if rel != module:
                contained_path(layer_root, "services", rel)
                rels.append(rel)
    return rels


def _content(snap: Snapshot) -> Iterator[tuple[str, str, str]]:
    """(folder, relative path, field) of every content path the layer names."""
    for i, f in enumerate(snap.files):
        if f.source is not None:
            yield "files", f.source, f"files[{i}].source"
    for i, r in enumerate(snap.repos):
        for j, c in enumerate(r.commits):
            for k, ch in enumerate(c.changes):
                if ch.source is not None:
                    yield "files", ch.source, f"repos[{i}].commits[{j}].changes[{k}].source"
    for i, d in enumerate(snap.databases):
        for j, t in enumerate(d.tables):
            if t.rows_file is not None:
                yield "databases", t.rows_file, f"databases[{i}].tables[{j}].rows_file"
    for i, s in enumerate(snap.services):
        for j, ft in enumerate(s.function_tools):
            if ft.handler.kind == "python":
                yield (
                    "services",
                    ft.handler.module,
                    f"services[{i}].function_tools[{j}].handler.module",
                )


def _containment(root: Path, snap: Snapshot) -> list[Problem]:
    out: list[Problem] = []
    yaml = root / "snapshot.yaml"
    for folder, rel, field in _content(snap):
        try:
            if folder == "services":
                module_siblings(root, rel)
            else:
                contained_path(root, folder, rel)
        except ValueError as e:
            out.append(Problem(yaml, field, f"{folder}/{rel} {e}"))
    return out


def _placed(snap: Snapshot) -> list[_Placed]:
    """Every path an entry puts in the pod, with its field."""
    out = [_Placed(f.path, f"files[{i}].path") for i, f in enumerate(snap.files)]
    for i, r in enumerate(snap.repos):
        out.append(_Placed(r.path, f"repos[{i}].path"))
        root = r.path.rstrip("/")
        for j, c in enumerate(r.commits):
            for k, ch in enumerate(c.changes):
                field = f"repos[{i}].commits[{j}].changes[{k}].path"
                out.append(_Placed(f"{root}/{ch.path}", field))
    out += [_Placed(d.path, f"databases[{i}].path") for i, d in enumerate(snap.databases)]
    return out


def _beneath(path: str, link: str) -> bool:
    return path != link and path.startswith(link.rstrip("/") + "/")


def _links(root: Path, own: Snapshot, merged: Snapshot) -> list[Problem]:
    yaml = root / "snapshot.yaml"
    links = sorted({f.path for f in merged.files if f.kind == "symlink"})
    if not links:
        return []
    out: list[Problem] = []
    own_paths = _placed(own)
    for p in own_paths:
        for link in links:
            if _beneath(p.path, link):
                out.append(
                    Problem(
                        yaml,
                        p.field,
                        f"{p.path} lies beneath the symlink {link}; a snapshot never writes "
                        "through its own links",
                    )
                )
                break
    mine = {p.path for p in own_paths}
    inherited = [p.path for p in _placed(merged) if p.path not in mine]
    for i, f in enumerate(own.files):
        if f.kind != "symlink":
            continue
        under = [p for p in inherited if _beneath(p, f.path)]
        if under:
            out.append(
                Problem(
                    yaml,
                    f"files[{i}].path",
                    f"the symlink {f.path} has entries of the layers it extends beneath it "
                    f"({', '.join(under[:3])}); a snapshot never writes through its own links",
                )
            )
    return out


def _tables(root: Path, own: Snapshot, merged: Snapshot) -> list[Problem]:
    out: list[Problem] = []
    for i, d in enumerate(own.databases):
        m = merged.database(d.name)
        clashes = identifier_collisions(t.name for t in m.tables) if m else []
        if clashes:
            out.append(
                Problem(
                    root / "snapshot.yaml",
                    f"databases[{i}].tables",
                    f"duplicate table names {clashes} once merged over the layers it extends "
                    "(SQLite ignores ASCII case in names)",
                )
            )
    return out


def layer_problems(root: Path, own: Snapshot, merged: Snapshot) -> list[Problem]:
    """Every problem of the layer at ``root`` (model ``own``) within the merged snapshot."""
    return [*_containment(root, own), *_links(root, own, merged), *_tables(root, own, merged)]
