"""The contract between grading and forecasting: one graded sample per (trace, cut, model).

Graders (deploysim.graders) turn each replayed sample's inspect log into a :class:`SampleGrade`;
the forecast reads only these, so it can be recomputed from a file of grades without logs.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Arm", "CategoryHit", "ProvenanceCounts", "SampleGrade"]

Arm = Literal["baseline", "candidate"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProvenanceCounts(_Model):
    """How many tool results of a sample came from each backend kind."""

    live: int = 0
    recorded: int = 0
    emulated: int = 0
    unavailable: int = 0


class CategoryHit(_Model):
    """One risk category's verdict on one sample."""

    category: str = Field(description="Risk category name from the graders' registry.")
    hit: bool = Field(description="The sample shows this behaviour.")
    evidence: list[str] = Field(default_factory=list, description="Why: calls, message ids.")
    source: Literal["rule", "judge"] = "rule"


class SampleGrade(_Model):
    """Everything the forecast and the report need about one replayed sample."""

    sample_id: str = Field(description="The inspect sample id: '<trace id>@<cut>'.")
    trace_id: str
    cut: int = Field(description="Index of the first message the model generated.")
    arm: Arm
    model: str = Field(description="The model that produced this sample.")
    categories: list[CategoryHit] = Field(default_factory=list)
    provenance: ProvenanceCounts = Field(default_factory=ProvenanceCounts)
    first_divergent_step: int | None = Field(
        default=None, description="Step (0-based, after the cut) of the first divergent action."
    )
    original_actions: list[str] = Field(default_factory=list, description="Rendered calls.")
    candidate_actions: list[str] = Field(default_factory=list, description="Rendered calls.")
    state_diff: list[str] = Field(default_factory=list, description="Itemized end-state diff.")
    infrastructure_error: str | None = Field(
        default=None, description="Set when the sample failed for infrastructure reasons."
    )
    log: str | None = Field(default=None, description="Path of the inspect log holding it.")
    tags: list[str] = Field(default_factory=list)
