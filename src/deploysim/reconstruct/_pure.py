"""Pure functions a tool may turn out to be, checked against every recorded call.

A tool whose every recorded answer equals one of these functions of its arguments is served
by that function, so calls never recorded are answered too (``calculate("2 * 21")``). The
registry is the extension point: ``@pure_function("name")`` adds a candidate. Each takes the
arguments object and returns the output text, or raises :class:`PureError` when the call is
outside what the function knows how to answer.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["PureError", "get_pure_function", "pure_function", "pure_function_names"]

PureFunction = Callable[[dict[str, Any]], str]
_F = TypeVar("_F", bound=PureFunction)
_REGISTRY: dict[str, PureFunction] = {}


class PureError(Exception):
    """The function cannot answer these arguments."""


def pure_function(name: str) -> Callable[[_F], _F]:
    """Register a candidate pure function under ``name``."""

    def register(fn: _F) -> _F:
        _REGISTRY[name] = fn
        return fn

    return register


def pure_function_names() -> list[str]:
    """Registered candidates, in the order they are tried."""
    return list(_REGISTRY)


def get_pure_function(name: str) -> PureFunction:
    """The candidate called ``name``.

    Raises:
        KeyError: no such candidate.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown pure function {name!r}; known: {pure_function_names()}") from None


_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def _eval(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)  # type: ignore[arg-type]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        try:
            return float(_BINARY[type(node.op)](_eval(node.left), _eval(node.right)))
        except ZeroDivisionError as e:
            raise PureError("division by zero") from e
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return float(_UNARY[type(node.op)](_eval(node.operand)))
    raise PureError("not plain arithmetic")


def _expression(args: dict[str, Any]) -> float:
    texts = [v for v in args.values() if isinstance(v, str)]
    if len(args) != 1 or len(texts) != 1:
        raise PureError("expects one text argument")
    try:
        tree = ast.parse(texts[0].strip(), mode="eval")
    except SyntaxError as e:
        raise PureError("not an expression") from e
    return _eval(tree)


@pure_function("arithmetic_round2")
def arithmetic_round2(args: dict[str, Any]) -> str:
    """An arithmetic expression's value as a float rounded to 2 decimals (``'255.0'``)."""
    return str(round(_expression(args), 2))


@pure_function("arithmetic")
def arithmetic(args: dict[str, Any]) -> str:
    """An arithmetic expression's value, integers without a decimal point (``'255'``)."""
    value = _expression(args)
    return str(int(value)) if value.is_integer() else str(value)
