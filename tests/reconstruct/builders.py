"""Hand-made traces for reconstruction tests: a few lines build a trace of tool calls."""

from __future__ import annotations

import json
from typing import Any

from deploysim.traces import Message, Text, ToolCall, ToolResult, ToolSpec, Trace, TraceSource


def spec(name: str, kind: str = "function", effect: str = "unknown", **props: str) -> ToolSpec:
    """A tool spec with string parameters ``props``."""
    return ToolSpec(
        name=name,
        kind=kind,  # type: ignore[arg-type]
        effect=effect,  # type: ignore[arg-type]
        parameters={"type": "object", "properties": {p: {"type": t} for p, t in props.items()}},
    )


def trace(
    trace_id: str,
    calls: list[tuple[str, dict[str, Any], Any]],
    tools: list[ToolSpec],
    *,
    errors: set[int] = frozenset(),  # type: ignore[assignment]
) -> Trace:
    """A trace whose assistant makes ``calls`` (name, arguments, output) one per turn.

    Outputs that are not strings are recorded as ``json.dumps(output)``, as Python tools did.
    """
    messages = [Message(role="user", parts=[Text(text="help me")])]
    for i, (name, args, output) in enumerate(calls):
        cid = f"call_{i}"
        text = output if isinstance(output, str) else json.dumps(output)
        messages.append(
            Message(
                role="assistant",
                parts=[ToolCall(id=cid, name=name, arguments=args, raw_arguments=json.dumps(args))],
            )
        )
        messages.append(
            Message(role="tool", parts=[ToolResult(call_id=cid, output=text, is_error=i in errors)])
        )
    return Trace(
        id=trace_id,
        source=TraceSource(format="canonical", path=f"{trace_id}.jsonl", index=0),
        tools=tools,
        messages=messages,
    )
