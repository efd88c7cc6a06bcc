"""One bound on how deeply a trace may nest, enforced wherever trace JSON or YAML is parsed.

A hostile trace can nest arrays 200,000 levels deep. Python's JSON parser, pydantic's JSON
reader and serializer, jsonschema and every recursive walker downstream (scrubbing, grading)
each give up at a different depth, with a ``RecursionError`` or a ``ValueError`` that names no
file. So deploysim sets its own limit, :data:`MAX_NESTING`, well above real traces (the
deepest of the real traces in ``../shared/data`` nests 35 levels, parsed argument strings
included) and well below where any of those give up (pydantic's JSON reader stops at 200
levels of a whole Trace, jsonschema's schema check at about 196).

- :func:`loads` parses JSON of any depth without recursing deeper than twice the limit:
  when the parser gives up, subtrees past that depth are cut (replaced by ``[]``) by a scan
  that does not recurse, so the rest of the file still parses and its good records survive.
- :func:`nesting_error` finds the first value nested deeper than the limit and names its
  field; the import driver runs it on every record before an importer sees the record, and
  :func:`~deploysim.traces._reader.parse_arguments` on every parsed argument string.
- :class:`BoundedYamlLoader` refuses YAML deeper than the limit, and aliases to lists or
  mappings (they expand exponentially on the first walk, and can form cycles).
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

import yaml

__all__ = [
    "MAX_NESTING",
    "MAX_TRACE_NESTING",
    "BoundedYamlLoader",
    "TooDeep",
    "loads",
    "nesting_error",
]

MAX_NESTING = 100
"""The deepest a record (or a parsed tool-argument string) may nest lists and objects."""

MAX_TRACE_NESTING = MAX_NESTING + 8
"""The deepest a canonical Trace record may nest: a Trace puts record content at most seven
levels down (``messages[i].parts[j].arguments``), so whatever deploysim writes reads back."""

# Where loads() cuts when the parser gave up: deeper than any record can be without failing
# the per-record check anyway (records start at most a few levels into a file).
_CUT_DEPTH = 2 * MAX_NESTING

# JSON strings (even unterminated) and runs of brackets; everything else is skipped unseen.
# Runs make a 200,000-level bomb a handful of matches instead of 400,000.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[{]+|[\]}]+', re.DOTALL)


def _cut_deep(text: str) -> str:
    """``text`` with every subtree that starts deeper than ``_CUT_DEPTH`` replaced by ``[]``."""
    pieces: list[str] = []
    depth = 0
    kept = 0  # text[:kept] is already in pieces (or cut)
    cut_from: int | None = None
    for m in _TOKENS.finditer(text):
        run = m.group()
        if run[0] == '"':
            continue
        n = len(run)
        if run[0] in "[{":
            if cut_from is None and depth + n > _CUT_DEPTH:
                cut_from = m.start() + (_CUT_DEPTH - depth)
                pieces.append(text[kept:cut_from])
            depth += n
        else:
            if cut_from is not None and depth - n <= _CUT_DEPTH:
                kept = m.start() + (depth - _CUT_DEPTH)
                pieces.append("[]")
                cut_from = None
            depth -= n
    if cut_from is not None:  # never closed: the parser reports the truncation
        pieces.append("[")
        kept = len(text)
    pieces.append(text[kept:])
    return "".join(pieces)


def loads(text: str | bytes | bytearray) -> Any:
    """Parse JSON like :func:`json.loads`, with nothing nested deeper than twice the limit.

    Subtrees deeper than twice :data:`MAX_NESTING` come back as ``[]``, so whatever walks
    the result cannot recurse too deep, and :func:`nesting_error` still reports the record
    that held them (it is deeper than the limit either way).

    Raises:
        json.JSONDecodeError: the text is not JSON.
    """
    try:
        value = json.loads(text)
    except RecursionError:
        # The C parser gives up cleanly at the interpreter's recursion limit; cutting the
        # deep parts without recursing is the bound, so the limit itself is never raised.
        too_deep = True
    else:
        too_deep = _too_deep(value, _CUT_DEPTH)
    if not too_deep:
        return value
    if not isinstance(text, str):
        text = bytes(text).decode("utf-8", errors="replace")
    return json.loads(_cut_deep(text))


def _children(value: Any) -> list[tuple[str | int, Any]]:
    if isinstance(value, dict):
        return [(k, v) for k, v in value.items() if isinstance(v, dict | list)]
    return [(i, v) for i, v in enumerate(value) if isinstance(v, dict | list)]


def _too_deep(value: Any, limit: int) -> bool:
    """Whether ``value`` nests more than ``limit`` containers; breadth-first, no recursion."""
    level = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        level = [child for v in level for _, child in _children(v)]
    return False


def _deep_keys(value: Any, limit: int) -> list[str | int]:
    """Keys from ``value`` down to its first container nested deeper than ``limit``."""
    keys: list[str | int] = []
    stack = [iter(_children(value))]
    while stack:
        step = next(stack[-1], None)
        if step is None:
            stack.pop()
            if keys:
                keys.pop()
            continue
        keys.append(step[0])
        if len(keys) >= limit:
            return keys
        stack.append(iter(_children(step[1])))
    return keys


def _join(base: str, keys: list[str | int]) -> str:
    shown = keys if len(keys) <= 12 else keys[:10]
    path = base
    for k in shown:
        path = f"{path}[{k}]" if isinstance(k, int) else (f"{path}.{k}" if path else str(k))
    if len(shown) < len(keys):
        path += f"…({len(keys) - len(shown)} more levels)"
    return path or "(record)"


class TooDeep(NamedTuple):
    """Where a value nests deeper than the limit."""

    field: str
    """Dotted path of the first container past the limit (shortened when very long)."""
    reason: str


def nesting_error(value: Any, path: str = "", limit: int = MAX_NESTING) -> TooDeep | None:
    """Where ``value`` (found at ``path``) nests deeper than ``limit``; None when it does not.

    Linear in the number of containers; never recurses.
    """
    if not _too_deep(value, limit):
        return None
    return TooDeep(_join(path, _deep_keys(value, limit)), f"nested deeper than {limit} levels")


class BoundedYamlLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses deep nesting and aliases to collections."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def _refuse(self, reason: str) -> yaml.composer.ComposerError:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        return yaml.composer.ComposerError(None, None, reason, event.start_mark)

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        """Compose one node, counting how deep the composer has gone."""
        if self.check_event(yaml.AliasEvent):
            anchor = self.peek_event().anchor  # type: ignore[no-untyped-call]
            if not isinstance(self.anchors.get(anchor, yaml.ScalarNode("", "")), yaml.ScalarNode):
                raise self._refuse(
                    f"alias *{anchor} names a list or mapping; trace files may alias scalars "
                    "only (collection aliases can expand exponentially)"
                )
        self._depth += 1
        try:
            if self._depth > _CUT_DEPTH:
                raise self._refuse(f"nested deeper than {MAX_NESTING} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
