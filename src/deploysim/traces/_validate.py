"""Consistency checks on a Trace, reported as findings rather than raised."""

from __future__ import annotations

from typing import Any, Literal

import jsonschema
from pydantic import BaseModel, ConfigDict

from deploysim.traces._model import ToolCall, Trace
from deploysim.traces._pairing import pair_calls

__all__ = ["Finding", "duplicate_ids", "validate"]

Level = Literal["error", "warning"]


class Finding(BaseModel):
    """One problem found in a trace.

    ``error`` means the trace is inconsistent in itself (a result answering no call, a call
    id reused while the first call is still open); ``warning`` means the trace faithfully
    records something faulty the agent or the recorder did (arguments that are not JSON,
    arguments off the schema, an unanswered call, an undeclared tool).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    level: Level
    code: str
    trace_id: str
    message: str
    message_index: int | None = None
    call_id: str | None = None

    def __str__(self) -> str:
        where = self.trace_id
        if self.message_index is not None:
            where += f" message {self.message_index}"
        if self.call_id is not None:
            where += f" call {self.call_id}"
        return f"{self.level}: {where}: [{self.code}] {self.message}"


def _schema_errors(call: ToolCall, schema: dict[str, Any]) -> list[str]:
    try:
        validator_cls = jsonschema.validators.validator_for(schema)
        validator_cls.check_schema(schema)
    except jsonschema.SchemaError as e:
        return [f"the tool's own schema is invalid: {e.message}"]
    validator = validator_cls(schema)
    return [
        f"{'.'.join(str(p) for p in err.absolute_path) or '(arguments)'}: {err.message}"
        for err in validator.iter_errors(call.arguments)
    ]


def validate(trace: Trace) -> list[Finding]:
    """Check pairing, ids, argument JSON, schema fit and declared tools."""
    findings: list[Finding] = []

    def add(level: Level, code: str, msg: str, idx: int | None, cid: str | None) -> None:
        findings.append(
            Finding(
                level=level,
                code=code,
                trace_id=trace.id,
                message=msg,
                message_index=idx,
                call_id=cid,
            )
        )

    pairing = pair_calls(trace)
    for ref in pairing.reopened_ids:
        add(
            "error",
            "duplicate_call_id",
            f"call id {ref.call.id!r} is reused while an earlier call with it is unanswered",
            ref.message_index,
            ref.call.id,
        )
    for ref in pairing.unpaired_calls:
        add(
            "warning",
            "unpaired_call",
            f"call to {ref.call.name!r} has no result",
            ref.message_index,
            ref.call.id,
        )
    for res in pairing.unpaired_results:
        add(
            "error",
            "unpaired_result",
            f"result for {res.result.call_id!r} answers no open call",
            res.message_index,
            res.result.call_id,
        )
    declared = {t.name: t for t in trace.tools}
    calls = [(i, c) for i, m in enumerate(trace.messages) for c in m.tool_calls]
    if calls and not declared:
        add(
            "warning",
            "no_tool_specs",
            "the trace declares no tools; pass --tools FILE to supply their schemas",
            None,
            None,
        )
    for idx, call in calls:
        if call.parse_error:
            add("warning", "invalid_arguments", f"{call.name}: {call.parse_error}", idx, call.id)
        spec = declared.get(call.name)
        if spec is None:
            if declared and call.executed_by == "client":
                add(
                    "warning",
                    "undeclared_tool",
                    f"tool {call.name!r} is called but not declared",
                    idx,
                    call.id,
                )
        elif call.arguments is not None:
            for err in _schema_errors(call, spec.parameters):
                add("warning", "schema_mismatch", f"{call.name}: {err}", idx, call.id)
    findings.sort(key=lambda f: f.message_index if f.message_index is not None else -1)
    return findings


def _where(trace: Trace) -> str:
    src = trace.source
    at = f"{src.path or '(no file)'}"
    return at + (f" record {src.index}" if src.index is not None else "")


def duplicate_ids(traces: list[Trace]) -> list[Finding]:
    """An error for every trace id held by more than one trace.

    Every later stage keys by trace id (scenario cuts, replay samples, grades, the forecast's
    pairs), so two traces with one id would silently shadow each other there.
    """
    by_id: dict[str, list[Trace]] = {}
    for t in traces:
        by_id.setdefault(t.id, []).append(t)
    return [
        Finding(
            level="error",
            code="duplicate_trace_id",
            trace_id=tid,
            message=f"{len(same)} traces share this id: " + "; ".join(_where(t) for t in same),
        )
        for tid, same in by_id.items()
        if len(same) > 1
    ]
