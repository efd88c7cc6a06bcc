"""REST collections backed by SQLite tables (:class:`~deploysim.snapshots.Resource`).

``GET /coll`` lists (query parameters on the resource's ``filters`` columns filter; others
are ignored, as most APIs do), ``POST /coll`` creates (the id is generated when absent:
max+1 for integer ids, else a UUID derived from the table and row count, so a fresh state
gives the same ids every run), ``GET/PUT/PATCH/DELETE /coll/{id}`` read, replace, merge and
delete. Writes are committed by the app after the answer is built; a constraint failure
rolls back and answers 422. Responses are the stored rows, JSON columns decoded; lists are
wrapped in the resource's ``envelope`` key when it has one. Deletes answer 204.
"""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from typing import Any

from deploysim._errors import SnapshotError
from deploysim.services._answer import Answer
from deploysim.services._db import Db, quote
from deploysim.services._http_errors import ErrorShaper
from deploysim.services._matching import IncomingRequest
from deploysim.snapshots import Resource, Service, Table

__all__ = ["ResourceRouter", "check_resources"]

_COLLECTION = {"GET": "list", "POST": "create"}
_ITEM = {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


def check_resources(service: Service, index: int, tables: dict[str, Table], where: str) -> None:
    """Fail early when a resource names an unknown table or column.

    Raises:
        SnapshotError: naming the resource field at fault.
    """
    for j, r in enumerate(service.resources):
        field = f"services[{index}].resources[{j}]"
        table = tables.get(r.table)
        if table is None:
            raise SnapshotError(
                where,
                f"resource {r.path} uses table {r.table!r}, not in database {service.database!r}",
                field=f"{field}.table",
            )
        names = {c.name for c in table.columns}
        bad = [c for c in [r.id_field, *r.filters] if c not in names]
        if bad:
            raise SnapshotError(
                where, f"resource {r.path} names unknown columns {bad}", field=field
            )


def _convert(table: Table, column: str, raw: str) -> Any:
    kind = next(c.type for c in table.columns if c.name == column)
    if kind == "INTEGER":
        return int(raw)
    if kind in ("REAL", "NUMERIC"):
        return float(raw)
    return raw


class ResourceRouter:
    """Answers requests on a service's resource paths."""

    def __init__(self, service: Service, errors: ErrorShaper) -> None:
        self.service = service
        self.errors = errors
        self.db: Db

    def _error(self, status: int, note: str, message: str | None = None) -> Answer:
        return Answer(
            status,
            self.errors.body(status, message),
            backend="resource",
            service=self.service.name,
            note=note,
        )

    def _ok(self, status: int, body: Any) -> Answer:
        return Answer(status, body, backend="resource", service=self.service.name)

    def handle(self, req: IncomingRequest, db: Db) -> Answer | None:
        """The answer for ``req`` from the database ``db``; None when no resource has its path."""
        self.db = db
        for r in self.service.resources:
            base = r.path.rstrip("/")
            if req.path.rstrip("/") == base:
                return self._dispatch(r, req, _COLLECTION, None)
            rest = req.path[len(base) + 1 :] if req.path.startswith(base + "/") else ""
            if rest and "/" not in rest.rstrip("/"):
                return self._dispatch(r, req, _ITEM, rest.rstrip("/"))
        return None

    def _dispatch(
        self, r: Resource, req: IncomingRequest, ops: dict[str, str], item: str | None
    ) -> Answer:
        allowed = [m for m, op in ops.items() if op in r.methods]
        op = ops.get(req.method)
        if op is None or op not in r.methods:
            answer = self._error(405, f"resource {r.path} allows {allowed}")
            return answer._replace(headers={"allow": ", ".join(allowed)})
        table = self.db.table(r.table)
        key: Any = None
        if item is not None:
            try:
                key = _convert(table, r.id_field, item)
            except ValueError:
                return self._error(404, f"{item!r} is not a valid {r.id_field}")
        if op in ("create", "update", "patch") and not (
            req.body_is_json and isinstance(req.body, dict)
        ):
            return self._error(422, "the body must be a JSON object")
        try:
            return self._run(op, r, table, req, key)
        except sqlite3.IntegrityError as e:
            self.db.conn.rollback()
            return self._error(422, f"constraint failed: {e}")

    def _run(self, op: str, r: Resource, table: Table, req: IncomingRequest, key: Any) -> Answer:
        if op == "list":
            return self._list(r, table, req)
        if op == "create":
            return self._create(r, table, req.body)
        where = {r.id_field: key}
        row = next(iter(self.db.select(r.table, where)), None)
        if row is None:
            return self._error(404, f"no {r.table} row with {r.id_field} = {key!r}")
        if op == "get":
            return self._ok(200, row)
        if op == "delete":
            self.db.conn.execute(
                f"DELETE FROM {quote(r.table)} WHERE {quote(r.id_field)} IS ?", [key]
            )
            return Answer(204, backend="resource", service=self.service.name)
        body: dict[str, Any] = req.body
        unknown = self._unknown(table, body)
        if unknown:
            return self._error(422, f"unknown fields {unknown}")
        if body.get(r.id_field, key) != key:
            return self._error(422, f"{r.id_field} in the body differs from the path")
        changes = body if op == "patch" else {c.name: body.get(c.name) for c in table.columns}
        changes = {k: v for k, v in changes.items() if k != r.id_field}
        self._update(r, key, changes)
        return self._ok(200, self.db.select(r.table, where)[0])

    def _update(self, r: Resource, key: Any, changes: dict[str, Any]) -> None:
        rows = self.db.select(r.table, {r.id_field: key})
        if changes and rows:
            pk = {k: rows[0][k] for k in self.db.table(r.table).primary_key}
            self.db.update(r.table, pk, changes)

    def _unknown(self, table: Table, body: dict[str, Any]) -> list[str]:
        names = {c.name for c in table.columns}
        return sorted(k for k in body if k not in names)

    def _list(self, r: Resource, table: Table, req: IncomingRequest) -> Answer:
        where: dict[str, Any] = {}
        for name in r.filters:
            values = req.query.get(name)
            if not values:
                continue
            try:
                where[name] = _convert(table, name, values[-1])
            except ValueError:
                return self._error(422, f"filter {name}={values[-1]!r} has the wrong type")
        rows = self.db.select(r.table, where)
        return self._ok(200, {r.envelope: rows} if r.envelope else rows)

    def _create(self, r: Resource, table: Table, body: dict[str, Any]) -> Answer:
        unknown = self._unknown(table, body)
        if unknown:
            return self._error(422, f"unknown fields {unknown}")
        row = dict(body)
        if row.get(r.id_field) is None:
            row[r.id_field] = self._new_id(r, table)
        elif self.db.select(r.table, {r.id_field: row[r.id_field]}):
            return self._error(409, f"{r.id_field} {row[r.id_field]!r} exists")
        stored = self.db.insert(r.table, row)
        return self._ok(201, stored)

    def _new_id(self, r: Resource, table: Table) -> Any:
        kind = next(c.type for c in table.columns if c.name == r.id_field)
        col, tab = quote(r.id_field), quote(r.table)
        if kind == "INTEGER":
            (top,) = self.db.conn.execute(f"SELECT COALESCE(MAX({col}), 0) FROM {tab}").fetchone()
            return int(top) + 1
        (n,) = self.db.conn.execute(f"SELECT COUNT(*) FROM {tab}").fetchone()
        while True:
            n += 1
            digest = hashlib.sha256(f"{r.table}:{n}".encode()).digest()
            candidate = str(uuid.UUID(bytes=digest[:16], version=4))
            if not self.db.select(r.table, {r.id_field: candidate}):
                return candidate
