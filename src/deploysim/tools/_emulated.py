"""The ``emulated`` backend: a simulator model writes the tool's answer.

Off unless a simulator is configured (``CallContext.emulator``). The simulator shipped here,
:class:`ModelEmulator`, is any inspect-ai model given the tool's definition, a summary of the
snapshot (databases, tables with a few rows, files, services) and the recorded (call, result)
pairs of the trace; it answers with the tool's output as JSON ``{"output", "is_error"}``.

Results carry provenance ``emulated`` and the simulator's name: graders and reports count them
apart from live and recorded ones.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from deploysim.tools._backends import (
    Backend,
    CallContext,
    NotServed,
    RecordedExample,
    RecordedPool,
    backend,
)
from deploysim.tools._model import EmulatedAnswer, ToolOutcome, ToolRequest
from deploysim.traces import ToolSpec

if TYPE_CHECKING:
    from inspect_ai.model import Model

    from deploysim.snapshots import SnapshotDir

__all__ = ["EmulatedBackend", "ModelEmulator", "snapshot_summary"]

_MAX_EXAMPLES = 24
_MAX_ROWS = 3
_MAX_TEXT = 2000

_INSTRUCTIONS = """\
You simulate one tool of a software environment. An AI agent called the tool; answer exactly
what the real tool would have returned, consistent with the environment's state and with the
recorded calls below (same formats, same error texts). Do not explain. Reply with one JSON
object and nothing else: {"output": "<the tool's output text>", "is_error": <true|false>}."""


def _clip(text: str, limit: int = _MAX_TEXT) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more chars)"


def snapshot_summary(sd: SnapshotDir | None) -> str:
    """A compact description of a snapshot for a simulator's prompt."""
    if sd is None:
        return "(no snapshot: the environment's state is only known from the recorded calls)"
    snap = sd.snapshot
    lines = [f"Environment {snap.name!r}: {snap.description}".rstrip(": ")]
    if snap.clock is not None:
        lines.append(f"Current time: {snap.clock.isoformat()}")
    for db in snap.databases:
        for table in db.tables:
            rows = sd.table_rows(db, table)
            cols = ", ".join(c.name for c in table.columns)
            lines.append(f"Table {db.name}.{table.name} ({len(rows)} rows; columns {cols})")
            lines.extend("  " + _clip(json.dumps(r, default=str), 400) for r in rows[:_MAX_ROWS])
    lines.extend(f"File {f.path}" for f in snap.files[:50])
    for svc in snap.services:
        hosts = ", ".join(svc.hostnames) or "(function tools only)"
        lines.append(f"Service {svc.name} at {hosts}")
    return "\n".join(lines)


def _example_text(e: RecordedExample) -> str:
    args = json.dumps(e.arguments) if e.arguments is not None else repr(e.raw_arguments)
    flag = " (error)" if e.is_error else ""
    return f"call {e.name}({args}) ->{flag}\n{_clip(e.output)}"


def _parse(text: str) -> tuple[str, bool]:
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`").split("\n", 1)[-1] if "\n" in body else body.strip("`")
    start, end = body.find("{"), body.rfind("}")
    if start != -1 and end > start:
        try:
            data: Any = json.loads(body[start : end + 1])
        except ValueError:
            data = None
        if isinstance(data, dict) and "output" in data:
            out = data["output"]
            text_out = out if isinstance(out, str) else json.dumps(out)
            return text_out, bool(data.get("is_error"))
    return text.strip(), False


class ModelEmulator:
    """A simulator backed by an inspect-ai model (any provider, or a scripted model).

    Args:
        model: an inspect model name (``openai/gpt-4o``) or a ``Model``.
        snapshot: the snapshot the sample's pod was seeded from, if any.
        pool: the trace's recorded pairs, shown as examples.
    """

    def __init__(
        self, model: str | Model, snapshot: SnapshotDir | None, pool: RecordedPool
    ) -> None:
        self._model = model
        self.summary = snapshot_summary(snapshot)
        self.pool = pool
        self.history: list[str] = []

    def model(self) -> Model:
        """The simulator model (resolved on first use, inside the eval's context)."""
        from inspect_ai.model import get_model

        if isinstance(self._model, str):
            self._model = get_model(self._model)
        return self._model

    def prompt(self, spec: ToolSpec, request: ToolRequest) -> str:
        """The user prompt: tool definition, environment, recorded and earlier answers."""
        own = self.pool.examples(spec.name)
        others = [e for e in self.pool.examples() if e.name != spec.name]
        examples = (own + others)[:_MAX_EXAMPLES]
        args = (
            json.dumps(request.arguments)
            if request.arguments is not None
            else repr(request.raw_arguments)
        )
        parts = [
            f"Tool: {spec.name}\nDescription: {spec.description}\n"
            f"Parameters: {json.dumps(spec.parameters)}",
            f"Environment:\n{self.summary}",
            "Recorded calls:\n" + ("\n\n".join(map(_example_text, examples)) or "(none)"),
        ]
        if self.history:
            parts.append("Your earlier answers in this session:\n" + "\n\n".join(self.history))
        parts.append(f"Now answer: call {spec.name}({args})")
        return "\n\n".join(parts)

    async def emulate(self, spec: ToolSpec, request: ToolRequest) -> EmulatedAnswer:
        """Ask the simulator model; its JSON answer (or its plain text) is the result."""
        from inspect_ai.model import ChatMessageSystem, ChatMessageUser

        model = self.model()
        output = await model.generate(
            [
                ChatMessageSystem(content=_INSTRUCTIONS),
                ChatMessageUser(content=self.prompt(spec, request)),
            ]
        )
        if output.error:
            raise NotServed(f"the simulator failed: {output.error}")
        text, is_error = _parse(output.completion)
        self.history.append(f"call {spec.name}({json.dumps(request.arguments)}) ->\n{_clip(text)}")
        return EmulatedAnswer(output=text, is_error=is_error, model=str(model))


@backend
class EmulatedBackend(Backend):
    """Tool results written by a simulator model; only when one is configured."""

    name = "emulated"

    def accepts(self, spec: ToolSpec, ctx: CallContext) -> bool:
        """Any tool, when the context has an emulator."""
        return ctx.emulator is not None

    async def call(self, spec: ToolSpec, request: ToolRequest, ctx: CallContext) -> ToolOutcome:
        """Ask the emulator."""
        if ctx.emulator is None:
            raise NotServed("no simulator configured")
        answer = await ctx.emulator.emulate(spec, request)
        return ToolOutcome(
            output=answer.output,
            is_error=answer.is_error,
            provenance="emulated",
            backend=self.name,
            note=f"simulator {answer.model}",
        )
