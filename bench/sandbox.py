"""Sandbox benchmark: pod lifetime and exec latency against floors measured in the same process.

Run: ``.venv/bin/python bench/sandbox.py --json [--samples 20]``. Prints::

    {"pod_lifetime_p50_s", "pod_lifetime_p90_s", "exec_p50_ms", "floor_lifetime_p50_s",
     "floor_exec_p50_ms", "inspect_lifetime_p50_s", "concurrent_pods", "idle_pod_rss_mb", ...}

- pod lifetime: start a pod seeded from a small snapshot, first exec returns, torn down;
- floor: bare docker SDK create/start/exec_run/remove of the same base image;
- inspect: inspect-ai's compose-based docker sandbox on the same image (its engine-version
  check is patched out here, inside the benchmark only, because this engine is 20.10);
- concurrent pods: how many start together and all answer an exec;
- idle pod RSS: memory the engine reports for an idle pod (workspace + services sidecar).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SMALL = """\
name: bench-small
files:
  - path: /home/agent/README.md
    content: "benchmark\\n"
databases:
  - name: app
    path: /home/agent/app.db
    tables:
      - name: items
        primary_key: [id]
        columns: [{name: id, type: INTEGER}, {name: label}]
        rows: [{id: 1, label: alpha}, {id: 2, label: beta}]
"""

WITH_SERVICES = (
    SMALL.replace("name: bench-small", "name: bench-services")
    + """\
services:
  - name: api
    hostnames: [api.orbitly.io]
    exchanges:
      - request: {method: GET, path: /v1/ping}
        response: {json_body: {ok: true}}
