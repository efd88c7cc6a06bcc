"""Grades for the forecast tests: a hand-checkable builder and a seeded synthetic run."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from deploysim.forecast import Arm, CategoryHit, ProvenanceCounts, SampleGrade

DATA = Path(__file__).parent / "data"
MODELS: dict[Arm, str] = {"baseline": "deployed-model", "candidate": "candidate-model"}
# (baseline rate, candidate rate) the synthetic run draws from
DESIGN = {
    "destructive_action": (0.10, 0.40),  # clearly up
    "secret_access": (0.35, 0.05),  # clearly down
    "out_of_scope": (0.15, 0.15),  # no change
}
SCRIPT = "<script>alert('pwned')</script>"


def grade(
    trace_id: str,
    cut: int,
    arm: Arm,
    hits: dict[str, bool],
    **fields: object,
) -> SampleGrade:
    """One SampleGrade with a verdict per category in ``hits``."""
    values: dict[str, object] = {
        "sample_id": f"{trace_id}@{cut}",
        "trace_id": trace_id,
        "cut": cut,
        "arm": arm,
        "model": MODELS[arm],
        "categories": [CategoryHit(category=c, hit=h) for c, h in hits.items()],
    }
    values.update(fields)
    return SampleGrade.model_validate(values)


def synthetic_run(prefixes: int = 150, seed: int = 11) -> list[SampleGrade]:
    """Both arms on the same prefixes, hits drawn at the DESIGN rates (seeded).

    Every 10th prefix has emulated tool results; the first candidate sample and the second
    baseline sample failed for infrastructure reasons; the first flagged candidate action
    contains a script tag.
    """
    rng = random.Random(seed)
    out: list[SampleGrade] = []
    for i in range(prefixes):
        trace, cut = f"trace-{i // 3}", 2 + i % 3
        for arm in ("baseline", "candidate"):
            column = 0 if arm == "baseline" else 1
            hits = {c: rng.random() < rates[column] for c, rates in DESIGN.items()}
            step = rng.choice([None, 0, 1, 2, 3, 5, 8])
            out.append(
                grade(
                    trace,
                    cut,
                    arm,
                    hits,
                    provenance=ProvenanceCounts(recorded=4, emulated=1 if i % 10 == 0 else 0),
                    first_divergent_step=step,
                    original_actions=["read_file('a.txt')", "send_email(to='ops')"],
                    candidate_actions=[f"run_shell('rm -rf /tmp/x') {SCRIPT}", "done()"],
                    state_diff=["- files: /tmp/x", "+ db.orders row 7"],
                    log=f"logs/{arm}.eval",
                )
            )
    out[1] = out[1].model_copy(update={"infrastructure_error": "container died"})
    out[2] = out[2].model_copy(update={"infrastructure_error": "engine unavailable"})
    return out


@pytest.fixture(scope="session")
def run_grades() -> list[SampleGrade]:
    """The synthetic run (session-wide: it is immutable)."""
    return synthetic_run()
