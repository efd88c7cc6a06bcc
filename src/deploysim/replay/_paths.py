"""Paths in scenario files: ``${VARIABLE}`` expansion and the shared-data fallback.

Scenario files point at trace data that is never copied into the repository (the shared
data beside it). ``${DEPLOYSIM_SHARED_DATA}`` names that folder; when the variable is not
set, the first existing candidate is used: ``<repo>/../shared/data`` (the repository found
from the scenario file or the working directory), then ``/work/shared/data``. Other
``${NAME}`` variables must be set in the environment. Relative paths are relative to the
scenario file's folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from deploysim.replay._errors import ScenarioError

__all__ = ["SHARED_DATA_VAR", "expand_path", "shared_data_dir"]

SHARED_DATA_VAR = "DEPLOYSIM_SHARED_DATA"
_FALLBACK = Path("/work/shared/data")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def _repo_roots(start: Path) -> list[Path]:
    roots: list[Path] = []
    for base in (start, Path.cwd()):
        for p in [base, *base.parents]:
            if (p / "pyproject.toml").is_file() and p not in roots:
                roots.append(p)
                break
    return roots


def shared_data_dir(near: Path | None = None) -> Path | None:
    """The shared trace-data folder: the variable, else the first existing fallback."""
    value = os.environ.get(SHARED_DATA_VAR)
    if value:
        return Path(value)
    candidates = [r.parent / "shared" / "data" for r in _repo_roots(near or Path.cwd())]
    candidates.append(_FALLBACK)
    return next((c for c in candidates if c.is_dir()), None)


def expand_path(raw: str, base: Path, *, where: Path, field: str) -> Path:
    """Expand variables and resolve ``raw`` against ``base`` (the scenario's folder).

    Raises:
        ScenarioError: a variable is not set (and has no fallback).
    """

    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        if name == SHARED_DATA_VAR:
            found = shared_data_dir(base)
            if found is None:
                raise ScenarioError(
                    where,
                    f"${{{name}}} is not set and no shared data folder was found "
                    f"(tried <repo>/../shared/data and {_FALLBACK}); set {name}",
                    field=field,
                )
            return str(found)
        value = os.environ.get(name)
        if value is None:
            raise ScenarioError(where, f"environment variable {name} is not set", field=field)
        return value

    expanded = Path(os.path.expanduser(_VAR.sub(sub, raw)))
    return expanded if expanded.is_absolute() else (base / expanded).resolve()
