"""The tool router: live function tools, recorded fallback, unavailable errors, shell in a pod."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploysim.snapshots import load_snapshot
from deploysim.tools import (
    CallContext,
    InProcessServices,
    RecordedPool,
    Router,
    ToolRequest,
    default_chain,
)
from deploysim.traces import ToolSpec, import_file, load_tools_file, pair_calls


@pytest.fixture
async def airline_services(airline_dir: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    services = InProcessServices(airline_dir, tmp_path / "state")
    yield services
    await services.aclose()


async def test_function_tools_are_live_and_reproduce_a_recorded_trace(
    airline_dir: Path, airline_services: InProcessServices, shared_traces: Path
) -> None:
    """Replaying tau-bench task 0's calls through the router gives the recorded outputs, live."""
    d = shared_traces / "tau-bench-airline"
    trace = import_file(d / "traces.json", tools=load_tools_file(d / "tool_schemas.json")).traces[0]
    router = Router(trace.tools, CallContext(services=airline_services), load_snapshot(airline_dir))
    pairing = pair_calls(trace)
    assert pairing.pairs
    for pair in pairing.pairs:
        call, result = pair.call.call, pair.result.result
        out = await router.call(ToolRequest(name=call.name, arguments=call.arguments))
        assert out.provenance == "live" and out.backend == "function"
        assert out.output == result.output


async def test_fallback_to_recorded_then_unavailable(
    airline_dir: Path, airline_services: InProcessServices
) -> None:
    """An unknown tool is answered from the recorded pool, else with an unavailable error."""
    pool = RecordedPool()
    pool.add("lookup_weather", {"city": "Lisbon"}, None, "19C, clear", False)
    spec = ToolSpec(name="lookup_weather")
    router = Router(
        [spec], CallContext(services=airline_services, pool=pool), load_snapshot(airline_dir)
    )
    assert default_chain(spec, load_snapshot(airline_dir)) == ["recorded", "unavailable"]
    hit = await router.call(ToolRequest(name="lookup_weather", arguments={"city": "Lisbon"}))
    assert (hit.output, hit.provenance) == ("19C, clear", "recorded")
    miss = await router.call(ToolRequest(name="lookup_weather", arguments={"city": "Porto"}))
    assert miss.provenance == "unavailable" and miss.is_error
    assert "recorded" in (miss.note or "")


async def test_live_function_failure_falls_back_with_a_note(
    airline_dir: Path, airline_services: InProcessServices
) -> None:
    """A function tool the services reject for bad input falls back instead of leaking a 422."""
    spec = ToolSpec(name="get_user_details")
    pool = RecordedPool()
    router = Router(
        [spec],
        CallContext(services=airline_services, pool=pool),
        load_snapshot(airline_dir),
        chains={"get_user_details": ["function", "unavailable"]},
    )
    out = await router.call(
        ToolRequest(name="get_user_details", arguments=None, raw_arguments="{broken")
    )
    assert out.provenance == "unavailable"
    assert out.note and "function" in out.note


@pytest.mark.docker
async def test_shell_tools_run_in_the_pod(base_image: str) -> None:
    """A shell-kind tool runs as the agent in the pod; a failing command is a tool error."""
    from deploysim.sandbox import Pod

    pod = await Pod.start()
    try:
        spec = ToolSpec(name="bash", kind="shell")
        router = Router([spec], CallContext(pod=pod))
        ok = await router.call(ToolRequest(name="bash", arguments={"command": "echo $((6*7))"}))
        assert (ok.output, ok.is_error, ok.provenance) == ("42\n", False, "live")
        bad = await router.call(ToolRequest(name="bash", arguments={"command": "ls /nope"}))
        assert bad.is_error and "No such file" in bad.output
    finally:
        await pod.close()
