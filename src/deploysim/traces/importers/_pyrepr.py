"""A safe reader of Python ``repr`` text: literals and constructor calls, never evaluated.

Agent frameworks log their objects with ``repr`` (LangChain's ``AgentAction(tool=...)``,
numpy's ``array([...])``). :func:`parse_cell` reads such text with :func:`ast.parse` and a
walker that knows literals, names (``nan`` is pandas' missing value) and calls with keyword
arguments; anything else stays source text (:class:`Opaque`). JSON is tried first.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from typing import Any

from deploysim.traces._nesting import loads, nesting_error
from deploysim.traces._reader import Node, RecordError

__all__ = ["Call", "Opaque", "Parsed", "is_plain", "parse_cell"]


@dataclass(frozen=True)
class Call:
    """A constructor call in a repr: ``AgentAction(tool=..., ...)``, ``array([...])``."""

    name: str
    args: list[Any]
    kwargs: dict[str, Any]


@dataclass(frozen=True)
class Opaque:
    """A repr fragment that is not a literal (a bare name other than nan)."""

    source: str


class _Source:
    """Source text of AST nodes (byte offsets, as ast records them)."""

    def __init__(self, text: str) -> None:
        self.data = text.encode("utf-8")
        self.starts = [0]
        for line in self.data.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))

    def of(self, node: ast.expr) -> str:
        end_line = node.end_lineno if node.end_lineno is not None else node.lineno
        end_col = node.end_col_offset if node.end_col_offset is not None else node.col_offset
        start = self.starts[node.lineno - 1] + node.col_offset
        return self.data[start : self.starts[end_line - 1] + end_col].decode("utf-8")


def is_plain(value: Any) -> bool:
    """Whether a read value holds only JSON data (no calls or opaque names)."""
    if isinstance(value, Call | Opaque):
        return False
    if isinstance(value, list):
        return all(is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(is_plain(v) for v in value.values())
    return True


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _read(node: ast.expr, src: _Source) -> Any:
    """The value a repr node denotes, without evaluating anything."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, str | int | float | bool) or node.value is None:
            return node.value
        return Opaque(src.of(node))
    if isinstance(node, ast.Dict):
        out: dict[str, Any] = {}
        for k, v in zip(node.keys, node.values, strict=True):
            key = _read(k, src) if k is not None else None
            if not isinstance(key, str | int | float | bool) or key is None:
                return Opaque(src.of(node))
            out[str(key)] = _read(v, src)
        return out
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [_read(e, src) for e in node.elts]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _read(node.operand, src)
        if isinstance(inner, int | float) and not isinstance(inner, bool):
            return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.Name) and node.id == "nan":
        return None  # pandas' missing value
    if isinstance(node, ast.Call):
        name = _dotted(node.func)
        if name is not None and all(k.arg is not None for k in node.keywords):
            return Call(
                name,
                [_read(a, src) for a in node.args],
                {str(k.arg): _read(k.value, src) for k in node.keywords},
            )
    return Opaque(src.of(node))


class Parsed:
    """A run cell parsed: the value, and the source text of every step's observation."""

    def __init__(self, value: Any, observations: dict[int, str]) -> None:
        self.value = value
        self.observations = observations


def _parse_repr(cell: str, where: Node) -> Parsed:
    try:
        tree = ast.parse(cell.strip(), mode="eval")
    except (RecursionError, MemoryError) as e:
        # CPython's parser gives up on very deep nesting with one of these.
        raise where.fail("nested deeper than can be read") from e
    except (SyntaxError, ValueError) as e:
        raise where.fail(f"not a Python literal nor JSON: {e}") from e
    src = _Source(cell.strip())
    try:
        value = _read(tree.body, src)
    except RecursionError as e:
        raise where.fail("nested deeper than can be read") from e
    # Observation source text: the second element of each (action, observation) pair.
    observations: dict[int, str] = {}
    steps_node = _steps_node(tree.body)
    if steps_node is not None:
        for i, pair in enumerate(steps_node.elts):
            obs = _observation_node(pair)
            if obs is not None:
                observations[i] = src.of(obs)
    return Parsed(value, observations)


def _steps_node(body: ast.expr) -> ast.List | ast.Tuple | None:
    if isinstance(body, ast.Dict):
        for k, v in zip(body.keys, body.values, strict=True):
            if isinstance(k, ast.Constant) and k.value == "intermediate_steps":
                return v if isinstance(v, ast.List | ast.Tuple) else None
        return None
    return body if isinstance(body, ast.List | ast.Tuple) else None


def _observation_node(pair: ast.expr) -> ast.expr | None:
    if isinstance(pair, ast.Tuple | ast.List) and len(pair.elts) == 2:
        return pair.elts[1]
    if isinstance(pair, ast.Call):
        for k in pair.keywords:
            if k.arg == "observation":
                return k.value
        if len(pair.args) == 2:
            return pair.args[1]
    return None


def parse_cell(cell: str, where: Node) -> Parsed:
    """JSON first (it is the stricter reading), else a Python repr."""
    try:
        value = loads(cell)
    except json.JSONDecodeError:
        return _parse_repr(cell, where)
    deep = nesting_error(value, where.path)
    if deep:
        raise RecordError(deep.field, f"the cell holds JSON {deep.reason}")
    return Parsed(value, {})
