from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The real traces live beside the project (../shared/data); CI may clone elsewhere, so the
# location can be given, and /work/shared is where this machine keeps them.
_CANDIDATES = [
    Path(os.environ["DEPLOYSIM_SHARED_DATA"]) if os.environ.get("DEPLOYSIM_SHARED_DATA") else None,
    REPO.parent / "shared" / "data",
    Path("/work/shared/data"),
]
SHARED_DATA = next(
    (c / "traces" for c in _CANDIDATES if c is not None and (c / "traces").is_dir()),
    REPO.parent / "shared" / "data" / "traces",
)
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
