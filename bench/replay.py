"""Replay benchmark: samples per minute, end to end, with the scripted model on tau-bench airline.

Run: ``.venv/bin/python bench/replay.py --json [--epochs 3] [--max-samples N]``. Prints::

    {"samples_per_min", "share": {"pod", "tools", "model", "grading", "other"},
     "samples", "tool_calls_per_sample", "wall_s", "startup_s", "pods", "divergence_rate", ...}

The workload: the airline traces with 6 to 14 tool calls (21 of the 50), replayed by the
``deploysim/original`` policy in ``rollout`` mode from the first agent turn, so each sample
makes every recorded call again (about 8.5 live function-tool calls, plus the model turns and
user turns of the whole conversation); ``--epochs`` repeats each sample.

- ``samples_per_min``: samples / wall seconds of the whole run (inspect start-up, task
  set-up, pods, samples, log writing), times 60; ``steady_samples_per_min`` leaves out the
  time before the first sample started.
- ``share``: where sample time goes, as shares of the summed per-sample time (samples run
  concurrently, so these are the shares of wall time each part occupies):
  ``pod`` = sandbox start, lease, reset and teardown; ``tools`` = re-executing the prefix's
  writes and the candidate's tool calls; ``model`` = generate calls (and the user simulator);
  ``grading`` = end-state capture and scoring; ``other`` = the rest (inspect's per-sample
  bookkeeping, the solver's own work, log writes).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def _shared() -> Path:
    from deploysim.replay import shared_data_dir

    found = shared_data_dir(REPO)
    if found is None:
        raise SystemExit("shared data not found: set DEPLOYSIM_SHARED_DATA")
    return found / "traces" / "tau-bench-airline"


def _airline_snapshot(tmp: Path, data: Path) -> Path:
    snap = REPO / "env_snapshots" / "airline"
    if (snap / "databases" / "users.jsonl").exists():
        return snap
    from conftest import build_airline  # the tests' builder: rows from the shared data

    return build_airline(tmp / "airline", data.parent)


def _scenario(tmp: Path, lo: int, hi: int) -> tuple[Path, int]:
    from deploysim.traces import import_file, load_tools_file

    data = _shared()
    traces = import_file(
        data / "traces.json", tools=load_tools_file(data / "tool_schemas.json")
    ).traces
    ids = [t.id for t in traces if lo <= len(t.tool_calls()) <= hi]
    calls = sum(len(t.tool_calls()) for t in traces if t.id in ids)
    body = {
        "traces": [
            {
                "path": str(data / "traces.json"),
                "tools": str(data / "tool_schemas.json"),
                "ids": ids,
            }
        ],
        "snapshot": str(_airline_snapshot(tmp, data)),
        "cut": 1,
        "mode": "original",
    }
    p = tmp / "bench" / "airline.yaml"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(yaml.safe_dump(body))
    return p, calls


class PodTimer:
    """Wall time spent in the pooled sandbox's lifecycle hooks (start, lease, reset, close)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, cls: Any, name: str) -> None:
        original = getattr(cls, name).__func__

        async def timed(klass: Any, *args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return await original(klass, *args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - t0

        setattr(cls, name, classmethod(timed))


def _span_seconds(events: list[Any], name: str) -> float:
    begins = {
        e.id: e.timestamp for e in events if type(e).__name__ == "SpanBeginEvent" and e.name == name
    }
    total = 0.0
    for e in events:
        if type(e).__name__ == "SpanEndEvent" and e.id in begins:
            total += (e.timestamp - begins[e.id]).total_seconds()
    return total


def run(
    epochs: int, max_samples: int | None, lo: int, hi: int, reuse_pods: bool = True
) -> dict[str, Any]:
    from inspect_ai import eval as inspect_eval

    from deploysim.replay import read_record
    from deploysim.replay._pool import PooledSandbox, pool_stats
    from deploysim.sandbox._inspect import DeploysimSandbox

    timer = PodTimer()
    for hook in ("sample_init", "sample_cleanup"):  # the pooled class calls the plain one
        timer.wrap(PooledSandbox if reuse_pods else DeploysimSandbox, hook)
    with tempfile.TemporaryDirectory(prefix="deploysim-bench-") as tmp:
        scenario, calls = _scenario(Path(tmp), lo, hi)
        t0 = time.perf_counter()
        started = datetime.now().astimezone()
        logs = inspect_eval(
            "deploysim/replay",
            task_args={"scenario": str(scenario), "reuse_pods": reuse_pods},
            model="deploysim/original",
            epochs=epochs,
            max_samples=max_samples,
            max_sandboxes=max_samples,
            log_dir=str(Path(tmp) / "logs"),
            display="none",
        )
        wall = time.perf_counter() - t0
        log = logs[0]
        if log.status != "success" or not log.samples:
            raise SystemExit(f"benchmark run failed: {log.status} {log.error}")
        model = tools = grading = sample_time = 0.0
        tool_calls = diverged = 0
        first_start = min(s.events[0].timestamp for s in log.samples)
        for s in log.samples:
            rec = read_record(s)
            model += rec.timings.model + rec.timings.user_simulator
            tools += rec.timings.tools + rec.timings.prefix
            grading += rec.timings.capture + _span_seconds(s.events, "scorers")
            tool_calls += sum(1 for x in rec.candidate if x.kind == "tool_call")
            diverged += rec.diverged_at_turn is not None
            end = datetime.fromisoformat(str(s.completed_at))
            sample_time += (end - s.events[0].timestamp).total_seconds()
    n = len(log.samples)
    total = sample_time + timer.seconds  # cleanup runs after a sample's last event
    parts = {"pod": timer.seconds, "tools": tools, "model": model, "grading": grading}
    share = {k: round(v / total, 3) for k, v in parts.items()}
    share["other"] = round(max(0.0, 1 - sum(share.values())), 3)
    startup = (first_start - started).total_seconds()
    return {
        "samples_per_min": round(n / wall * 60, 1),
        "steady_samples_per_min": round(n / (wall - startup) * 60, 1),
        "share": share,
        "samples": n,
        "epochs": epochs,
        "traces": n // epochs,
        "tool_calls_per_sample": round(tool_calls / n, 2),
        "recorded_calls_per_trace": round(calls / (n // epochs), 2),
        "wall_s": round(wall, 2),
        "startup_s": round(startup, 2),
        "pods": (pool_stats()[-1] if pool_stats() else {}) if reuse_pods else {"started": n},
        "divergence_rate": round(diverged / n, 4),
        "cpus": __import__("os").cpu_count(),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.add_argument("--epochs", type=int, default=3, help="times each sample runs")
    p.add_argument("--max-samples", type=int, default=None, help="samples at once")
    p.add_argument("--min-calls", type=int, default=6, help="traces with at least N calls")
    p.add_argument("--max-calls", type=int, default=14, help="traces with at most N calls")
    p.add_argument("--no-reuse", action="store_true", help="a fresh pod for every sample")
    args = p.parse_args()
    result = run(args.epochs, args.max_samples, args.min_calls, args.max_calls, not args.no_reuse)
    if args.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
