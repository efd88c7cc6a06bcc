"""Decoding OpenTelemetry spans (OTLP/JSON and SDK dumps) into one shape for the importer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from deploysim.traces._reader import Node

__all__ = [
    "DETAILS_EVENT",
    "ERROR_CODES",
    "OPENINFERENCE_KIND",
    "Span",
    "any_value",
    "attributes",
    "decode_span",
    "hex_id",
    "time_ns",
    "trace_id_of",
]

ERROR_CODES = (2, "2", "STATUS_CODE_ERROR", "ERROR", "StatusCode.ERROR")
_ERROR_NAMES = frozenset(str(c).upper() for c in ERROR_CODES)
# OpenInference names its span types by attribute, not by gen_ai.operation.name; these are
# the GenAI operations they correspond to.
OPENINFERENCE_KIND = "openinference.span.kind"
_OPENINFERENCE_OPS = {"LLM": "chat", "TOOL": "execute_tool", "AGENT": "invoke_agent"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DETAILS_EVENT = "gen_ai.client.inference.operation.details"


def hex_id(value: Any, width: int = 16) -> str | None:
    """An id as lower-case hex; SDK dumps that keep the integer get it zero-padded."""
    if isinstance(value, str) and value:
        return value.lower().removeprefix("0x")
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return f"{value:0{width}x}"
    return None


def trace_id_of(span: Any) -> str | None:
    if not isinstance(span, dict):
        return None
    ctx = span.get("context")
    return hex_id(
        span.get("traceId")
        or span.get("trace_id")
        or (ctx.get("trace_id") if isinstance(ctx, dict) else None),
        32,
    )


def _parent_id(d: dict[str, Any]) -> str | None:
    """``parentSpanId`` (OTLP), ``parent_id`` (SDK to_json) or a ``parent`` context object."""
    parent = d.get("parent")
    nested = parent.get("span_id") if isinstance(parent, dict) else None
    return hex_id(d.get("parentSpanId") or d.get("parent_id") or nested)


def time_ns(value: Any) -> int | None:
    """Nanoseconds since the epoch from OTLP nanos or an ISO timestamp."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    if value.isdigit():
        return int(value)
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    dt = dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    return (dt - _EPOCH) // timedelta(microseconds=1) * 1000


def any_value(node: Node) -> Any:
    """Decode an OTLP ``AnyValue``."""
    v = node.obj()
    if "stringValue" in v:
        return node["stringValue"].str()
    if "boolValue" in v:
        return bool(v["boolValue"])
    for key, cast in (("intValue", int), ("doubleValue", float)):
        if key in v:
            try:
                return cast(v[key])
            except (TypeError, ValueError) as e:
                raise node[key].fail(f"expected a number, got {v[key]!r}") from e
    if "arrayValue" in v:
        return [any_value(x) for x in node["arrayValue"].get("values", []).items()]
    if "kvlistValue" in v:
        return {
            kv["key"].str(): any_value(kv.get("value", {}))
            for kv in node["kvlistValue"].get("values", []).items()
        }
    return v.get("bytesValue")


def attributes(node: Node) -> dict[str, Node]:
    """Attributes by key, each a node holding the decoded value at its place in the file."""
    if isinstance(node.value, dict):
        return {k: node.get(k) for k in node.value if node.value[k] is not None}
    out: dict[str, Node] = {}
    for kv in node.items():
        value = kv.get("value", {})
        out[kv["key"].str()] = Node(any_value(value), value.path)
    return out


class Span(NamedTuple):
    node: Node
    span_id: str | None
    parent_id: str | None
    name: str
    start: int | None
    attrs: dict[str, Node]
    events: list[tuple[str, dict[str, Node]]]
    status_error: str | None

    def attr(self, key: str) -> Any:
        node = self.attrs.get(key)
        return None if node is None else node.value

    def str_attr(self, key: str) -> str | None:
        value = self.attr(key)
        return value if isinstance(value, str) and value else None

    @property
    def op(self) -> str | None:
        """The GenAI operation, also for OpenInference spans (LLM -> chat, TOOL -> execute_tool)."""
        op = self.str_attr("gen_ai.operation.name")
        if op is None:
            kind = self.str_attr(OPENINFERENCE_KIND)
            op = _OPENINFERENCE_OPS.get(kind.upper()) if kind else None
        return op

    @property
    def openinference(self) -> bool:
        """Whether the span speaks OpenInference (``input.value``, ``llm.*_messages``)."""
        return OPENINFERENCE_KIND in self.attrs and "gen_ai.operation.name" not in self.attrs


def decode_span(node: Node) -> Span:
    d = node.obj()
    if trace_id_of(d) is None:
        raise node.fail("span has no trace id (traceId or context.trace_id)")
    ctx: dict[str, Any] = d["context"] if isinstance(d.get("context"), dict) else {}
    status: dict[str, Any] = d["status"] if isinstance(d.get("status"), dict) else {}
    failed = str(status.get("code", status.get("status_code"))).upper() in _ERROR_NAMES
    attrs = attributes(node.get("attributes", {}))
    events = [
        (e["name"].str(), attributes(e.get("attributes", {})))
        for e in node.get("events", []).items()
    ]
    for name, fields in events:
        if name == DETAILS_EVENT:  # content may sit on this event instead of the span
            attrs.update({k: v for k, v in fields.items() if k not in attrs})
    return Span(
        node=node,
        span_id=hex_id(d.get("spanId") or d.get("span_id") or ctx.get("span_id")),
        parent_id=_parent_id(d),
        name=node.get("name", "").str(),
        start=time_ns(d.get("startTimeUnixNano", d.get("start_time"))),
        attrs=attrs,
        events=events,
        status_error=(status.get("message") or status.get("description") or "error")
        if failed
        else None,
    )


# --- messages ----------------------------------------------------------------------------
