"""Canonical forms of tool calls, so that equal actions compare equal.

Normalization removes differences no tool can observe or that only reflect how a model
spells a value: key order, surrounding and repeated whitespace in strings, ``5.0`` vs ``5``,
and optional arguments given as ``null`` vs left out. It keeps everything else: case, list
order, string vs number (a tool may treat ``"5"`` and ``5`` differently).
"""

from __future__ import annotations

import json
import re
from typing import Any

from deploysim.replay import Step

__all__ = ["action_key", "normalize_arguments", "normalize_value", "render_call"]

_SPACES = re.compile(r"\s+")
_RENDER_LIMIT = 160


def normalize_value(value: Any) -> Any:
    """The canonical form of one JSON value."""
    if isinstance(value, dict):
        return {str(k): normalize_value(v) for k, v in sorted(value.items()) if v is not None}
    if isinstance(value, list | tuple):
        return [normalize_value(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return _SPACES.sub(" ", value.strip())
    return value


def normalize_arguments(step: Step) -> str:
    """Canonical JSON of a call's arguments (the raw text when they did not parse)."""
    if step.arguments is None:
        return _SPACES.sub(" ", (step.raw_arguments or "").strip())
    return json.dumps(normalize_value(step.arguments), sort_keys=True, ensure_ascii=False)


def action_key(step: Step) -> str:
    """Tool name and canonical arguments: equal keys are the same action."""
    return f"{step.tool}({normalize_arguments(step)})"


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, dict | list) else json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def render_call(step: Step) -> str:
    """A readable one-line call: ``cancel_reservation(reservation_id='ZFA04Y')``."""
    if step.arguments is None:
        inner = step.raw_arguments or ""
    else:
        inner = ", ".join(f"{k}={_short(v)}" for k, v in step.arguments.items())
    text = f"{step.tool}({inner})"
    return text if len(text) <= _RENDER_LIMIT else text[: _RENDER_LIMIT - 4] + "...)"
