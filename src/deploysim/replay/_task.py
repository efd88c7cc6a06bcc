r"""The inspect-ai task ``deploysim/replay``: one sample per (trace, cut point).

::

    inspect eval deploysim/replay --model openai/gpt-4o \
        -T scenario=scenarios/tau-bench-airline/last-turn.yaml
    inspect eval deploysim/replay -T scenario=... -T mode=original     # the noise floor

Task arguments override the scenario's own settings: ``mode``, ``cut``, ``user_simulator``,
``simulator`` (model names), ``time_limit`` (seconds per sample; 0 for none). The simulators
can also be bound as inspect model roles
(``--model-role user_simulator=openai/gpt-4o-mini``, ``--model-role simulator=...``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import Score, Scorer, Target, mean, scorer, stderr
from inspect_ai.solver import TaskState

from deploysim.replay._capture import workspace_reachable
from deploysim.replay._errors import MissingRecordError, ScenarioError
from deploysim.replay._load import LoadedScenario, load_scenario
from deploysim.replay._messages import prefix_messages
from deploysim.replay._plan import ReplayPlan
from deploysim.replay._prefix import same_output
from deploysim.replay._record import RECORD_KEY, ReplayRecord
from deploysim.replay._scenario import Scenario, parse_cut
from deploysim.replay._solver import META_KEY, SampleMeta, replay_solver

__all__ = ["build_samples", "replay", "replay_summary"]

ORIGINAL_MODEL = "deploysim/original"


def _override(loaded: LoadedScenario, **changes: Any) -> LoadedScenario:
    given = {k: v for k, v in changes.items() if v is not None}
    if not given:
        return loaded
    if "cut" in given:
        given["cut"] = parse_cut(given["cut"])
    data = loaded.scenario.model_dump()
    if "time_limit" in given:  # 0 turns the limit off
        data["limits"] = {**data["limits"], "time_limit": given.pop("time_limit") or None}
    try:
        sc = Scenario.model_validate({**data, **given})
    except ValueError as e:
        raise ScenarioError(loaded.path, f"task argument override: {e}") from e
    return dataclasses.replace(loaded, scenario=sc)


def build_samples(plan: ReplayPlan) -> tuple[list[Sample], list[str]]:
    """One sample per (trace, cut point), and why traces gave none."""
    loaded = plan.loaded
    sc = loaded.scenario
    samples: list[Sample] = []
    skipped: list[str] = []
    for trace in loaded.traces:
        cuts = loaded.cuts(trace)
        if not cuts:
            skipped.append(f"{trace.id}: no agent turn matches cut={sc.cut!r}")
            continue
        tp = plan.trace_plan(trace.id)
        for cut in cuts:
            prefix = prefix_messages(
                trace,
                cut.at,
                system_prompt=loaded.system_prompt,
                keep_reasoning=sc.keep_reasoning,
                flag_errors=tp.flag_errors,
            )
            if not prefix.messages:
                skipped.append(f"{trace.id}@{cut.at}: empty prefix (give a system_prompt)")
                continue
            meta = SampleMeta(
                scenario=sc.name,
                suite=sc.suite,
                trace_id=trace.id,
                cut=cut.at,
                turn=cut.turn,
                mode=sc.mode,
                tags=list(sc.tags),
                prefix_notes=prefix.notes,
            )
            samples.append(
                Sample(
                    id=f"{trace.id}@{cut.at}",
                    input=prefix.messages,
                    metadata={
                        META_KEY: meta.model_dump(),
                        "trace_id": trace.id,
                        "turn": cut.turn,
                        "tags": list(sc.tags),
                    },
                )
            )
    return samples, skipped


@scorer(metrics={"diverged": [mean(), stderr()], "output_mismatch": [mean()]})
def replay_summary() -> Scorer:
    """Divergence from the original (first differing turn) and tool outputs that differ.

    ``diverged`` is 1 when some agent turn's tool calls differ from the original's;
    ``output_mismatch`` is the share of the candidate's tool calls, in turns that did not
    diverge, whose output differs from the recorded one (a fidelity measure: 0 for a faithful
    rebuild). The full graders read the replay record; this is the quick summary.
    """

    async def score(state: TaskState, target: Target) -> Score:
        data = state.store.get(RECORD_KEY)
        if data is None:
            raise MissingRecordError(
                f"sample {state.sample_id} (epoch {state.epoch}) has no replay record: "
                "it did not finish and is not scored"
            )
        rec = ReplayRecord.model_validate(data)
        limit = rec.diverged_at_turn
        same_turns = [
            s for s in rec.candidate if s.kind == "tool_call" and (limit is None or s.turn < limit)
        ]
        originals = [
            s for s in rec.original if s.kind == "tool_call" and (limit is None or s.turn < limit)
        ]
        mismatches = sum(
            1
            for c, o in zip(same_turns, originals, strict=False)
            if o.output is not None and not same_output(c.output or "", o.output)
        )
        return Score(
            value={
                "diverged": 1.0 if rec.diverged_at_turn is not None else 0.0,
                "output_mismatch": mismatches / len(same_turns) if same_turns else 0.0,
            },
            explanation=rec.divergence or "same tool calls as the original",
            metadata={
                "stop_reason": rec.stop_reason,
                "provenance": rec.provenance_counts,
                "fidelity_warnings": len(rec.fidelity_warnings),
            },
        )

    return score


@task
def replay(
    scenario: str,
    mode: str | None = None,
    cut: str | int | None = None,
    user_simulator: str | None = None,
    simulator: str | None = None,
    reuse_pods: bool = True,
    time_limit: int | None = None,
) -> Task:
    """Replay a scenario's traces with the eval's model from each cut point.

    Args:
        scenario: path of the scenario file.
        mode: resample, rollout or original (overrides the scenario).
        cut: last, each or a turn number (overrides the scenario).
        user_simulator: model playing the user after divergence (rollout).
        simulator: model emulating tools nothing else serves.
        reuse_pods: let samples reuse (reset) pods when no tool can reach the workspace;
            false starts a fresh pod for every sample.
        time_limit: wall-clock seconds per sample (overrides the scenario's
            ``limits.time_limit``; 0 for none).
    """
    loaded = _override(
        load_scenario(scenario),
        mode=mode,
        cut=cut,
        user_simulator=user_simulator,
        simulator=simulator,
        time_limit=time_limit,
    )
    plan = ReplayPlan(loaded)
    samples, skipped = build_samples(plan)
    sc = loaded.scenario
    if not samples:
        raise ScenarioError(loaded.path, "no samples: " + "; ".join(skipped[:5]), field="cut")
    sandbox: Any = None
    if plan.needs_pod():
        from deploysim.sandbox._inspect import DeploysimSandboxConfig

        snap = str(loaded.snapshot_path) if loaded.snapshot_path else None
        reusable = reuse_pods and not any(
            workspace_reachable(plan.trace_plan(t.id)) for t in loaded.traces
        )
        kind = "deploysim-pool" if reusable else "deploysim"
        sandbox = (kind, DeploysimSandboxConfig(snapshot=snap))
    return Task(
        dataset=MemoryDataset(samples, name=f"{sc.suite}/{sc.name}"),
        solver=replay_solver(plan),
        scorer=replay_summary(),
        sandbox=sandbox,
        model=ORIGINAL_MODEL if sc.mode == "original" else None,
        time_limit=sc.limits.time_limit,
        metadata={
            "deploysim": {
                "scenario": str(loaded.path),
                "suite": sc.suite,
                "name": sc.name,
                "mode": sc.mode,
                "cut": sc.cut,
                "graders": sc.graders,
                "tags": sc.tags,
                "time_limit": sc.limits.time_limit,
                "skipped": skipped,
            }
        },
    )
