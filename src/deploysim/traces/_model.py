"""The normalized trace model every importer produces and every later stage reads."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Message",
    "Part",
    "Reasoning",
    "Role",
    "Text",
    "ToolCall",
    "ToolEffect",
    "ToolKind",
    "ToolResult",
    "ToolSpec",
    "Trace",
    "TraceSource",
]

Role = Literal["system", "user", "assistant", "tool"]
ToolKind = Literal["shell", "editor", "sql", "http", "function", "provider-builtin"]
ToolEffect = Literal["read", "write", "unknown"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Model):
    """Plain text said by a participant."""

    type: Literal["text"] = "text"
    text: str = Field(description="The text, verbatim.")


class Reasoning(_Model):
    """Reasoning the model emitted (summaries, thinking blocks, encrypted reasoning)."""

    type: Literal["reasoning"] = "reasoning"
    text: str = Field(default="", description="Readable reasoning text; empty when only opaque.")
    opaque: str | None = Field(
        default=None,
        description="Provider-only content (encrypted reasoning, thinking signature).",
    )
    redacted: bool = Field(default=False, description="The provider redacted this reasoning.")


class ToolCall(_Model):
    """A request to run a tool."""

    type: Literal["tool_call"] = "tool_call"
    id: str = Field(description="Call id; results refer to it.")
    name: str = Field(description="Tool name, as the model wrote it.")
    arguments: dict[str, Any] | None = Field(
        default=None,
        description="Parsed arguments; None when the raw arguments are not a JSON object.",
    )
    raw_arguments: str | None = Field(
        default=None,
        description="Arguments exactly as recorded when they were a string (OpenAI), else None.",
    )
    parse_error: str | None = Field(
        default=None, description="Why raw_arguments did not parse into a JSON object."
    )
    requestor: Literal["assistant", "user"] = Field(
        default="assistant",
        description="Who made the call: the agent, or the user (tau2 user-side tools).",
    )
    executed_by: Literal["client", "server"] = Field(
        default="client",
        description="'server' when the provider ran the tool itself (hosted web search, MCP).",
    )


class ToolResult(_Model):
    """The result of a tool call."""

    type: Literal["tool_result"] = "tool_result"
    call_id: str = Field(description="Id of the ToolCall this answers.")
    output: str = Field(description="Result as text, as the model saw it.")
    is_error: bool = Field(default=False, description="The tool reported an error.")
    error_type: str | None = Field(
        default=None, description="Error class when the format names one (timeout, permission)."
    )
    structured: Any = Field(
        default=None,
        description="Structured result when the format records one beside the text.",
    )
    name: str | None = Field(default=None, description="Tool name, when the result records it.")


Part = Annotated[Text | Reasoning | ToolCall | ToolResult, Field(discriminator="type")]


class Message(_Model):
    """One turn of a conversation."""

    role: Role
    parts: list[Part] = Field(default_factory=list)
    id: str | None = Field(default=None, description="Message id, when recorded.")
    name: str | None = Field(
        default=None, description="Speaker name, when recorded (agent name, 'developer')."
    )
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def text(self) -> str:
        """All text parts joined by newlines."""
        return "\n".join(p.text for p in self.parts if isinstance(p, Text))

    @property
    def tool_calls(self) -> list[ToolCall]:
        """The tool calls in this message, in order."""
        return [p for p in self.parts if isinstance(p, ToolCall)]

    @property
    def tool_results(self) -> list[ToolResult]:
        """The tool results in this message, in order."""
        return [p for p in self.parts if isinstance(p, ToolResult)]


class ToolSpec(_Model):
    """A tool offered to the agent."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}},
        description="JSON Schema of the arguments object.",
    )
    kind: ToolKind = Field(default="function", description="What the tool acts on.")
    effect: ToolEffect = Field(default="unknown", description="Whether it changes state.")
    provider_type: str | None = Field(
        default=None,
        description="Provider tool type for built-ins (bash_20250124, shell, apply_patch).",
    )


class TraceSource(_Model):
    """Where a trace was read from."""

    format: str = Field(description="Importer name.")
    path: str | None = Field(default=None, description="File it came from.")
    index: int | None = Field(default=None, description="Record index inside the file.")
    locator: str | None = Field(
        default=None, description="Finer location inside the record (zip member, sample id)."
    )


class Trace(_Model):
    """One recorded agent conversation, normalized."""

    id: str
    source: TraceSource
    metadata: dict[str, Any] = Field(default_factory=dict)
    tools: list[ToolSpec] = Field(default_factory=list)
    messages: list[Message] = Field(default_factory=list)
    raw: Any = Field(default=None, description="The original record, kept verbatim.")

    def tool_calls(self) -> list[ToolCall]:
        """Every tool call, in order."""
        return [c for m in self.messages for c in m.tool_calls]

    def tool_results(self) -> list[ToolResult]:
        """Every tool result, in order."""
        return [r for m in self.messages for r in m.tool_results]

    def tool(self, name: str) -> ToolSpec | None:
        """The declared tool called ``name``, if any."""
        return next((t for t in self.tools if t.name == name), None)
