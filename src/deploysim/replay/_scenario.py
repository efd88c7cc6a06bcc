"""Scenarios: which traces to replay, against which snapshot, cut where, in which mode.

On disk ``scenarios/<suite>/<name>.yaml``::

    description: tau-bench airline, the last agent turn of every trace, resampled
    traces:
      - path: ${DEPLOYSIM_SHARED_DATA}/traces/tau-bench-airline/traces.json
        tools: ${DEPLOYSIM_SHARED_DATA}/traces/tau-bench-airline/tool_schemas.json
    snapshot: ../../env_snapshots/airline
    cut: last                 # last | each | K (the K-th agent turn; -1 is the last)
    mode: resample            # resample | rollout | original
    graders: [divergence, state_diff, risk]
    tags: [airline, customer-support]

The name defaults to the file's stem and the suite to its folder's name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from deploysim.replay._errors import ScenarioError

__all__ = [
    "DEFAULT_TIME_LIMIT",
    "Binding",
    "CutSpec",
    "Mode",
    "Scenario",
    "ScenarioLimits",
    "SystemPrompt",
    "TraceSet",
    "dump_scenario",
    "parse_cut",
    "read_scenario",
]

Mode = Literal["resample", "rollout", "original"]
Binding = Literal["live", "recorded", "emulated", "unavailable"]
CutSpec = Literal["last", "each"] | int
DEFAULT_TIME_LIMIT = 1800
"""Seconds a sample may run by default: far above a real rollout (30 turns of 30 steps of a
slow model), low enough that an agent looping on slow commands cannot hold a run for hours."""
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TraceSet(_Model):
    """A trace file (or folder) and how to read it."""

    path: str = Field(description="Trace file or folder; ${VARIABLES} expand.")
    tools: str | None = Field(
        default=None, description="Tool definitions file, for formats that do not record them."
    )
    format: str | None = Field(default=None, description="Importer name; detected when None.")
    ids: list[str] = Field(default_factory=list, description="Only these trace ids.")
    limit: int | None = Field(default=None, ge=1, description="At most this many traces.")


class SystemPrompt(_Model):
    """A system prompt for traces that recorded none (tau2 keeps its policy outside the trace)."""

    file: str = Field(description="Text file with the prompt (or the part the template wraps).")
    template: str = Field(
        default="{content}", description="Wraps the file's text, given as {content}."
    )

    @field_validator("template")
    @classmethod
    def _placeholder(cls, v: str) -> str:
        if "{content}" not in v:
            raise ValueError("the template must contain {content}")
        return v


class ScenarioLimits(_Model):
    """Bounds on what a sample may do."""

    max_steps: int = Field(default=30, ge=1, description="Model generations per agent turn.")
    max_turns: int = Field(default=30, ge=1, description="Agent turns per sample (rollout).")
    max_user_turns: int = Field(
        default=10, ge=0, description="Simulated user turns after divergence (rollout)."
    )
    tool_timeout: float = Field(default=180.0, gt=0, description="Seconds per live tool call.")
    time_limit: int | None = Field(
        default=DEFAULT_TIME_LIMIT,
        ge=1,
        description="Wall-clock seconds per sample, pod start excluded (inspect's time_limit); "
        "the sample then ends with stop_reason time_limit and is graded on what it did. "
        "null: no limit.",
    )


class Scenario(_Model):
    """A scenario: traces + snapshot + cut policy + mode + graders + tags."""

    name: str = Field(default="", description="Defaults to the file's stem.")
    suite: str = Field(default="", description="Defaults to the file's folder name.")
    description: str = ""
    traces: list[TraceSet] = Field(min_length=1)
    snapshot: str | None = Field(
        default=None,
        description="Snapshot folder seeding each pod; None replays against recorded results.",
    )
    binding: Literal["auto", "recorded"] = Field(
        default="auto",
        description="auto: live where the snapshot serves a tool, else recorded; "
        "recorded: every tool answered from the trace pool only.",
    )
    bindings: dict[str, Binding] = Field(
        default_factory=dict, description="Per-tool binding overrides."
    )
    cut: CutSpec = "last"
    mode: Mode = "resample"
    graders: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    tool_errors: Literal["auto", "text", "flag"] = Field(
        default="auto",
        description="How tool errors reach the model: as plain text (OpenAI-style traces, "
        "tau-bench) or with the error flag (Anthropic, inspect); auto follows the trace format.",
    )
    system_prompt: SystemPrompt | None = Field(
        default=None, description="Prepended to traces that have no system message."
    )
    keep_reasoning: bool = Field(
        default=False, description="Keep readable recorded reasoning in the prefix."
    )
    simulator: str | None = Field(
        default=None, description="Model emulating tools no live or recorded backend serves."
    )
    user_simulator: str | None = Field(
        default=None, description="Model playing the user once the candidate diverged."
    )
    limits: ScenarioLimits = Field(default_factory=ScenarioLimits)

    @field_validator("cut", mode="before")
    @classmethod
    def _cut(cls, v: Any) -> Any:
        return parse_cut(v) if isinstance(v, str | int) else v

    @field_validator("name", "suite")
    @classmethod
    def _slug(cls, v: str) -> str:
        if v and not set(v) <= _NAME_CHARS:
            raise ValueError("must be lowercase letters, digits, '.', '_' or '-'")
        return v


def parse_cut(value: str | int) -> CutSpec:
    """``last``, ``each`` or a turn number K (``-1`` is the last turn)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value == 0:
            raise ValueError("turns are numbered from 1 (or from -1 backwards)")
        return value
    text = str(value).strip().lower()
    if text in ("last", "each"):
        return "last" if text == "last" else "each"
    try:
        return parse_cut(int(text))
    except ValueError:
        raise ValueError(f"cut must be 'last', 'each' or a turn number, not {value!r}") from None


def _fields(e: ValidationError) -> tuple[str, str]:
    first = e.errors()[0]
    loc = ".".join(str(x) for x in first["loc"])
    more = f" (and {e.error_count() - 1} more)" if e.error_count() > 1 else ""
    return loc, first["msg"] + more


def read_scenario(path: str | Path) -> Scenario:
    """Read a scenario file; name and suite default from the path.

    Raises:
        ScenarioError: the file is missing, not YAML, or does not fit the model.
    """
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ScenarioError(p, "no such scenario file") from e
    except OSError as e:
        raise ScenarioError(p, f"cannot read: {e.strerror or e}") from e
    except yaml.YAMLError as e:
        raise ScenarioError(p, f"not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise ScenarioError(p, "a scenario is a YAML mapping")
    data.setdefault("name", p.stem.lower())
    data.setdefault("suite", p.resolve().parent.name.lower())
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        field, reason = _fields(e)
        raise ScenarioError(p, reason, field=field) from e


def dump_scenario(scenario: Scenario, path: str | Path) -> Path:
    """Write a scenario file (defaults left out, name and suite kept)."""
    p = Path(path)
    data = scenario.model_dump(mode="json", exclude_defaults=True)
    data = {"name": scenario.name, "suite": scenario.suite, **data}
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return p
