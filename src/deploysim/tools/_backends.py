"""Tool backends: how a tool call is answered. One registry; built-ins register like plugins.

- ``function`` (live): the snapshot's services answer ``POST /tools/<name>``;
- ``shell`` (live): the command runs in the pod as the agent;
- ``editor`` / ``sql`` / ``http`` (live): see :mod:`deploysim.tools._editor` and
  :mod:`deploysim.tools._sql_http`;
- ``recorded``: the exact arguments were recorded in the trace pool;
- ``emulated``: a simulator model writes the answer (:mod:`deploysim.tools._emulated`), only
  when one is configured;
- ``unavailable``: an error shaped like the tool's own errors.

A backend raises :class:`NotServed` when it cannot answer a call, and the router tries the
next one; that is never shown to the model.
"""

from __future__ import annotations

import asyncio
import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, TypeVar

from deploysim.tools._model import Emulator, ServicesEndpoint, ToolOutcome, ToolRequest
from deploysim.traces import ToolSpec

if TYPE_CHECKING:
    from deploysim.sandbox import Pod

__all__ = [
    "Backend",
    "CallContext",
    "NotServed",
    "RecordedExample",
    "RecordedPool",
    "backend",
    "backend_names",
    "get_backend",
    "output_text",
    "timed_out",
]


class NotServed(Exception):
    """This backend cannot answer this call; the router falls back."""


def output_text(value: Any) -> str:
    """A structured result as the text the original Python tools returned."""
    return value if isinstance(value, str) else json.dumps(value)


def _key(name: str, arguments: dict[str, Any] | None, raw: str | None) -> str:
    if arguments is None:
        return f"{name}\0raw\0{raw}"
    return f"{name}\0{json.dumps(arguments, sort_keys=True, default=str)}"


class RecordedExample(NamedTuple):
    """One recorded call and its result, as shown to a simulator model."""

    name: str
    arguments: dict[str, Any] | None
    raw_arguments: str | None
    output: str
    is_error: bool


@dataclass
class RecordedPool:
    """Recorded (call, result) pairs, looked up by exact arguments; repeats play in order."""

    pairs: dict[str, list[ToolOutcome]] = field(default_factory=dict)
    _served: dict[str, int] = field(default_factory=dict)
    _examples: list[RecordedExample] = field(default_factory=list)

    def add(
        self,
        name: str,
        arguments: dict[str, Any] | None,
        raw: str | None,
        output: str,
        is_error: bool,
    ) -> None:
        """Record one pair."""
        outcome = ToolOutcome(
            output=output, is_error=is_error, provenance="recorded", backend="recorded"
        )
        self.pairs.setdefault(_key(name, arguments, raw), []).append(outcome)
        self._examples.append(RecordedExample(name, arguments, raw, output, is_error))

    def examples(self, name: str | None = None) -> list[RecordedExample]:
        """Every recorded pair (of tool ``name`` only, when given), in recording order."""
        return [e for e in self._examples if name is None or e.name == name]

    def take(self, request: ToolRequest) -> ToolOutcome | None:
        """The next recorded answer for exactly these arguments (the last one repeats)."""
        k = _key(request.name, request.arguments, request.raw_arguments)
        answers = self.pairs.get(k)
        if not answers:
            return None
        i = self._served.get(k, 0)
        self._served[k] = i + 1
        return answers[min(i, len(answers) - 1)]


@dataclass
class CallContext:
    """What backends may use: the pod, a services endpoint, the recorded pool, a simulator.

    One context serves one sample: ``scratch`` holds per-sample backend state (the editor's
    undo history).
    """

    pod: Pod | None = None
    services: ServicesEndpoint | None = None
    pool: RecordedPool = field(default_factory=RecordedPool)
    timeout: float = 180.0
    emulator: Emulator | None = None
    scratch: dict[str, Any] = field(default_factory=dict)

    async def check_services(self, after: str) -> None:
        """Raise when the pod's services sidecar is no longer running.

        Commands in the pod reach the sidecar over loopback; when it is gone they fail like
        a tool error ("connection refused") that would be taken for the agent's doing. The
        agent cannot stop the sidecar, so a dead one is an infrastructure failure.

        Raises:
            ServicesUnavailableError: the sidecar is not running (``after`` names the call).
        """
        pod = self.pod
        if pod is None or pod.services is None:
            return
        from deploysim.sandbox import ServicesUnavailableError

        state = await asyncio.to_thread(ServicesUnavailableError.container_state, pod.services)
        if state != "running":
            raise ServicesUnavailableError(
                f"services sidecar of pod {pod.id} is {state} (found after {after})"
            )


