"""Replay tau-bench airline traces' tool calls against the services app (test helper).

tau-bench trajectories are OpenAI chat messages whose tool_call ids repeat within a trace,
so results are paired with calls by position: the tool messages right after an assistant
message answer its tool_calls in order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import httpx

WRITE_TOOLS = frozenset(
    {
        "book_reservation",
        "cancel_reservation",
        "send_certificate",
        "update_reservation_baggages",
        "update_reservation_flights",
        "update_reservation_passengers",
    }
)


class RecordedCall(NamedTuple):
    """A tool call of a trace with the result tau-bench recorded."""

    trace: int
    name: str
    arguments: dict[str, Any]
    output: str


class Replayed(NamedTuple):
    """A recorded call, what the app answered, and whether the two agree."""

    call: RecordedCall
    live: Any
    same_json: bool
    same_text: bool


def recorded_calls(traces_json: Path) -> list[list[RecordedCall]]:
    """Every trace's tool calls, in order, paired with their recorded results."""
    out: list[list[RecordedCall]] = []
    for t, record in enumerate(json.loads(traces_json.read_text())):
        traj = record["traj"]
        calls: list[RecordedCall] = []
        for i, msg in enumerate(traj):
            for k, tc in enumerate(msg.get("tool_calls") or []):
                result = traj[i + 1 + k]
                assert result["role"] == "tool", f"trace {t}: call {tc['id']} has no result"
                fn = tc["function"]
                calls.append(
                    RecordedCall(t, fn["name"], json.loads(fn["arguments"]), result["content"])
                )
        out.append(calls)
    return out


def as_text(output: Any) -> str:
    """The tool-result text the router makes of an output: strings as is, else json.dumps."""
    return output if isinstance(output, str) else json.dumps(output)


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def replay(client: httpx.Client, traces: list[list[RecordedCall]]) -> list[Replayed]:
    """Each trace's calls in order from a fresh state; every answer compared with the record."""
    results: list[Replayed] = []
    for calls in traces:
        client.post("/__deploysim/reset").raise_for_status()
        for call in calls:
            r = client.post(f"/tools/{call.name}", json=call.arguments)
            r.raise_for_status()
            live = r.json()["output"]
            text = as_text(live)
            same_json = _parsed(text) == _parsed(call.output)
            results.append(Replayed(call, live, same_json, text == call.output))
    return results
