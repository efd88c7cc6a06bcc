from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO.parent / "shared" / "data" / "traces").resolve()
FIXTURES = Path(__file__).parent / "traces" / "fixtures"


@pytest.fixture(scope="session")
def shared_traces() -> Path:
    """The real agent traces of ../shared/data/traces (read-only, never copied)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared trace data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def fixtures() -> Path:
    """Hand-made trace fixtures, one folder per format."""
    return FIXTURES