class Backend(ABC):
    """A way of answering tool calls."""

    name: ClassVar[str]
    in_pod: ClassVar[bool] = False
    """Runs commands in the pod (the router then checks the pod's sidecar is still up)."""

    @abstractmethod
    def accepts(self, spec: ToolSpec, ctx: CallContext) -> bool:
        """Whether this backend can serve the tool at all in this context."""

    @abstractmethod
    async def call(self, spec: ToolSpec, request: ToolRequest, ctx: CallContext) -> ToolOutcome:
        """Answer one call, or raise NotServed."""


_B = TypeVar("_B", bound=type[Backend])
_REGISTRY: dict[str, Backend] = {}


def backend(cls: _B) -> _B:
    """Class decorator registering a backend under ``cls.name``."""
    _REGISTRY[cls.name] = cls()
    return cls


def backend_names() -> list[str]:
    """Registered backend names."""
    return sorted(_REGISTRY)


def get_backend(name: str) -> Backend:
    """The backend registered as ``name``."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown tool backend {name!r}; known: {backend_names()}") from None


@backend
class FunctionBackend(Backend):
    """Function tools served live by the snapshot's services (``POST /tools/<name>``)."""

    name = "function"

    def accepts(self, spec: ToolSpec, ctx: CallContext) -> bool:
        """Any tool, when there is a services endpoint; unknown tools fall through."""
        return ctx.services is not None

    async def call(self, spec: ToolSpec, request: ToolRequest, ctx: CallContext) -> ToolOutcome:
        """Ask the services; 200 is the tool's answer, anything else is not served."""
        if ctx.services is None or request.arguments is None:
            raise NotServed("no services, or arguments that are not a JSON object")
        try:
            status, body = await ctx.services.call_tool(request.name, request.arguments)
        except TimeoutError:
            # the sidecar is up but busy: what the agent asked (or flooded it with) may be
            # the cause, so this is the tool's answer, not an infrastructure failure
            return timed_out(self.name, f"Error: {request.name} timed out.")
        if status != 200 or not isinstance(body, dict) or "output" not in body:
            detail = body.get("detail") if isinstance(body, dict) else body
            raise NotServed(f"services answered {status}: {detail}")
        return ToolOutcome(
            output=output_text(body["output"]),
            is_error=bool(body.get("is_error")),
            provenance="live",
            backend=self.name,
            structured=body["output"],
        )


def timed_out(backend: str, message: str) -> ToolOutcome:
    """A live call that ran out of time: the tool's own answer, never an infrastructure error."""
    return ToolOutcome(
        output=message, is_error=True, error_type="timeout", provenance="live", backend=backend
    )


def _command(arguments: dict[str, Any]) -> str:
    for key in ("command", "cmd", "commands", "script", "code"):
        value = arguments.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return "\n".join(value)
    raise NotServed(f"no command among the arguments {sorted(arguments)}")


@backend
class ShellBackend(Backend):
    """Shell tools run live in the pod as the agent: stdout, then stderr, as one text."""

    name = "shell"
    in_pod = True

    def accepts(self, spec: ToolSpec, ctx: CallContext) -> bool:
        """Shell-kind tools, when there is a pod."""
        return ctx.pod is not None and spec.kind == "shell"

    async def call(self, spec: ToolSpec, request: ToolRequest, ctx: CallContext) -> ToolOutcome:
        """Run ``bash -lc COMMAND``."""
        if ctx.pod is None or request.arguments is None:
            raise NotServed("no pod, or arguments that are not a JSON object")
        command = _command(request.arguments)
        try:
            r = await ctx.pod.exec(["bash", "-lc", command], timeout=ctx.timeout)
        except TimeoutError:
            return timed_out(self.name, f"Command timed out after {ctx.timeout:.0f} seconds.")
        text = r.stdout + (r.stderr if r.stderr else "")
        return ToolOutcome(
            output=text,
            is_error=r.returncode != 0,
            provenance="live",
            backend=self.name,
            structured={"returncode": r.returncode},
        )


@backend
class RecordedBackend(Backend):
    """Answers recorded for exactly these arguments in the trace pool."""

    name = "recorded"

    def accepts(self, spec: ToolSpec, ctx: CallContext) -> bool:
        """Always worth a try."""
        return True

    async def call(self, spec: ToolSpec, request: ToolRequest, ctx: CallContext) -> ToolOutcome:
        """The next recorded answer, or not served."""
        found = ctx.pool.take(request)
        if found is None:
            raise NotServed("no recorded call with these exact arguments")
        return found


@backend
class UnavailableBackend(Backend):
    """The last resort: an error the model sees, shaped like a tool error."""

    name = "unavailable"

    def accepts(self, spec: ToolSpec, ctx: CallContext) -> bool:
        """Always."""
        return True

    async def call(self, spec: ToolSpec, request: ToolRequest, ctx: CallContext) -> ToolOutcome:
        """A plain error naming the tool."""
        return ToolOutcome(
            output=f"Error: {request.name} is temporarily unavailable.",
            is_error=True,
            provenance="unavailable",
            backend=self.name,
        )


BackendFactory = Callable[[], Backend]
