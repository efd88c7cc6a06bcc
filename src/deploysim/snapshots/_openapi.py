"""An OpenAPI 3 document as a mock service: collections become resources, examples exchanges.

A path ``/v1/charges`` with an item path ``/v1/charges/{id}`` and an object schema becomes a
:class:`Resource` backed by a table ``charges`` whose columns are the schema's properties
(``enum`` gives allowed values; properties not listed as required are nullable). Every other
operation with a response example becomes a recorded :class:`Exchange`. Operations that fit
neither are listed as skipped, never dropped silently.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from deploysim.snapshots._fake_values import singular
from deploysim.snapshots._model import (
    Column,
    ColumnType,
    Exchange,
    Provenance,
    RequestMatcher,
    Resource,
    ResourceMethod,
    ResponseSpec,
    Service,
    Table,
)

__all__ = ["OpenApiImport", "service_from_openapi"]

_METHODS = ("get", "post", "put", "patch", "delete")
_TYPES: dict[str, ColumnType] = {
    "string": "TEXT",
    "integer": "INTEGER",
    "number": "REAL",
    "boolean": "INTEGER",
    "object": "JSON",
    "array": "JSON",
}


class OpenApiImport(NamedTuple):
    """The service made from an OpenAPI document, its tables, and what could not be used."""

    service: Service
    tables: list[Table]
    skipped: list[str]


class _Doc:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def deref(self, node: Any, depth: int = 0) -> Any:
        """Resolve local ``$ref`` (and ``allOf`` merges) recursively, a few levels deep."""
        if depth > 12 or not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                return {}
            target: Any = self.doc
            for part in ref[2:].split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            return self.deref(target, depth + 1)
        if "allOf" in node:
            merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
            for sub in node["allOf"]:
                s = self.deref(sub, depth + 1)
                merged["properties"].update(s.get("properties", {}))
                merged["required"] += s.get("required", [])
            return merged
        return node


def _json_content(d: _Doc, node: Any) -> dict[str, Any]:
    node = d.deref(node) or {}
    content = node.get("content", {})
    for mime, body in content.items():
        if "json" in mime:
            return d.deref(body) or {}
    return {}


def _example(d: _Doc, media: dict[str, Any]) -> Any:
    if "example" in media:
        return media["example"]
    for ex in (media.get("examples") or {}).values():
        ex = d.deref(ex)
        if isinstance(ex, dict) and "value" in ex:
            return ex["value"]
    schema = d.deref(media.get("schema", {}))
    return schema.get("example") if isinstance(schema, dict) else None


def _ok_response(d: _Doc, op: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    for code, resp in sorted((op.get("responses") or {}).items(), key=lambda kv: str(kv[0])):
        if str(code).startswith("2"):
            return int(code), _json_content(d, resp)
    return None


def _item_schema(
    d: _Doc, ops: dict[str, Any], item_ops: dict[str, Any]
) -> tuple[dict[str, Any] | None, str | None]:
    """The schema of one item, and the envelope key of the list response (if any)."""
    envelope = None
    if "get" in ops:
        ok = _ok_response(d, ops["get"])
        schema = d.deref(ok[1].get("schema", {})) if ok else {}
        if schema.get("type") == "array":
            return d.deref(schema.get("items", {})) or None, None
        for key, prop in (schema.get("properties") or {}).items():
            prop = d.deref(prop)
            if prop.get("type") == "array":
                envelope = key
                items = d.deref(prop.get("items", {}))
                if items.get("properties"):
                    return items, envelope
    if "get" in item_ops:
        ok = _ok_response(d, item_ops["get"])
        schema = d.deref(ok[1].get("schema", {})) if ok else {}
        if schema.get("properties"):
            return schema, envelope
    return None, envelope


def _columns(d: _Doc, schema: dict[str, Any]) -> list[Column]:
    required = set(schema.get("required", []))
    out = []
    for name, prop in (schema.get("properties") or {}).items():
        prop = d.deref(prop)
        kind = prop.get("type")
        if isinstance(kind, list):  # OpenAPI 3.1: ["string", "null"]
            nullable = "null" in kind
            kind = next((k for k in kind if k != "null"), "string")
        else:
            nullable = bool(prop.get("nullable", False))
        enum = prop.get("enum")
        values = [v for v in enum if v is not None] if isinstance(enum, list) else None
        out.append(
            Column(
                name=name,
                type=_TYPES.get(str(kind), "TEXT"),
                nullable=nullable or name not in required,
                values=values or None,
            )
        )
    return out


def _table_name(path: str) -> str:
    static = [p for p in path.strip("/").split("/") if p and not p.startswith("{")]
    name = re.sub(r"[^A-Za-z0-9_]", "_", static[-1] if static else "items")
    return name.lower()


def service_from_openapi(
    doc: dict[str, Any],
    *,
    name: str,
    source: str,
    hostname: str | None = None,
    database: str | None = None,
) -> OpenApiImport:
    """Build a service from an OpenAPI 3 document.

    Args:
        doc: the parsed document.
        name: the service name.
        source: where the document came from (recorded in provenance).
        hostname: overrides the host of ``servers[0].url``.
        database: database name for the tables; defaults to ``name``.

    Raises:
        ValueError: not an OpenAPI 3 document, or no hostname can be found.
    """
    if not str(doc.get("openapi", "")).startswith("3"):
        raise ValueError("not an OpenAPI 3 document (no 'openapi: 3.x' field)")
    d = _Doc(doc)
    servers = doc.get("servers") or [{}]
    url = urlsplit(str(servers[0].get("url", "")))
    host = hostname or url.hostname
    if not host:
        raise ValueError("servers[0].url has no host; give the hostname")
    base = url.path.rstrip("/")
    paths: dict[str, dict[str, Any]] = {
        p: {m: op for m, op in (item or {}).items() if m in _METHODS}
        for p, item in (doc.get("paths") or {}).items()
    }
    used: set[tuple[str, str]] = set()
    tables: list[Table] = []
    resources: list[Resource] = []
    for path, ops in sorted(paths.items()):
        if "{" in path:
            continue
        item_path = next(
            (p for p in paths if re.fullmatch(re.escape(path) + r"/\{[^/}]+\}", p)), None
        )
        if item_path is None:
            continue
        item_ops = paths[item_path]
        schema, envelope = _item_schema(d, ops, item_ops)
        if not schema:
            continue
        columns = _columns(d, schema)
        param = item_path.rsplit("{", 1)[1].rstrip("}")
        names = [c.name for c in columns]
        id_field = param if param in names else ("id" if "id" in names else None)
        if id_field is None:
            continue
        columns = [
            c.model_copy(update={"nullable": False}) if c.name == id_field else c for c in columns
        ]
        table = _table_name(path)
        methods: list[ResourceMethod] = []
        methods += ["list"] if "get" in ops else []
        methods += ["create"] if "post" in ops else []
        for m, rm in (("get", "get"), ("put", "update"), ("patch", "patch"), ("delete", "delete")):
            if m in item_ops:
                methods.append(rm)  # type: ignore[arg-type]
        list_params = [d.deref(p) for p in (ops.get("get", {}).get("parameters") or [])]
        filters = [
            p["name"] for p in list_params if p.get("in") == "query" and p.get("name") in names
        ]
        prov = [Provenance(source="openapi", detail=f"{source} {path}")]
        tables.append(
            Table(name=table, columns=columns, primary_key=[id_field], rows=[], provenance=prov)
        )
        resources.append(
            Resource(
                path=base + path,
                table=table,
                id_field=id_field,
                filters=filters,
                methods=methods,
                envelope=envelope,
            )
        )
        used |= {(path, m) for m in ops} | {(item_path, m) for m in item_ops}
    tables = _link(tables)
    exchanges, skipped = _exchanges(d, paths, used, base, source)
    service = Service(
        name=name,
        hostnames=[host.lower()],
        scheme="http" if url.scheme == "http" else "https",
        database=(database or name) if tables else None,
        exchanges=exchanges,
        resources=resources,
        provenance=[Provenance(source="openapi", detail=source)],
    )
    return OpenApiImport(service, tables, skipped)


def _link(tables: list[Table]) -> list[Table]:
    """Foreign keys between imported tables.

    A property named ``charge`` or ``charge_id`` refers to table ``charges`` (the Stripe
    convention and the common one).
    """
    ids = {singular(t.name): f"{t.name}.{t.primary_key[0]}" for t in tables}
    out = []
    for t in tables:
        cols = []
        for c in t.columns:
            stem = c.name.removesuffix("_id")
            target = ids.get(stem)
            if target and c.name not in t.primary_key and not target.startswith(t.name + "."):
                c = c.model_copy(update={"references": target})
            cols.append(c)
        out.append(t.model_copy(update={"columns": cols}))
    return out


def _exchanges(
    d: _Doc, paths: dict[str, dict[str, Any]], used: set[tuple[str, str]], base: str, source: str
) -> tuple[list[Exchange], list[str]]:
    exchanges: list[Exchange] = []
    skipped: list[str] = []
    for path, ops in sorted(paths.items()):
        for method, op in ops.items():
            if (path, method) in used:
                continue
            ok = _ok_response(d, op)
            example = _example(d, ok[1]) if ok else None
            if ok is None or example is None:
                skipped.append(f"{method.upper()} {path}: no 2xx JSON example to record")
                continue
            body = _example(d, _json_content(d, op.get("requestBody", {})))
            exchanges.append(
                Exchange(
                    request=RequestMatcher(
                        method=method.upper(),
                        path=base + path,
                        json_body=body,
                        strictness="subset" if body is not None else "ignore_body",
                    ),
                    response=ResponseSpec(
                        status=ok[0],
                        headers={"content-type": "application/json"},
                        json_body=example,
                    ),
                    provenance=[Provenance(source="openapi", detail=f"{source} {method} {path}")],
                )
            )
    return exchanges, skipped
