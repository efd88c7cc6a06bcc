from __future__ import annotations

import os
import shutil
import subprocess
import sys
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
AIRLINE = REPO / "env_snapshots" / "airline"


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


def build_airline(dest: Path, shared_traces: Path) -> Path:
    """Copy the airline snapshot (yaml, handlers, build script) to ``dest`` and build its rows."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(AIRLINE / "snapshot.yaml", dest)
    shutil.copy(AIRLINE / "build.py", dest)
    shutil.copytree(
        AIRLINE / "services", dest / "services", ignore=shutil.ignore_patterns("__pycache__")
    )
    source = shared_traces / "tau-bench-airline" / "initial_state"
    subprocess.run(
        [
            sys.executable,
            str(dest / "build.py"),
            "--source",
            str(source),
            "--out",
            str(dest / "databases"),
        ],
        check=True,
        capture_output=True,
    )
    return dest


@pytest.fixture(scope="session")
def airline_dir(tmp_path_factory: pytest.TempPathFactory, shared_traces: Path) -> Path:
    """The airline snapshot with its rows built from the shared tau-bench data."""
    return build_airline(tmp_path_factory.mktemp("airline"), shared_traces)


def _engine_or_fail() -> None:
    from deploysim.errors import InfrastructureError
    from deploysim.sandbox._docker import client

    try:
        client()
    except InfrastructureError as e:
        pytest.fail(f"the sandbox tests need a Docker engine: {e}")


@pytest.fixture(scope="session")
def base_image() -> str:
    """The base image (built on first use; `make test` builds it before pytest runs)."""
    _engine_or_fail()
    from deploysim.sandbox._images import ensure_base_image

    return ensure_base_image().tag
