"""Snapshot images: the base image plus a snapshot's files, databases and services.

Two images per snapshot, both tagged by content:

- ``deploysim/ws-<name>:<hash>``, the workspace: the snapshot's files and SQLite databases
  (owners and modes applied) and the snapshot CA in the system trust store;
- ``deploysim/svc-<name>:<hash>``, the services sidecar: deploysim's own package, the snapshot
  flattened (merged ``extends``, rows and handler modules alongside) and the server TLS key.

Built by creating a stopped container from the base, copying one tar archive in and committing
it: well under a second, and a no-op when the tag exists.

A snapshot is untrusted input. This is the last check before its content lands in an image,
whatever validated it before: no entry may be a system path
(:func:`deploysim.snapshots.system_path_reason`: the user database, PAM, the loader, the
interpreter, deploysim's own folders ...) or one of the image's standard folders, carry
setuid/setgid bits, or lie below a symlink the snapshot itself creates (the engine would
follow it while unpacking). The image's own user database always wins. Nothing a snapshot
names lands outside the sidecar's snapshot folder in the services image either.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import tarfile
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

import yaml

import deploysim
from deploysim._errors import SnapshotError
from deploysim.sandbox._docker import client
from deploysim.sandbox._images import (
    AGENT_UID,
    SERVICES_UID,
    ensure_workspace_base,
    image_exists,
)
from deploysim.sandbox._lifecycle import owner_labels
from deploysim.sandbox._tls import TlsMaterial, tls_for
from deploysim.snapshots import (
    SNAPSHOT_FILE,
    SnapshotDir,
    build_repo,
    content_hash,
    forbidden_mode_bits,
    materialize_database,
    rows_file_name,
    system_path_reason,
)

__all__ = [
    "SERVICES_SNAPSHOT_DIR",
    "SnapshotImages",
    "TarMember",
    "ensure_snapshot_images",
    "hostnames",
    "owner_uid",
    "seeded_paths",
]

SERVICES_SNAPSHOT_DIR = "/opt/deploysim/snapshot"
SEED_RECIPE = 2
CA_FILE = "/usr/local/share/ca-certificates/local-root-ca.crt"
_KNOWN_DIRS = frozenset(
    {
        "/",
        "/home",
        "/home/agent",
        "/etc",
        "/usr",
        "/usr/local",
        "/usr/local/bin",
        "/usr/local/share",
        "/var",
        "/var/lib",
        "/var/log",
        "/opt",
        "/srv",
        "/tmp",
        "/root",
        "/run",
        "/mnt",
        "/etc/ssl",
        "/etc/ssl/certs",
    }
)
_USERS = {"root": 0, "agent": AGENT_UID, "services": SERVICES_UID}


class TarMember(NamedTuple):
    """One entry of a seed archive."""

    data: bytes | None
    """Content for files; None for directories."""
    mode: int
    uid: int
    kind: str = "file"
    target: str = ""


class SnapshotImages(NamedTuple):
    """The images a pod for a snapshot runs."""

    workspace: str
    services: str | None
    snapshot_hash: str


def owner_uid(name: str) -> int:
    """The uid of a user name known to the base image (or a numeric string)."""
    if name.isdigit():
        return int(name)
    try:
        return _USERS[name]
    except KeyError:
        raise ValueError(f"unknown owner {name!r}; the base image knows {sorted(_USERS)}") from None


def hostnames(sd: SnapshotDir) -> list[str]:
    """Every hostname the snapshot's services answer for."""
    return sorted({h for s in sd.snapshot.services for h in s.hostnames})


def seeded_paths(sd: SnapshotDir) -> list[str]:
    """Every path the snapshot seeds in the workspace (files, databases, repositories)."""
    snap = sd.snapshot
    return (
        [f.path for f in snap.files]
        + [d.path for d in snap.databases]
        + [r.path for r in snap.repos]
    )


def _refuse(sd: SnapshotDir, key: str, field: str, reason: str) -> SnapshotError:
    return SnapshotError(sd.origins.get(key, sd.root) / SNAPSHOT_FILE, reason, field=field)