"""
)


def pct(xs: list[float], q: float) -> float:
    """The q-quantile (nearest rank)."""
    s = sorted(xs)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


async def pod_lifetimes(snapshot: Any, n: int) -> tuple[list[float], list[float]]:
    from deploysim.sandbox import Pod

    lifetimes, execs = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        pod = await Pod.start(snapshot)
        await pod.exec(["true"])
        await pod.close()
        lifetimes.append(time.perf_counter() - t0)
    pod = await Pod.start(snapshot)
    try:
        for _ in range(max(50, n)):
            t = time.perf_counter()
            await pod.exec(["true"])
            execs.append(time.perf_counter() - t)
    finally:
        await pod.close()
    return lifetimes, execs


def floor(image: str, n: int) -> tuple[list[float], list[float]]:
    from deploysim.sandbox._docker import client

    c = client()
    lifetimes, execs = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        ctr = c.containers.create(
            image,
            command=["sleep", "infinity"],
            init=True,
            network_mode="none",
            labels={"deploysim.pod": "bench-floor"},
        )
        ctr.start()
        ctr.exec_run(["true"])
        ctr.remove(force=True)
        lifetimes.append(time.perf_counter() - t0)
    ctr = c.containers.create(
        image,
        command=["sleep", "infinity"],
        init=True,
        network_mode="none",
        labels={"deploysim.pod": "bench-floor"},
    )
    ctr.start()
    try:
        for _ in range(max(30, n)):
            t = time.perf_counter()
            ctr.exec_run(["true"])
            execs.append(time.perf_counter() - t)
    finally:
        ctr.remove(force=True)
    return lifetimes, execs


async def inspect_lifetimes(image: str, n: int) -> list[float]:
    import inspect_ai.util._sandbox.docker.prereqs as prereqs
    from inspect_ai.util._sandbox.docker.docker import DockerSandboxEnvironment

    original = prereqs.validate_docker_engine

    async def relaxed(version: str = "20.10.0") -> None:
        await original("20.10.0")

    prereqs.validate_docker_engine = relaxed  # benchmark only: this engine is 20.10
    with tempfile.TemporaryDirectory() as tmp:
        compose = Path(tmp) / "compose.yaml"
        compose.write_text(
            f"services:\n  default:\n    image: {image}\n    x-local: true\n"
            "    pull_policy: never\n    command: [tail, -f, /dev/null]\n    init: true\n"
            "    network_mode: none\n"
        )
        await DockerSandboxEnvironment.task_init("bench", str(compose))
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            envs = await DockerSandboxEnvironment.sample_init("bench", str(compose), {})
            await envs["default"].exec(["true"])
            await DockerSandboxEnvironment.sample_cleanup("bench", str(compose), envs, False)
            out.append(time.perf_counter() - t0)
        await DockerSandboxEnvironment.task_cleanup("bench", str(compose), True)
    return out


async def concurrent(snapshot: Any, k: int) -> tuple[int, float]:
    from deploysim.sandbox import Pod

    t0 = time.perf_counter()
    results = await asyncio.gather(*(Pod.start(snapshot) for _ in range(k)), return_exceptions=True)
    pods = [p for p in results if not isinstance(p, BaseException)]
    try:
        outs = await asyncio.gather(*(p.exec(["echo", "ok"]) for p in pods), return_exceptions=True)
        ok = sum(1 for o in outs if not isinstance(o, BaseException) and o.stdout == "ok\n")
    finally:
        await asyncio.gather(*(p.close() for p in pods))
    return ok, time.perf_counter() - t0


async def idle_rss(snapshot: Any) -> float:
    from deploysim.sandbox import Pod

    pod = await Pod.start(snapshot)
    try:
        await asyncio.sleep(2)
        total = 0
        for ctr in (pod.workspace, pod.services):
            if ctr is not None:
                stats = await asyncio.to_thread(ctr.stats, stream=False)
                mem = stats.get("memory_stats", {})
                usage = mem.get("usage", 0) - mem.get("stats", {}).get("total_inactive_file", 0)
                total += usage
        return total / 2**20
    finally:
        await pod.close()


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--samples", type=int, default=20)
    p.add_argument("--concurrent", type=int, default=20)
    p.add_argument("--skip-inspect", action="store_true")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()

    from deploysim.sandbox import Pod, ensure_base_image
    from deploysim.snapshots import load_snapshot

    base = ensure_base_image().tag
    with tempfile.TemporaryDirectory() as tmp:
        small_dir = Path(tmp) / "small"
        svc_dir = Path(tmp) / "svc"
        for d, text in ((small_dir, SMALL), (svc_dir, WITH_SERVICES)):
            d.mkdir()
            (d / "snapshot.yaml").write_text(text)
        small, svc = load_snapshot(small_dir), load_snapshot(svc_dir)
        for s in (small, svc):  # warm: images built, baselines cached
            await (await Pod.start(s)).close()
        lifetimes, execs = await pod_lifetimes(small, args.samples)
        svc_lifetimes, _ = await pod_lifetimes(svc, max(5, args.samples // 4))
        floor_life, floor_exec = floor(base, args.samples)
        inspect_life = (
            [] if args.skip_inspect else await inspect_lifetimes(base, max(5, args.samples // 4))
        )
        ok, conc_s = await concurrent(small, args.concurrent)
        rss = await idle_rss(svc)
    out = {
        "samples": args.samples,
        "pod_lifetime_p50_s": round(statistics.median(lifetimes), 3),
        "pod_lifetime_p90_s": round(pct(lifetimes, 0.9), 3),
        "pod_with_services_lifetime_p50_s": round(statistics.median(svc_lifetimes), 3),
        "exec_p50_ms": round(statistics.median(execs) * 1000, 2),
        "floor_lifetime_p50_s": round(statistics.median(floor_life), 3),
        "floor_exec_p50_ms": round(statistics.median(floor_exec) * 1000, 2),
        "inspect_lifetime_p50_s": round(statistics.median(inspect_life), 3)
        if inspect_life
        else None,
        "concurrent_pods": ok,
        "concurrent_wall_s": round(conc_s, 2),
        "idle_pod_rss_mb": round(rss, 1),
    }
    out["lifetime_vs_floor"] = round(out["pod_lifetime_p50_s"] / out["floor_lifetime_p50_s"], 2)
    out["exec_speedup_vs_docker_exec"] = round(out["floor_exec_p50_ms"] / out["exec_p50_ms"], 1)
    if out["inspect_lifetime_p50_s"]:
        out["inspect_vs_pod"] = round(out["inspect_lifetime_p50_s"] / out["pod_lifetime_p50_s"], 1)
    print(json.dumps(out, indent=None if args.json else 2))
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main())
