"""Tool calls on a real pod: what the agent causes is a tool result; a dead sidecar is not."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from deploysim.snapshots import load_snapshot
from deploysim.tools import CallContext, PodServices, Router, ToolRequest
from deploysim.tools._backends import FunctionBackend
from deploysim.traces import ToolSpec

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.docker

SHELL = ToolSpec(name="bash", kind="shell")
EDIT = ToolSpec(name="str_replace_based_edit_tool", kind="editor")
SQL = ToolSpec(name="run_sql", kind="sql")
HTTP = ToolSpec(name="http_request", kind="http")
CHARGES = "https://api.corvapay.com/v1/charges?receipt_email=nicole_boone@gmail.com"

# a json module the agent leaves in its working folder: a client that imported it would
# print whatever it says instead of the real answer
FAKE_JSON = 'loads = lambda s: {}\ndumps = lambda o, **k: \'{"status": "hijacked"}\'\n'


async def test_agent_caused_failures_are_tool_results(base_image: str) -> None:
    """A disk the agent filled, a file past the read limit, a slow query, a module planted to
    hijack the harness's in-pod clients, an HTTP error answer of the sidecar and a sidecar that
    answers too late all come back as tool results the model sees; none raises out of the
    router or is taken for an infrastructure failure."""
    from deploysim.sandbox import Pod, PodLimits

    sd = load_snapshot(REPO / "env_snapshots" / "shop")
    pod = await Pod.start(sd)
    try:
        router = Router([SHELL, EDIT, SQL, HTTP], CallContext(pod=pod, timeout=2), sd)

        async def call(spec: ToolSpec, **args: object) -> tuple[str, bool, str]:
            out = await router.call(ToolRequest(name=spec.name, arguments=dict(args)))
            return out.output, out.is_error, out.provenance

        # /dev/shm is a tmpfs of PodLimits.tmp: one file past it fills it (below the per-file cap)
        over = PodLimits().tmp.rstrip("m")
        fill = f"head -c {int(over) + 16}M /dev/zero > /dev/shm/fill"
        text, err, _ = await call(SHELL, command=fill)
        assert err and "No space left on device" in text  # the agent filled the tmpfs
        text, err, prov = await call(EDIT, command="create", path="/dev/shm/a.txt", file_text="x")
        assert err and prov == "live" and "No space left on device" in text
        await call(SHELL, command="truncate -s 200M /tmp/huge.log")
        text, err, _ = await call(EDIT, command="view", path="/tmp/huge.log")
        assert err and "too large" in text
        slow = (
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT max(i) FROM n"
        )
        text, err, _ = await call(SQL, query=slow)
        assert err and "timed out" in text
        text, err, _ = await call(SHELL, command=f"printf '{FAKE_JSON}' > json.py && ls json.py")
        assert not err and "json.py" in text
        text, err, _ = await call(HTTP, method="GET", url=CHARGES)
        assert not err and json.loads(text)["data"][0]["receipt_email"].startswith("nicole")
        text, err, prov = await call(HTTP, method="GET", url="https://api.corvapay.com/v1/nope")
        assert err and prov == "live"
        services = PodServices(pod)
        try:
            status, _ = await services.call_tool("no_such_tool", {})
            assert status == 404  # an HTTP error answer is returned, not raised
            # a running sidecar that answers too late (flooded, say) is not infrastructure:
            # the function tool gets a timeout error the model sees
            services._http().timeout = httpx.Timeout(0.00001)
            with pytest.raises(TimeoutError):
                await services.request("GET", "/__deploysim/log")
            late = await FunctionBackend().call(
                ToolSpec(name="lookup"),
                ToolRequest(name="lookup", arguments={}),
                CallContext(pod=pod, services=services),
            )
            assert late.is_error and late.error_type == "timeout" and late.provenance == "live"
        finally:
            await services.aclose()
    finally:
        await pod.close()


async def test_a_dead_sidecar_is_an_infrastructure_failure_naming_the_pod(base_image: str) -> None:
    """Once the sidecar is killed, every path that reaches it (the admin API, the services
    endpoint, and any in-pod tool call, whose own output would only say "connection
    refused") raises ServicesUnavailableError naming the pod and the container's state."""
    from deploysim.sandbox import Pod, ServicesUnavailableError

    sd = load_snapshot(REPO / "env_snapshots" / "shop")
    pod = await Pod.start(sd)
    try:
        assert pod.services is not None
        router = Router([SHELL, HTTP], CallContext(pod=pod), sd)
        ok = await router.call(ToolRequest(name="bash", arguments={"command": "echo up"}))
        assert ok.output.strip() == "up"
        await asyncio.to_thread(pod.services.kill)
        with pytest.raises(ServicesUnavailableError, match=rf"pod {pod.id} \(exited"):
            await pod.admin("GET", "/__deploysim/log")
        services = PodServices(pod)
        try:
            with pytest.raises(ServicesUnavailableError, match=pod.id):
                await services.request("GET", "/__deploysim/log")
        finally:
            await services.aclose()
        for name, args in (
            ("http_request", {"method": "GET", "url": CHARGES}),
            ("bash", {"command": "echo still-here"}),
        ):
            with pytest.raises(ServicesUnavailableError, match=f"pod {pod.id} is exited"):
                await router.call(ToolRequest(name=name, arguments=args))
    finally:
        await pod.close()