def _check_entry(sd: SnapshotDir, key: str, field: str, path: str, mode: int) -> None:
    """Refuse a system path, a standard folder of the image, or setuid/setgid bits.

    Raises:
        SnapshotError: naming the snapshot file and the entry's field.
    """
    norm = posixpath.normpath("/" + path.lstrip("/"))
    why = system_path_reason(norm)
    if why is None and norm in _KNOWN_DIRS and not norm.startswith("/home/"):
        why = "a standard folder of the image"
    if why is not None:
        raise _refuse(
            sd,
            key,
            field,
            f"{path} is {why}; a snapshot may not supply it (the image's own is used)",
        )
    if forbidden_mode_bits(mode):
        raise _refuse(
            sd,
            key,
            field.replace(".path", ".mode"),
            f"{path} asks for setuid/setgid bits ({mode:o})",
        )


def _entry_fields(sd: SnapshotDir) -> dict[str, str]:
    """Path -> the field that declares it (``files[3].path``), for error messages."""
    snap = sd.snapshot
    fields = {r.path: f"repos[{i}].path" for i, r in enumerate(snap.repos)}
    fields.update({d.path: f"databases[{i}].path" for i, d in enumerate(snap.databases)})
    fields.update({f.path: f"files[{i}].path" for i, f in enumerate(snap.files)})
    return fields


def _check_no_symlink_parents(sd: SnapshotDir, members: dict[str, TarMember]) -> None:
    """Refuse entries below a symlink of the archive: unpacking would follow it anywhere.

    Raises:
        SnapshotError: naming the entry below the link (and the link).
    """
    links = {p for p, m in members.items() if m.kind == "symlink"}
    if not links:
        return
    fields = _entry_fields(sd)
    for path in members:
        for parent in PurePosixPath(path).parents:
            if str(parent) in links:
                raise _refuse(
                    sd,
                    f"file:{path}",
                    fields.get(path) or fields.get(str(parent)) or "files",
                    f"{path} lies below the symlink {parent} the snapshot creates",
                )


def _add_parents(members: dict[str, TarMember], path: str, uid: int) -> None:
    for parent in PurePosixPath(path).parents:
        p = str(parent)
        if p in _KNOWN_DIRS or p in members:
            continue
        members[p] = TarMember(None, 0o755, uid, "dir")


