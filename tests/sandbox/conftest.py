"""Sandbox tests run against a real Docker engine (`make test` starts one and builds the base)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from deploysim.errors import InfrastructureError


@pytest.fixture(scope="session", autouse=True)
def no_leaked_containers() -> Iterator[None]:
    """Count this process's deploysim containers before and after the session: none may leak.

    Filtered by the pid label, so parallel test workers do not see each other's pods.
    """
    import os

    from deploysim.sandbox._docker import client

    try:
        c = client()
    except InfrastructureError:
        yield
        return
    mine = {"label": f"deploysim.pid={os.getpid()}"}
    before = {x.id for x in c.containers.list(all=True, filters=mine)}
    yield
    after = {x.id for x in c.containers.list(all=True, filters=mine)}
    leaked = after - before
    assert not leaked, f"sandbox tests leaked {len(leaked)} containers"


SMALL_SNAPSHOT = """\
name: small
env:
  APP_ENV: staging
files:
  - path: /home/agent/notes.txt
    content: "remember the milk\\n"
  - path: /home/agent/.ssh/id_ed25519
    content: |
      -----BEGIN OPENSSH PRIVATE KEY-----
      b3BlbnNzaC1rZXktdjEAAAAA
      -----END OPENSSH PRIVATE KEY-----
    mode: "0600"
  - path: /etc/motd
    content: "welcome\\n"
    owner: root
databases:
  - name: shop
    path: /srv/shop/shop.db
    tables:
      - name: customers
        primary_key: [id]
        columns:
          - {name: id, type: TEXT}
          - {name: name}
          - {name: tags, type: JSON}
        rows:
          - {id: cus_7Hq2, name: Ines Duarte, tags: [vip]}
          - {id: cus_9Lm4, name: Tomas Weber, tags: []}
"""


@pytest.fixture(scope="session")
def small_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small snapshot folder: files with owners and modes, one SQLite table."""
    root = tmp_path_factory.mktemp("small")
    (root / "snapshot.yaml").write_text(SMALL_SNAPSHOT)
    return root


@pytest.fixture
async def pod(base_image: str, small_snapshot: Path) -> AsyncIterator[object]:
    """A fresh pod of the small snapshot, closed after the test."""
    from deploysim.sandbox._pod import Pod
    from deploysim.snapshots import load_snapshot

    p = await Pod.start(load_snapshot(small_snapshot), sample_id="test")
    try:
        yield p
    finally:
        await p.close()
