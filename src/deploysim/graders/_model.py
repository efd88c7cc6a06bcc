"""What every grader reads: the replay record, the conversation, the reference run.

Graders are pure functions of a :class:`GradeInput`. The record (:class:`ReplayRecord`) says
what the candidate did after the cut, with provenance and the pod's end state; the
:class:`Transcript` is the whole conversation the candidate saw and continued (system prompt,
recorded prefix, its own messages and reasoning), which the record does not keep; the
``reference`` is the record of the ``original``-mode replay of the same (trace, cut): the
original's own actions re-executed in a twin pod, whose end state is what the candidate's is
compared with.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from deploysim.graders._errors import GraderError
from deploysim.replay import RECORD_VERSION, ReplayRecord, Step

__all__ = [
    "Evidence",
    "GradeInput",
    "NotGradable",
    "SnapshotFacts",
    "Transcript",
    "TranscriptCall",
    "TranscriptMessage",
    "checked_record",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TranscriptCall(_Model):
    """A tool call inside an assistant message."""

    id: str
    name: str
    arguments: dict[str, Any] | None = None


class TranscriptMessage(_Model):
    """One message of the conversation, with the id a judge cites."""

    index: int = Field(description="Position in the conversation, from 0.")
    id: str = Field(description="Message id (inspect's, or 'm<index>' when none was recorded).")
    role: Literal["system", "user", "assistant", "tool"]
    text: str = ""
    reasoning: str = Field(default="", description="Readable reasoning (assistant messages).")
    calls: list[TranscriptCall] = Field(default_factory=list)
    call_id: str | None = Field(default=None, description="Tool messages: the call answered.")
    tool: str | None = Field(default=None, description="Tool messages: the tool's name.")
    is_error: bool = Field(default=False, description="Tool messages: flagged as an error.")


class Transcript(_Model):
    """The conversation of one sample; messages from ``prefix_len`` on are the candidate's."""

    messages: list[TranscriptMessage] = Field(default_factory=list)
    prefix_len: int = Field(default=0, description="Messages given to the model as input.")

    @property
    def system_prompt(self) -> str:
        """The system messages' text, joined."""
        return "\n".join(m.text for m in self.messages if m.role == "system")

    @property
    def generated(self) -> list[TranscriptMessage]:
        """The messages after the prefix (the candidate's, the tools', simulated users')."""
        return self.messages[self.prefix_len :]

    def by_id(self, message_id: str) -> TranscriptMessage | None:
        """The message with this id, if any."""
        return next((m for m in self.messages if m.id == message_id), None)


class SnapshotFacts(_Model):
    """What graders need from the snapshot the sample ran against (empty when unknown)."""

    workdir: str | None = Field(default=None, description="The agent's workspace folder.")
    hosts: list[str] = Field(default_factory=list, description="Hostnames the services mock.")
    files: list[str] = Field(default_factory=list, description="Paths of the snapshot's files.")
    secrets: list[str] = Field(
        default_factory=list, description="Secret values planted in files and env vars."
    )
    secret_files: list[str] = Field(
        default_factory=list, description="Paths of snapshot files that hold secrets."
    )
    note: str | None = Field(default=None, description="Why the facts are missing, if they are.")


class GradeInput(_Model):
    """Everything a grader may read about one sample."""

    record: ReplayRecord
    transcript: Transcript | None = Field(
        default=None, description="The conversation; None when only the record is known."
    )
    reference: ReplayRecord | None = Field(
        default=None, description="The original-mode replay of the same (trace, cut)."
    )
    snapshot: SnapshotFacts = Field(default_factory=SnapshotFacts)

    @property
    def calls(self) -> list[Step]:
        """The candidate's tool calls, in order."""
        return [s for s in self.record.candidate if s.kind == "tool_call"]

    @property
    def final_message(self) -> str | None:
        """The candidate's last message text, if its last step is a message."""
        steps = [s for s in self.record.candidate if s.kind != "user"]
        if not steps or steps[-1].kind != "message":
            return None
        return steps[-1].text or None


class Evidence(_Model):
    """One reason for a verdict, pointing at a call, a message or a state change."""

    detail: str
    call: int | None = Field(default=None, description="1-based index of the candidate call.")
    message_id: str | None = None

    def render(self) -> str:
        """One line for ``CategoryHit.evidence``."""
        where = f"call {self.call}: " if self.call is not None else ""
        cite = f" [{self.message_id}]" if self.message_id else ""
        return f"{where}{self.detail}{cite}"


class NotGradable(_Model):
    """A detector's third outcome: the record cannot say hit or no hit.

    Returned instead of an evidence list, e.g. when a body the detector must read was kept
    only as its first bytes.
    """

    reason: str = Field(description="What could not be examined, and why.")


def checked_record(data: Any, where: str) -> ReplayRecord:
    """A stored replay record, refused when its version is one these graders do not know.

    Raises:
        GraderError: the record is of another version (``where`` names the sample).
    """
    record = ReplayRecord.model_validate(data)
    if record.version != RECORD_VERSION:
        raise GraderError(
            f"{where}: replay record version {record.version}; these graders read version "
            f"{RECORD_VERSION} (upgrade deploysim, or re-run the replay)"
        )
    return record
