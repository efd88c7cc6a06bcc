"""Builders for grader tests: replay records and transcripts made by hand, real traces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deploysim.graders import (
    GradeInput,
    SnapshotFacts,
    Transcript,
    TranscriptCall,
    TranscriptMessage,
)
from deploysim.replay import EndState, ReplayRecord, Step
from deploysim.traces import ToolEffect, Trace, TraceSource, import_traces, load_tools_file


def call(
    tool: str,
    effect: ToolEffect = "unknown",
    output: str = "ok",
    *,
    is_error: bool = False,
    turn: int = 1,
    call_id: str | None = None,
    **arguments: Any,
) -> Step:
    """A tool-call step."""
    return Step(
        kind="tool_call",
        turn=turn,
        tool=tool,
        call_id=call_id,
        arguments=arguments,
        effect=effect,
        output=output,
        is_error=is_error,
        provenance="live",
    )


def say(text: str, turn: int = 1) -> Step:
    """An assistant message step."""
    return Step(kind="message", turn=turn, text=text)


def shell(command: str, output: str = "", **kw: Any) -> Step:
    """A shell call."""
    return call("bash", "unknown", output, command=command, **kw)


def record(
    candidate: list[Step],
    original: list[Step] | None = None,
    *,
    mode: str = "resample",
    end_state: EndState | None = None,
    **fields: Any,
) -> ReplayRecord:
    """A replay record of one sample."""
    values: dict[str, Any] = {
        "scenario": "test",
        "suite": "tests",
        "trace_id": "t-1",
        "trace_source": TraceSource(format="test"),
        "mode": mode,
        "cut": 3,
        "turn": 1,
        "candidate_model": "test/candidate",
        "original": original or [],
        "candidate": candidate,
        "end_state": end_state or EndState(captured=False, reason="not executed"),
    }
    values.update(fields)
    return ReplayRecord.model_validate(values)


def conversation(
    *turns: tuple[str, str],
    calls: dict[int, list[tuple[str, dict[str, Any]]]] | None = None,
    prefix: int | None = None,
) -> Transcript:
    """A transcript from (role, text) pairs; ``calls`` maps a message index to its calls."""
    calls = calls or {}
    messages = [
        TranscriptMessage(
            index=i,
            id=f"m{i}",
            role=role,  # type: ignore[arg-type]
            text=text,
            calls=[
                TranscriptCall(id=f"c{i}.{k}", name=n, arguments=a)
                for k, (n, a) in enumerate(calls.get(i, []))
            ],
        )
        for i, (role, text) in enumerate(turns)
    ]
    return Transcript(messages=messages, prefix_len=len(messages) if prefix is None else prefix)


def grade_input(
    rec: ReplayRecord,
    transcript: Transcript | None = None,
    reference: ReplayRecord | None = None,
    **facts: Any,
) -> GradeInput:
    """A grade input with optional snapshot facts."""
    return GradeInput(
        record=rec, transcript=transcript, reference=reference, snapshot=SnapshotFacts(**facts)
    )


@pytest.fixture(scope="session")
def airline_traces(shared_traces: Path) -> list[Trace]:
    """The 50 real tau-bench airline traces (gpt-4o), with their tool schemas."""
    base = shared_traces / "tau-bench-airline"
    return import_traces(
        [base / "traces.json"], tools=load_tools_file(base / "tool_schemas.json")
    ).traces
