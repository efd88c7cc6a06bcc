"""Every file of ../shared/data/traces imports, and survives the canonical round trip."""

from pathlib import Path

import pytest

from deploysim.traces import Trace, import_traces, trace_stats
from tests.conftest import SHARED_DATA

TRACE_DIRS = sorted(p for p in SHARED_DATA.iterdir() if p.is_dir()) if SHARED_DATA.is_dir() else []


# Files of the any-agent, ToolBench and WorkBench folders that hold no trace and are ignored
# with a reason: provenance notes, the any-agent run index, ToolBench's query lists, and
# WorkBench's sandbox tables, ground-truth answers and company directory (state, not runs).
NOT_TRACES_RUN_INDEXES_AND_STATE = {
    "SOURCE.md",
    "UPSTREAM_README.md",
    "manifest.json",
    "G1_query.json",
    "G2_query.json",
    "G3_query.json",
    "inference_query_demo.json",
    "inference_query_demo_open_domain.json",
    "analytics_data.csv",
    "calendar_events.csv",
    "customer_relationship_manager_data.csv",
    "emails.csv",
    "project_tasks.csv",
    "email_addresses.csv",
    *(
        f"{domain}_queries_and_answers.csv"
        for domain in (
            "analytics",
            "calendar",
            "customer_relationship_manager",
            "email",
            "multi_domain",
            "project_management",
        )
    ),
}


@pytest.mark.parametrize("folder", TRACE_DIRS, ids=lambda p: p.name)
def test_folder_imports_without_error_and_round_trips(folder: Path) -> None:
    """Each folder's trace files import with tool calls and round-trip losslessly."""
    result = import_traces([folder])
    assert result.files, f"no trace file recognized in {folder}"
    assert result.skipped == []
    ignored = {Path(i.path).name for i in result.ignored}
    ignored -= NOT_TRACES_RUN_INDEXES_AND_STATE
    assert ignored <= {
        "LICENSE",
        "tool_schemas.json",
        "tool_effects.json",
        "db.json",
        "flights.json",
        "reservations.json",
        "users.json",
        "policy.md",
    }
    stats = trace_stats(result.traces)
    assert stats.tool_calls > 0
    for t in result.traces:
        assert Trace.model_validate_json(t.model_dump_json()) == t


def test_there_is_real_data() -> None:
    """The shared data folders are present (the tests above would silently shrink otherwise)."""
    assert {p.name for p in TRACE_DIRS} >= {
        "tau-bench-airline",
        "tau2-retail",
        "swe-agent",
        "inspect-ai",
    }
