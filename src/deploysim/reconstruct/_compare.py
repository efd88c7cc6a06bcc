r"""Compare a replayed tool output with the recorded one: exact, then normalized.

Normalizations, tried in order once the texts differ:

1. whitespace: line endings, trailing spaces, runs of blanks, blank lines at either end;
2. JSON: both texts parse and are equal ignoring key order (and the volatile fields);
3. volatile patterns: declared regular expressions (timestamps, generated ids, blob hashes)
   masked in both texts, then whitespace-normalized.

Volatile fields are declared per tool (``{"get_order": ["created_at", "re:\\d{4}-\\d\\d-\\d\\d"]}``;
``"*"`` applies to every tool): a plain name is a JSON key dropped at any depth, ``re:...`` a
pattern masked in the text.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal, NamedTuple

__all__ = ["Match", "Verdict", "compare", "parse_volatile"]

Match = Literal["exact", "normalized", "differs"]
_BLANKS = re.compile(r"[ \t]+")
_DIFF_LINES = 40


class Verdict(NamedTuple):
    """How a replayed output compares with the recorded one."""

    match: Match
    how: str | None
    """Which normalization made them equal (whitespace, json, volatile), or None."""
    diff: str | None
    """A unified diff (recorded -> replayed), cut to 40 lines, when they differ."""


def parse_volatile(items: Sequence[str]) -> dict[str, list[str]]:
    """``TOOL:FIELD`` or ``TOOL:re:PATTERN`` items (``*`` for every tool) as a mapping.

    Raises:
        ValueError: an item has no ``:`` or an invalid pattern.
    """
    out: dict[str, list[str]] = {}
    for item in items:
        tool, sep, what = item.partition(":")
        if not sep or not tool or not what:
            raise ValueError(f"volatile field {item!r} is not TOOL:FIELD or TOOL:re:PATTERN")
        if what.startswith("re:"):
            try:
                re.compile(what[3:])
            except re.error as e:
                raise ValueError(f"volatile pattern {what[3:]!r} is invalid: {e}") from e
        out.setdefault(tool, []).append(what)
    return out


def _ws(text: str) -> str:
    lines = [_BLANKS.sub(" ", line).rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip()


def _drop(value: Any, fields: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: _drop(v, fields) for k, v in value.items() if k not in fields}
    if isinstance(value, list):
        return [_drop(v, fields) for v in value]
    return value


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return _NOPE


_NOPE = object()


def _diff(recorded: str, replayed: str) -> str:
    lines = list(
        difflib.unified_diff(
            recorded.splitlines(),
            replayed.splitlines(),
            "recorded",
            "replayed",
            lineterm="",
            n=1,
        )
    )
    if len(lines) > _DIFF_LINES:
        lines = [*lines[:_DIFF_LINES], f"... ({len(lines) - _DIFF_LINES} more diff lines)"]
    return "\n".join(lines)


def compare(
    recorded: str, replayed: str, tool: str = "", volatile: Mapping[str, list[str]] | None = None
) -> Verdict:
    """Compare ``replayed`` with ``recorded`` for ``tool``."""
    if recorded == replayed:
        return Verdict("exact", None, None)
    if _ws(recorded) == _ws(replayed):
        return Verdict("normalized", "whitespace", None)
    declared = [*(volatile or {}).get("*", []), *(volatile or {}).get(tool, [])]
    fields = {d for d in declared if not d.startswith("re:")}
    patterns = [re.compile(d[3:]) for d in declared if d.startswith("re:")]
    a, b = _json(recorded), _json(replayed)
    same_json = (
        a is not _NOPE
        and b is not _NOPE
        and json.dumps(_drop(a, fields), sort_keys=True)
        == json.dumps(_drop(b, fields), sort_keys=True)
    )
    if same_json:
        return Verdict("normalized", "volatile fields" if fields else "json", None)
    if patterns:
        ma, mb = recorded, replayed
        for p in patterns:
            ma, mb = p.sub("<volatile>", ma), p.sub("<volatile>", mb)
        if _ws(ma) == _ws(mb):
            return Verdict("normalized", "volatile patterns", None)
    return Verdict("differs", None, _diff(recorded, replayed))
