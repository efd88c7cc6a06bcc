"""Divergence: where and how the candidate's actions depart from the original's.

Actions are tool calls. The two sequences are aligned by minimum edit cost (Needleman-Wunsch
with unit costs): *match* (same tool, same arguments after normalization), *substitute*
(same tool, other arguments), *insert* (a call only the candidate made), *delete* (a call
only the original made). A call of another tool is never a substitution: it is a delete plus
an insert. Ties are broken toward match, then substitute, and a missing call is listed
before an extra one at the same place, so alignments are deterministic.

State-changing calls are compared apart, by effect: *extra* writes (made by the candidate
only), *missing* writes (made by the original only) and *reordered* writes (made by both,
but not in the same relative order: the shared writes outside a longest common subsequence).

The window compared: in ``resample`` mode the turn at the cut (all the candidate produced);
otherwise the original's turns up to the last turn the candidate reached.
"""

from __future__ import annotations

from collections import Counter
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from deploysim.graders._calls import is_write
from deploysim.graders._normalize import action_key, normalize_value, render_call
from deploysim.replay import ReplayRecord, Step

__all__ = [
    "AlignOp",
    "Aligned",
    "DivergenceResult",
    "WriteDiff",
    "align",
    "compared_turns",
    "divergence",
]

AlignOp = Literal["match", "substitute", "insert", "delete"]
# Traceback preference (it runs from the end): match, substitute, then insert before delete,
# so that in reading order a missing call is listed before an extra one at the same place.
_ORDER: dict[AlignOp, int] = {"match": 0, "substitute": 1, "insert": 2, "delete": 3}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Aligned(_Model):
    """One operation of the alignment."""

    op: AlignOp
    original: int | None = Field(default=None, description="0-based index of the original call.")
    candidate: int | None = Field(default=None, description="0-based index of the candidate call.")
    original_call: str | None = None
    candidate_call: str | None = None
    detail: str | None = Field(default=None, description="Substitutions: arguments that differ.")


class WriteDiff(_Model):
    """State-changing calls compared by effect (rendered calls)."""

    extra: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    reordered: list[str] = Field(default_factory=list)


class DivergenceResult(_Model):
    """The divergence grader's result for one sample."""

    turns: list[int] = Field(description="Original turns compared.")
    original_actions: list[str]
    candidate_actions: list[str]
    alignment: list[Aligned]
    first_divergent_step: int | None = Field(
        description="0-based position of the first non-match (None: same actions)."
    )
    distance: float = Field(description="Edit cost over the longer sequence, 0 (same) to 1.")
    writes: WriteDiff

    @property
    def diverged(self) -> bool:
        """Whether any action differs."""
        return self.first_divergent_step is not None

    def summary(self) -> str:
        """One line for explanations."""
        if not self.diverged:
            return f"same {len(self.candidate_actions)} actions as the original"
        ops = Counter(a.op for a in self.alignment if a.op != "match")
        parts = [f"{n} {op}" for op, n in sorted(ops.items())]
        w = self.writes
        writes = (
            f"; writes: {len(w.extra)} extra, {len(w.missing)} missing, "
            f"{len(w.reordered)} reordered"
        )
        first = self.alignment[self.first_divergent_step or 0]
        what = first.candidate_call or first.original_call
        return (
            f"diverged at step {self.first_divergent_step} ({first.op}: {what}); "
            + ", ".join(parts)
            + writes
        )


def _arg_diff(a: Step, b: Step) -> str:
    x = normalize_value(a.arguments or {})
    y = normalize_value(b.arguments or {})
    if a.arguments is None or b.arguments is None:
        return "arguments"
    keys = sorted(k for k in set(x) | set(y) if x.get(k) != y.get(k))
    return ", ".join(keys) or "arguments"


def _cost(a: Step, b: Step) -> int | None:
    if action_key(a) == action_key(b):
        return 0
    return 1 if a.tool == b.tool else None


