"""Build the git repositories a snapshot describes, with stable commit ids.

A :class:`GitRepo` is a list of commits (author, date, message, changed paths). The
repository is made with ``git fast-import`` from that list: authors and dates are fixed and
no user or system git configuration is read, so every build gives the same commit ids, and
a diff of two snapshots shows history changes as data rather than as an opaque bundle.
"""

from __future__ import annotations

import os
import subprocess
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from deploysim._errors import SnapshotError
from deploysim.snapshots._model import GitCommit, GitRepo
from deploysim.snapshots._store import SnapshotDir

__all__ = ["BuiltRepo", "build_repo"]


class BuiltRepo(NamedTuple):
    """Where a repository was built and the id of its last commit."""

    path: Path
    head: str


def _when(ts: datetime) -> str:
    offset = ts.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"{int(ts.timestamp())} {sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _data(payload: bytes) -> bytes:
    return b"data %d\n" % len(payload) + payload + b"\n"


def _stream(sd: SnapshotDir, repo: GitRepo) -> bytes:
    out = bytearray()
    ref = f"refs/heads/{repo.branch}".encode()
    for n, c in enumerate(repo.commits, start=1):
        out += _commit(sd, repo, c, n, ref)
    return bytes(out)


def _commit(sd: SnapshotDir, repo: GitRepo, c: GitCommit, mark: int, ref: bytes) -> bytes:
    when = _when(c.date)
    out = bytearray(b"commit " + ref + b"\n")
    out += b"mark :%d\n" % mark
    out += f"author {c.author} {when}\n".encode()
    out += f"committer {c.committer or c.author} {when}\n".encode()
    message = c.message if c.message.endswith("\n") else c.message + "\n"
    out += _data(message.encode())
    for ch in c.changes:
        path = ch.path.encode()
        if b"\n" in path or b'"' in path:
            raise SnapshotError(sd.root, f"unsupported path {ch.path!r}", field="repos.changes")
        if ch.delete:
            out += b"D " + path + b"\n"
        else:
            mode = b"100755" if ch.executable else b"100644"
            out += b"M " + mode + b" inline " + path + b"\n"
            out += _data(sd.change_bytes(repo, ch))
    return bytes(out)


def _git(args: list[str], cwd: Path, stdin: bytes | None = None) -> str:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
    }
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, input=stdin, capture_output=True, env=env, check=True
        )
    except FileNotFoundError as e:
        raise SnapshotError(cwd, "git is not installed; it is needed to build repositories") from e
    except subprocess.CalledProcessError as e:
        msg = e.stderr.decode(errors="replace").strip()
        raise SnapshotError(cwd, f"git {args[0]} failed: {msg}") from e
    return done.stdout.decode().strip()


def build_repo(sd: SnapshotDir, repo: GitRepo, dest: str | Path) -> BuiltRepo:
    """Create the repository at ``dest`` (an empty or missing folder) and check out its branch.

    Raises:
        SnapshotError: ``dest`` is not empty, content is missing, or git fails.
    """
    path = Path(dest)
    if path.exists() and any(path.iterdir()):
        raise SnapshotError(path, "is not empty; a repository is built into an empty folder")
    path.mkdir(parents=True, exist_ok=True)
    _git(["init", "--quiet", f"--initial-branch={repo.branch}"], path)
    _git(["fast-import", "--quiet", "--done"], path, _stream(sd, repo) + b"done\n")
    _git(["checkout", "--quiet", "--force", repo.branch], path)
    for name, url in sorted(repo.remotes.items()):
        _git(["remote", "add", "--", name, url], path)
    return BuiltRepo(path, _git(["rev-parse", "HEAD"], path))
