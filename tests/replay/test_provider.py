"""The real provider path: `inspect eval deploysim/replay --model openai-api/...` against a fake
OpenAI-compatible server on 127.0.0.1, through the entry point, with real pods."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from inspect_ai.log import list_eval_logs, read_eval_log

from deploysim.replay import read_record

from .fake_openai import serve

pytestmark = pytest.mark.docker
INSPECT = Path(sys.executable).with_name("inspect")


def _inspect_eval(
    args: list[str], base_url: str, log_dir: Path
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "FAKE_BASE_URL": base_url,
        "FAKE_API_KEY": "not-a-key",
        "INSPECT_DISPLAY": "none",
    }
    return subprocess.run(
        [str(INSPECT), "eval", "deploysim/replay", "--log-dir", str(log_dir), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_candidate_behind_an_openai_compatible_api(
    airline_scenario: Callable[..., Path], tmp_path: Path, base_image: str
) -> None:
    """The fake sees the recorded prefix and the trace's tools; its call runs live in the pod."""
    scenario = airline_scenario(ids=["task-0/trial-0", "task-2/trial-0"], cut="last")
    with serve({"tool_call": ("list_all_airports", {}), "simulated": {}}) as (url, app):
        proc = _inspect_eval(
            [
                "-T",
                f"scenario={scenario}",
                "--model",
                "openai-api/fake/cand-7b",
                "-M",
                "strict_tools=false",
            ],
            url,
            tmp_path / "logs",
        )
        requests = list(app.state.requests)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(requests) == 4  # two samples: a tool call, then an answer
    first = requests[0]
    assert first["model"] == "cand-7b"
    tools = {t["function"]["name"]: t["function"] for t in first["tools"]}
    assert len(tools) == 14 and tools["book_reservation"]["description"] == "Book a reservation."
    assert all(
        p.get("description") for p in tools["book_reservation"]["parameters"]["properties"].values()
    )
    messages = first["messages"]
    assert messages[0]["role"] == "system" and messages[0]["content"].startswith(
        "# Airline Agent Policy"
    )
    call_ids = [
        c["id"] for m in messages if m["role"] == "assistant" for c in m.get("tool_calls") or []
    ]
    assert len(call_ids) == len(set(call_ids))  # tau-bench's reused ids made unique
    assert [m["tool_call_id"] for m in messages if m["role"] == "tool"] == call_ids
    log = read_eval_log(list_eval_logs(str(tmp_path / "logs"))[0].name)
    assert log.status == "success" and log.eval.model == "openai-api/fake/cand-7b"
    for sample in log.samples or []:
        rec = read_record(sample)
        calls = [s for s in rec.candidate if s.kind == "tool_call"]
        assert [(c.tool, c.provenance, c.backend) for c in calls] == [
            ("list_all_airports", "live", "function")
        ]
        assert "SFO" in (calls[0].output or "") and rec.diverged_at_turn == rec.turn
        assert rec.candidate[-1].text and rec.candidate[-1].text.startswith("Done. The tool said:")
        assert rec.candidate_model == "openai-api/fake/cand-7b"


def test_a_simulator_behind_an_openai_compatible_api(
    write_scenario: Callable[..., Path], shared_traces: Path, tmp_path: Path
) -> None:
    """Recorded-only tau2: an unrecorded call is emulated by the simulator model (labelled so)."""
    d = shared_traces / "tau2-retail"
    scenario = write_scenario(
        traces=[
            {"path": str(d / "traces.json"), "tools": str(d / "tool_schemas.json"), "limit": 1}
        ],
        binding="recorded",
        cut="last",
    )
    simulated = {"output": "Error: order not found", "is_error": True}
    with serve(
        {"tool_call": ("get_order_details", {"order_id": "#W0000000"}), "simulated": simulated}
    ) as (url, app):
        proc = _inspect_eval(
            [
                "-T",
                f"scenario={scenario}",
                "-T",
                "simulator=openai-api/fake/sim-1",
                "--model",
                "openai-api/fake/cand-7b",
                "-M",
                "strict_tools=false",
            ],
            url,
            tmp_path / "logs",
        )
        requests = list(app.state.requests)
    assert proc.returncode == 0, proc.stderr[-3000:]
    sim = [r for r in requests if r["model"] == "sim-1"]
    assert len(sim) == 1 and "tools" not in sim[0]
    assert "call get_order_details" in sim[0]["messages"][-1]["content"]
    log = read_eval_log(list_eval_logs(str(tmp_path / "logs"))[0].name)
    assert log.eval.sandbox is None  # no snapshot and no workspace tools: no pod at all
    rec = read_record((log.samples or [])[0])
    call = next(s for s in rec.candidate if s.kind == "tool_call")
    assert (call.provenance, call.backend, call.output, call.is_error) == (
        "emulated",
        "emulated",
        "Error: order not found",
        True,
    )
    assert rec.simulator == "openai-api/fake/sim-1" and rec.provenance_counts == {"emulated": 1}
    assert rec.end_state.scope == "none" and not rec.end_state.captured
