"""What a tool call produced during replay, and where the answer came from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from deploysim.traces import ToolSpec

__all__ = [
    "EmulatedAnswer",
    "Emulator",
    "Provenance",
    "ServicesEndpoint",
    "ToolOutcome",
    "ToolRequest",
]

Provenance = Literal["live", "recorded", "emulated", "unavailable"]


class ToolOutcome(BaseModel):
    """The result of one tool call, labelled with its provenance."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    output: str = Field(description="The result text the model sees.")
    is_error: bool = False
    provenance: Provenance
    backend: str = Field(description="Backend that answered (function, shell, recorded, ...).")
    structured: Any = Field(default=None, description="The structured result, when there is one.")
    error_type: str | None = None
    note: str | None = Field(default=None, description="Why a fallback was taken, for the log.")


class ToolRequest(BaseModel):
    """A call to route: tool name and parsed arguments (or the raw string that did not parse)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    arguments: dict[str, Any] | None
    raw_arguments: str | None = None


class ServicesEndpoint(Protocol):
    """Where function tools are served: a pod's sidecar, or an in-process services app."""

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> tuple[int, Any]:
        """POST /tools/<name>; return (HTTP status, decoded JSON body)."""
        ...


class EmulatedAnswer(BaseModel):
    """What a simulator model answered for a tool call."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    output: str
    is_error: bool = False
    model: str = Field(description="The simulator model that wrote it.")


class Emulator(Protocol):
    """A simulator that writes tool results (the ``emulated`` backend asks it)."""

    async def emulate(self, spec: ToolSpec, request: ToolRequest) -> EmulatedAnswer:
        """Answer one call the way the tool would, or raise to decline."""
        ...
