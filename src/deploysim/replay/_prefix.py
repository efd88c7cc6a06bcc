"""Bring the pod to the state the original agent saw at the cut.

The snapshot is the state before the conversation; the prefix may already have changed it
(a booking made in turn 2 is visible in turn 5). So the prefix's state-changing calls (tools
whose effect is ``write`` or ``unknown``) are re-executed in order, through the live backends
only (function tools through the services, shell/editor/sql/http in the pod), before the
candidate takes over. Each re-execution is compared with its recorded output, tau2-style: a
mismatch is a fidelity warning in the record, never a failure; a tool no live backend serves
is listed as not executed (its effect is missing from the pod).
"""

from __future__ import annotations

import json
from typing import Any

from deploysim.replay._plan import TracePlan
from deploysim.replay._record import PrefixCall
from deploysim.tools import NotServed, Router, ToolRequest
from deploysim.traces import pair_calls

__all__ = ["LIVE_BACKENDS", "fidelity_warnings", "replay_prefix", "same_output"]

LIVE_BACKENDS = ("function", "shell", "editor", "sql", "http")


def same_output(a: str, b: str) -> bool:
    """Equal as text, or equal as JSON values (key order and spacing do not matter)."""
    if a == b:
        return True
    try:
        x: Any = json.loads(a)
        y: Any = json.loads(b)
    except ValueError:
        return a.strip() == b.strip()
    return bool(x == y)


async def replay_prefix(router: Router, plan: TracePlan, cut: int) -> list[PrefixCall]:
    """Re-execute the prefix's state-changing calls; report each one."""
    trace = plan.trace
    pairs = [p for p in pair_calls(trace).pairs if p.call.message_index < cut]
    order = {id(c): n for n, c in enumerate(trace.tool_calls())}
    pairs.sort(key=lambda p: order.get(id(p.call.call), 0))
    out: list[PrefixCall] = []
    for pair in pairs:
        call, result = pair.call.call, pair.result.result
        effect = plan.effect(call.name, call.arguments)
        if effect == "read" or call.requestor == "user" or call.executed_by == "server":
            continue
        base = PrefixCall(
            message_index=pair.call.message_index,
            tool=call.name,
            arguments=call.arguments,
            effect=effect,
            recorded_output=result.output,
            recorded_is_error=result.is_error,
            executed=False,
        )
        live = [b for b in plan.chains.get(call.name, []) if b in LIVE_BACKENDS]
        if not live:
            out.append(base.model_copy(update={"note": "no live backend: effect not rebuilt"}))
            continue
        request = ToolRequest(
            name=call.name, arguments=call.arguments, raw_arguments=call.raw_arguments
        )
        try:
            outcome = await router.call(request, only=live)
        except NotServed as e:
            out.append(base.model_copy(update={"note": f"not served live: {e}"}))
            continue
        out.append(
            base.model_copy(
                update={
                    "executed": True,
                    "output": outcome.output,
                    "is_error": outcome.is_error,
                    "provenance": outcome.provenance,
                    "backend": outcome.backend,
                    "reproduced": same_output(outcome.output, result.output),
                    "note": outcome.note,
                }
            )
        )
    return out


def fidelity_warnings(calls: list[PrefixCall]) -> list[str]:
    """One line per prefix call that did not reproduce or could not be re-executed."""
    lines: list[str] = []
    for c in calls:
        if not c.executed:
            lines.append(f"prefix message {c.message_index}: {c.tool} not re-executed ({c.note})")
        elif not c.reproduced:
            lines.append(
                f"prefix message {c.message_index}: {c.tool} gave {c.output!r:.120} "
                f"where the trace recorded {c.recorded_output!r:.120}"
            )
    return lines