def _archive(members: dict[str, TarMember]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for path in sorted(members):
            m = members[path]
            info = tarfile.TarInfo(path.lstrip("/") or ".")
            info.mode, info.uid, info.gid, info.mtime = m.mode, m.uid, m.uid, 0
            if m.kind == "dir":
                info.type = tarfile.DIRTYPE
                tf.addfile(info)
            elif m.kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = m.target
                tf.addfile(info)
            else:
                data = m.data or b""
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _base_ca_bundle(base: str) -> bytes:
    c = client()
    container = c.containers.create(
        base, command=["true"], labels={"deploysim.role": "build", **owner_labels()}
    )
    try:
        stream, _ = container.get_archive("/etc/ssl/certs/ca-certificates.crt")
        raw = b"".join(stream)
    finally:
        container.remove(force=True)
    with tarfile.open(fileobj=io.BytesIO(raw)) as tf:
        member = tf.getmembers()[0]
        f = tf.extractfile(member)
        return f.read() if f else b""


def _add_repos(sd: SnapshotDir, members: dict[str, TarMember]) -> None:
    """Build each git repository on the host and add its work tree and .git to the archive."""
    for i, repo in enumerate(sd.snapshot.repos):
        uid = owner_uid(repo.owner)
        with tempfile.TemporaryDirectory(prefix="deploysim-repo-") as tmp:
            built = build_repo(sd, repo, Path(tmp) / f"repo{i}")
            _add_parents(members, repo.path + "/x", uid)
            members[repo.path] = TarMember(None, 0o755, uid, "dir")
            for p in sorted(built.path.rglob("*")):
                dest = f"{repo.path}/{p.relative_to(built.path).as_posix()}"
                mode = p.lstat().st_mode & 0o7777
                if p.is_symlink():
                    members[dest] = TarMember(None, 0o777, uid, "symlink", os.readlink(p))
                elif p.is_dir():
                    members[dest] = TarMember(None, mode, uid, "dir")
                else:
                    members[dest] = TarMember(p.read_bytes(), mode, uid)


def _workspace_members(sd: SnapshotDir, tls: TlsMaterial | None, base: str) -> dict[str, TarMember]:
    snap = sd.snapshot
    members: dict[str, TarMember] = {}
    for i, r in enumerate(snap.repos):
        _check_entry(sd, f"repo:{r.path}", f"repos[{i}].path", r.path, 0o755)
    _add_repos(sd, members)  # first: file entries inside a repo then show as uncommitted edits
    for i, f in enumerate(snap.files):
        mode = int(f.mode, 8)
        _check_entry(sd, f"file:{f.path}", f"files[{i}].path", f.path, mode)
        uid = owner_uid(f.owner)
        _add_parents(members, f.path, uid)
        if f.kind == "dir":
            members[f.path] = TarMember(None, mode, uid, "dir")
        elif f.kind == "symlink":
            members[f.path] = TarMember(None, 0o777, uid, "symlink", f.target or "")
        else:
            members[f.path] = TarMember(sd.file_bytes(f), mode, uid)
    with tempfile.TemporaryDirectory(prefix="deploysim-db-") as tmp:
        for i, db in enumerate(snap.databases):
            _check_entry(sd, f"db:{db.name}", f"databases[{i}].path", db.path, int(db.mode, 8))
            uid = owner_uid(db.owner)
            out = materialize_database(sd, db, Path(tmp) / f"{db.name}.db")
            _add_parents(members, db.path, uid)
            members[db.path] = TarMember(out.read_bytes(), int(db.mode, 8), uid)
    if tls is not None:
        bundle = _base_ca_bundle(base) + b"\n" + tls.ca_cert
        members["/etc/ssl/certs/ca-certificates.crt"] = TarMember(bundle, 0o644, 0)
        members[CA_FILE] = TarMember(tls.ca_cert, 0o644, 0)
    if snap.workdir not in _KNOWN_DIRS and snap.workdir not in members:
        _add_parents(members, snap.workdir + "/x", AGENT_UID)
    _check_no_symlink_parents(sd, members)
    return members


def _package_members(root: str) -> dict[str, TarMember]:
    pkg = Path(deploysim.__file__).parent
    out: dict[str, TarMember] = {}
    for p in sorted(pkg.rglob("*.py")):
        rel = p.relative_to(pkg.parent).as_posix()
        out[f"{root}/{rel}"] = TarMember(p.read_bytes(), 0o644, 0)
    return out


def _inside(sd: SnapshotDir, key: str, field: str, folder: str, rel: str) -> str:
    """``folder/rel``, refused unless it stays inside ``folder`` (the sidecar runs code there).

    Raises:
        SnapshotError: ``rel`` climbs out (``..``), is absolute or empty.
    """
    dest = posixpath.normpath(f"{folder}/{rel}")
    if not rel or rel.startswith("/") or not dest.startswith(folder + "/"):
        raise _refuse(sd, key, field, f"{rel!r} leaves the sidecar's folder {folder}")
    return dest


def _flat_snapshot(sd: SnapshotDir) -> dict[str, TarMember]:
    """The snapshot as the sidecar needs it: one folder, rows and modules beside the YAML."""
    snap = sd.snapshot
    members: dict[str, TarMember] = {}
    dbs = []
    for i, db in enumerate(snap.databases):
        tables = []
        for j, t in enumerate(db.tables):
            rows = sd.table_rows(db, t)
            # One naming rule with the snapshot store: any table name gives a safe file name.
            name = rows_file_name(db.name, t.name)
            _inside(
                sd,
                f"table:{db.name}/{t.name}",
                f"databases[{i}].tables[{j}].name",
                f"{SERVICES_SNAPSHOT_DIR}/databases",
                name,
            )
            data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
            dest = f"{SERVICES_SNAPSHOT_DIR}/databases/{name}"
            members[dest] = TarMember(data, 0o644, 0)
            _add_parents(members, dest, 0)
            tables.append(t.model_copy(update={"rows": None, "rows_file": name}))
        dbs.append(db.model_copy(update={"tables": tables}))
    for si, s in enumerate(snap.services):
        for ti, ft in enumerate(s.function_tools):
            if ft.handler.kind == "python":
                # Read through the snapshot's one checked reader (no FIFO, no escaping link),
                # and placed only inside the sidecar's folder.
                for rel, data in sd.module_files(s.name, ft.handler.module).items():
                    dest = _inside(
                        sd,
                        f"module:{s.name}/{ft.handler.module}",
                        f"services[{si}].function_tools[{ti}].handler.module",
                        f"{SERVICES_SNAPSHOT_DIR}/services",
                        rel,
                    )
                    members.setdefault(dest, TarMember(data, 0o644, 0))
    flat = snap.model_copy(update={"files": [], "databases": dbs, "extends": None})
    dumped = flat.model_dump(mode="json", exclude_defaults=True)
    # Handler kinds are defaults, but they are the union's discriminator: keep them (as
    # save_snapshot does), or the sidecar cannot load any function tool.
    for s_out, s_in in zip(dumped.get("services", []), flat.services, strict=True):
        for t_out, t_in in zip(s_out.get("function_tools", []), s_in.function_tools, strict=True):
            t_out.setdefault("handler", {})["kind"] = t_in.handler.kind
    text = yaml.safe_dump(dumped, sort_keys=False)
    members[f"{SERVICES_SNAPSHOT_DIR}/snapshot.yaml"] = TarMember(text.encode(), 0o644, 0)
    return members


def _services_members(sd: SnapshotDir, tls: TlsMaterial) -> dict[str, TarMember]:
    members = _package_members("/opt/deploysim/lib")
    members.update(_flat_snapshot(sd))
    members["/opt/deploysim/tls"] = TarMember(None, 0o700, SERVICES_UID, "dir")
    # The admin socket's folder; a compose volume mounted here inherits this owner.
    members["/run/deploysim-admin"] = TarMember(None, 0o700, SERVICES_UID, "dir")
    members["/opt/deploysim/tls/server.pem"] = TarMember(tls.server_cert, 0o600, SERVICES_UID)
    members["/opt/deploysim/tls/server.key"] = TarMember(tls.server_key, 0o600, SERVICES_UID)
    return members


def _digest(members: dict[str, TarMember], extra: str) -> str:
    h = hashlib.sha256(extra.encode())
    for path in sorted(members):
        m = members[path]
        h.update(f"{path}\0{m.mode}\0{m.uid}\0{m.kind}\0{m.target}\0".encode())
        h.update(hashlib.sha256(m.data or b"").digest())
    return h.hexdigest()[:16]


def _commit(
    base: str, repository: str, tag: str, members: dict[str, TarMember], changes: list[str]
) -> None:
    c = client()
    container = c.containers.create(
        base, command=["true"], labels={"deploysim.role": "build", **owner_labels()}
    )
    try:
        container.put_archive("/", _archive(members))
        container.commit(repository=repository, tag=tag, changes=changes)
    finally:
        container.remove(force=True)


def ensure_snapshot_images(sd: SnapshotDir, base: str) -> SnapshotImages:
    """Build (once) the workspace and services images of a snapshot on top of ``base``."""
    snap = sd.snapshot
    snap_hash = content_hash(sd)
    hosts = hostnames(sd)
    tls = tls_for(snap_hash, snap.name, hosts) if snap.services else None
    ws_members = _workspace_members(sd, tls, base)
    # The snapshot's variables are not image ENV: every process would get them, the root exec
    # server included (LD_PRELOAD ...). Pod.exec hands them to the agent's commands only.
    env: dict[str, Any] = {
        "DEPLOYSIM_HOSTS": " ".join(hosts),
        "SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt",
        "REQUESTS_CA_BUNDLE": "/etc/ssl/certs/ca-certificates.crt",
    }
    changes = [f"ENV {k}={json.dumps(v)}" for k, v in sorted(env.items())]
    changes.append(f"WORKDIR {snap.workdir}")
    ws_base = ensure_workspace_base(base)
    ws_tag = _digest(ws_members, f"{SEED_RECIPE}{ws_base}{changes}")
    ws_repo = f"deploysim/ws-{snap.name}"
    if not image_exists(f"{ws_repo}:{ws_tag}"):
        _commit(ws_base, ws_repo, ws_tag, ws_members, changes)
        client().images.get(f"{ws_repo}:{ws_tag}").tag(ws_repo, "latest")  # for compose.yaml
    svc_ref = None
    if snap.services and tls is not None:
        svc_members = _services_members(sd, tls)
        svc_tag = _digest(svc_members, f"{SEED_RECIPE}{base}")
        svc_repo = f"deploysim/svc-{snap.name}"
        if not image_exists(f"{svc_repo}:{svc_tag}"):
            _commit(
                base,
                svc_repo,
                svc_tag,
                svc_members,
                # No USER: the sidecar starts as root to bind 80/443, then drops to services.
                ["ENV PYTHONPATH=/opt/deploysim/lib"],
            )
            client().images.get(f"{svc_repo}:{svc_tag}").tag(svc_repo, "latest")
        svc_ref = f"{svc_repo}:{svc_tag}"
    return SnapshotImages(f"{ws_repo}:{ws_tag}", svc_ref, snap_hash)
