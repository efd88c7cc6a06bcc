"""Field access for importers that names the field when input is malformed.

Importers walk raw records through :class:`Node`; a missing or mistyped field raises
:class:`RecordError` carrying the dotted path (``messages[3].tool_calls[0].id``). The import
driver adds the file and record index and re-raises it as a ``TraceFormatError``.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterator
from typing import Any, NamedTuple

__all__ = ["Node", "ParsedArguments", "RecordError", "parse_arguments", "text_of"]

_MISSING = object()


class RecordError(Exception):
    """A field of a record is missing or has the wrong type."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(value), type(value).__name__
    )


class Node:
    """A value inside a record, with its path, for precise error messages."""

    __slots__ = ("path", "value")

    def __init__(self, value: Any, path: builtins.str = "") -> None:
        self.value = value
        self.path = path

    def _child_path(self, key: builtins.str | int) -> builtins.str:
        if isinstance(key, int):
            return f"{self.path}[{key}]"
        return f"{self.path}.{key}" if self.path else key

    def fail(self, reason: builtins.str) -> RecordError:
        """An error about this node."""
        return RecordError(self.path or "(record)", reason)

    def obj(self) -> dict[str, Any]:
        """This value as a JSON object."""
        if not isinstance(self.value, dict):
            raise self.fail(f"expected an object, got {_type_name(self.value)}")
        return self.value

    def arr(self) -> list[Any]:
        """This value as a JSON array."""
        if not isinstance(self.value, list):
            raise self.fail(f"expected an array, got {_type_name(self.value)}")
        return self.value

    def str(self) -> builtins.str:
        """This value as a string."""
        if not isinstance(self.value, str):
            raise self.fail(f"expected a string, got {_type_name(self.value)}")
        return self.value

    def id(self) -> builtins.str:
        """This value as an identifier: a non-empty string, or an integer turned into one."""
        if isinstance(self.value, bool) or not isinstance(self.value, str | int):
            raise self.fail(f"expected an id (string or integer), got {_type_name(self.value)}")
        if self.value == "":
            raise self.fail("expected a non-empty id")
        return str(self.value)

    def has(self, key: builtins.str) -> bool:
        """Whether this object has ``key`` with a non-null value."""
        return isinstance(self.value, dict) and self.value.get(key) is not None

    def __getitem__(self, key: builtins.str) -> Node:
        obj = self.obj()
        if key not in obj or obj[key] is None:
            raise RecordError(self._child_path(key), "required field is missing")
        return Node(obj[key], self._child_path(key))

    def get(self, key: builtins.str, default: Any = None) -> Node:
        """The child ``key``; a node holding ``default`` when absent or null."""
        obj = self.obj()
        value = obj.get(key)
        return Node(default if value is None else value, self._child_path(key))

    def items(self) -> Iterator[Node]:
        """The elements of this array, as nodes."""
        for i, v in enumerate(self.arr()):
            yield Node(v, self._child_path(i))

    def opt_str(self, key: builtins.str) -> builtins.str | None:
        """The string child ``key``, or None when absent."""
        node = self.get(key)
        return None if node.value is None else node.str()


class ParsedArguments(NamedTuple):
    """Tool-call arguments after parsing."""

    arguments: dict[str, Any] | None
    raw: str | None
    error: str | None


def parse_arguments(value: Any) -> ParsedArguments:
    """Parse tool-call arguments that may be a JSON string, an object or absent.

    A string that is not JSON, or JSON that is not an object, is kept raw with the reason;
    it is a finding about the trace, not an import failure.
    """
    if value is None:
        return ParsedArguments({}, None, None)
    if isinstance(value, dict):
        return ParsedArguments(value, None, None)
    if isinstance(value, str):
        if value.strip() == "":
            return ParsedArguments({}, value, None)
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as e:
            return ParsedArguments(None, value, f"invalid JSON: {e.msg} (char {e.pos})")
        except RecursionError:
            return ParsedArguments(None, value, "JSON nested deeper than can be read")
        if not isinstance(parsed, dict):
            return ParsedArguments(None, value, f"JSON is a {_type_name(parsed)}, not an object")
        return ParsedArguments(parsed, value, None)
    return ParsedArguments(None, None, f"arguments are a {_type_name(value)}, not an object")


def text_of(content: Any) -> str:
    """Flatten message or result content (string, list of text parts, other JSON) to text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        pieces: list[str] = []
        for item in content:
            if isinstance(item, str):
                pieces.append(item)
            elif isinstance(item, dict):
                for key in ("text", "content", "output", "input_text"):
                    if isinstance(item.get(key), str):
                        pieces.append(item[key])
                        break
                else:
                    pieces.append(f"[{item.get('type', 'content')}]")
        return "\n".join(pieces)
    return json.dumps(content, ensure_ascii=False, sort_keys=True)
