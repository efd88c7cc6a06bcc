"""inspect-ai's own sandbox conformance checks, run against the deploysim provider.

Checks we cannot pass are marked xfail here with the reason.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from inspect_ai.util import SandboxEnvironment
from inspect_ai.util._sandbox.self_check import *  # noqa: F403

from deploysim.sandbox._inspect import DeploysimSandbox, DeploysimSandboxConfig

pytestmark = pytest.mark.docker

KNOWN_FAILURES = {
    "test_exec_as_user": (
        "hardened pod: root in the workspace holds no CAP_CHOWN/DAC_OVERRIDE, so `adduser` "
        "cannot create a user; exec as existing users (root, agent) works"
    ),
}


@pytest.fixture
async def sandbox_env(
    request: pytest.FixtureRequest, base_image: str
) -> AsyncIterator[SandboxEnvironment]:
    """A deploysim sandbox with no snapshot, fresh for each check."""
    reason = KNOWN_FAILURES.get(request.node.originalname)
    if reason:
        request.node.add_marker(pytest.mark.xfail(reason=reason, strict=True))
    envs = await DeploysimSandbox.sample_init("self-check", DeploysimSandboxConfig(), {})
    try:
        yield envs["default"]
    finally:
        await DeploysimSandbox.sample_cleanup("self-check", None, envs, False)
