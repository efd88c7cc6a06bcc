"""Every file of ../shared/data/traces imports, and survives the canonical round trip."""

from pathlib import Path

import pytest

from deploysim.traces import IgnoredFile, Trace, import_traces, trace_stats
from deploysim.traces._import import EMPTY_FILE, NOT_TRACE_SUFFIX
from tests.conftest import SHARED_DATA

TRACE_DIRS = sorted(p for p in SHARED_DATA.iterdir() if p.is_dir()) if SHARED_DATA.is_dir() else []

NON_TRACE_SUFFIXES = frozenset({".md", ".txt", ".gz", ".bundle"})
"""Files a folder keeps beside its traces, by kind: documentation (SOURCE.md), licences
(LICENSE-*.txt), repository snapshots (git archives, git bundles). The driver must skip them
unread (reason NOT_TRACE_SUFFIX); any other ignored file, such as a trace file no importer
recognizes, fails the test unless it is named in DATA_FILES or is empty (reason EMPTY_FILE)."""
DATA_FILES = frozenset(
    {
        "LICENSE",
        "tool_schemas.json",
        "tool_effects.json",
        "db.json",
        "flights.json",
        "reservations.json",
        "users.json",
        "policy.md",
    }
)
"""Named files that are not traces: environment state, tool schemas, policies, licences."""

RUN_INDEXES_AND_STATE = frozenset(
    {
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
)
"""Files of the any-agent, ToolBench and WorkBench folders that hold no trace: the any-agent
run index, ToolBench's query lists, and WorkBench's sandbox tables, ground-truth answers and
company directory (state, not runs). Each is read and refused by every importer."""


def _ignored_rightly(ignored: IgnoredFile) -> bool:
    p = Path(ignored.path)
    return (
        p.name in DATA_FILES
        or p.name in RUN_INDEXES_AND_STATE
        or (p.suffix in NON_TRACE_SUFFIXES and ignored.reason == NOT_TRACE_SUFFIX)
        or ignored.reason == EMPTY_FILE
    )


@pytest.mark.parametrize("folder", TRACE_DIRS, ids=lambda p: p.name)
def test_folder_imports_without_error_and_round_trips(folder: Path) -> None:
    """Each folder's trace files import with tool calls and round-trip losslessly."""
    result = import_traces([folder])
    assert result.files, f"no trace file recognized in {folder}"
    assert result.skipped == []
    assert [(i.path, i.reason) for i in result.ignored if not _ignored_rightly(i)] == []
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
        "claude-code-sessions-real-repos",
        "openhands-replay-trajectories",
        "any-agent-otel-genai-traces",
        "toolbench-rapidapi-chatgpt-dfsdt",
        "workbench-langchain-tabular-db",
    }
