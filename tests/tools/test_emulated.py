"""The emulated backend: off unless a simulator is configured; results labelled emulated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from inspect_ai.model import ModelOutput, ModelUsage, get_model

from deploysim.snapshots import load_snapshot
from deploysim.tools import (
    CallContext,
    ModelEmulator,
    RecordedPool,
    Router,
    ToolRequest,
    default_chain,
    snapshot_summary,
)
from deploysim.traces import ToolSpec

REPO = Path(__file__).resolve().parents[2]
SPEC = ToolSpec(name="get_order", description="Look up an order", effect="read")


def _simulator(seen: list[str]) -> Any:
    def answer(input: list[Any], tools: Any, tool_choice: Any, config: Any) -> ModelOutput:
        seen.append(input[-1].text)
        out = ModelOutput.from_content(
            "mockllm/model", json.dumps({"output": "Error: order 9 not found", "is_error": True})
        )
        out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return out

    return get_model("mockllm/model", custom_outputs=answer, memoize=False)


def test_the_chain_has_no_simulator_unless_asked() -> None:
    """Without a simulator the chain ends recorded, unavailable; with one, emulated comes first."""
    assert default_chain(SPEC, None) == ["recorded", "unavailable"]
    assert default_chain(SPEC, None, emulate=True) == ["recorded", "emulated", "unavailable"]


async def test_unrecorded_calls_are_emulated_with_context() -> None:
    """A call the pool lacks is answered by the simulator, which saw pairs and the snapshot."""
    pool = RecordedPool()
    pool.add("get_order", {"id": 1}, None, '{"id": 1, "status": "shipped"}', False)
    seen: list[str] = []
    shop = load_snapshot(REPO / "env_snapshots" / "shop")
    emulator = ModelEmulator(_simulator(seen), shop, pool)
    router = Router([SPEC], CallContext(pool=pool, emulator=emulator))
    hit = await router.call(ToolRequest(name="get_order", arguments={"id": 1}))
    assert hit.provenance == "recorded"
    miss = await router.call(ToolRequest(name="get_order", arguments={"id": 9}))
    assert (miss.provenance, miss.backend, miss.is_error) == ("emulated", "emulated", True)
    assert miss.output == "Error: order 9 not found" and "mockllm" in (miss.note or "")
    prompt = seen[0]
    assert 'call get_order({"id": 1})' in prompt and '"status": "shipped"' in prompt
    assert "Table shop.orders (180 rows" in prompt and 'call get_order({"id": 9})' in prompt
    again = await router.call(ToolRequest(name="get_order", arguments={"id": 10}))
    assert again.provenance == "emulated" and "Your earlier answers" in seen[1]


def test_snapshot_summary_without_a_snapshot() -> None:
    """No snapshot: the simulator is told the state is known only from the recorded calls."""
    assert "only known from the recorded calls" in snapshot_summary(None)