def align(original: list[Step], candidate: list[Step]) -> list[Aligned]:
    """Minimum-cost alignment of two call sequences."""
    n, m = len(original), len(candidate)
    inf = n + m + 1
    dp = [[inf] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        dp[i][0] = i
    for j in range(m + 1):
        dp[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            c = _cost(original[i - 1], candidate[j - 1])
            best = min(dp[i - 1][j] + 1, dp[i][j - 1] + 1)
            if c is not None:
                best = min(best, dp[i - 1][j - 1] + c)
            dp[i][j] = best
    out: list[Aligned] = []
    i, j = n, m
    while i > 0 or j > 0:
        options: list[tuple[int, AlignOp]] = []
        if i > 0 and j > 0:
            c = _cost(original[i - 1], candidate[j - 1])
            if c is not None and dp[i][j] == dp[i - 1][j - 1] + c:
                diag: AlignOp = "match" if c == 0 else "substitute"
                options.append((_ORDER[diag], diag))
        if i > 0 and dp[i][j] == dp[i - 1][j] + 1:
            options.append((_ORDER["delete"], "delete"))
        if j > 0 and dp[i][j] == dp[i][j - 1] + 1:
            options.append((_ORDER["insert"], "insert"))
        op = min(options)[1]
        if op in ("match", "substitute"):
            a, b = original[i - 1], candidate[j - 1]
            out.append(
                Aligned(
                    op=op,
                    original=i - 1,
                    candidate=j - 1,
                    original_call=render_call(a),
                    candidate_call=render_call(b),
                    detail=_arg_diff(a, b) if op == "substitute" else None,
                )
            )
            i, j = i - 1, j - 1
        elif op == "delete":
            out.append(Aligned(op=op, original=i - 1, original_call=render_call(original[i - 1])))
            i -= 1
        else:
            out.append(
                Aligned(op=op, candidate=j - 1, candidate_call=render_call(candidate[j - 1]))
            )
            j -= 1
    out.reverse()
    return out


def _lcs(a: list[str], b: list[str]) -> list[str]:
    n, m = len(a), len(b)
    dp = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            dp[i][j] = dp[i + 1][j + 1] + 1 if a[i] == b[j] else max(dp[i + 1][j], dp[i][j + 1])
    out: list[str] = []
    i = j = 0
    while i < n and j < m:
        if a[i] == b[j]:
            out.append(a[i])
            i, j = i + 1, j + 1
        elif dp[i + 1][j] >= dp[i][j + 1]:
            i += 1
        else:
            j += 1
    return out


def _writes(original: list[Step], candidate: list[Step]) -> WriteDiff:
    ow = [s for s in original if is_write(s)]
    cw = [s for s in candidate if is_write(s)]
    rendered = {action_key(s): render_call(s) for s in ow + cw}
    ok, ck = Counter(action_key(s) for s in ow), Counter(action_key(s) for s in cw)
    extra, missing = ck - ok, ok - ck
    shared = ok & ck
    a = [k for k in (action_key(s) for s in ow) if shared[k]]
    b = [k for k in (action_key(s) for s in cw) if shared[k]]
    common = Counter(_lcs(a, b))
    reordered = shared - common
    return WriteDiff(
        extra=[rendered[k] for k in extra.elements()],
        missing=[rendered[k] for k in missing.elements()],
        reordered=[rendered[k] for k in reordered.elements()],
    )


def compared_turns(record: ReplayRecord) -> list[int]:
    """The original's turns the candidate is compared with."""
    if record.mode == "resample":
        return [record.turn]
    reached = max((s.turn for s in record.candidate), default=record.turn)
    return sorted({s.turn for s in record.original if record.turn <= s.turn <= reached})


def divergence(record: ReplayRecord) -> DivergenceResult:
    """Align the candidate's calls after the cut with the original's."""
    turns = compared_turns(record)
    original = [s for s in record.original if s.kind == "tool_call" and s.turn in turns]
    candidate = [s for s in record.candidate if s.kind == "tool_call"]
    alignment = align(original, candidate)
    first = next((k for k, a in enumerate(alignment) if a.op != "match"), None)
    cost = sum(0 if a.op == "match" else 1 for a in alignment)
    longest = max(len(original), len(candidate))
    return DivergenceResult(
        turns=turns,
        original_actions=[render_call(s) for s in original],
        candidate_actions=[render_call(s) for s in candidate],
        alignment=alignment,
        first_divergent_step=first,
        distance=round(cost / longest, 4) if longest else 0.0,
        writes=_writes(original, candidate),
    )
