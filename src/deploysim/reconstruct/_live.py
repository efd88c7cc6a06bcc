"""Shell, editor, SQL and HTTP tools (outside SWE-agent): files, databases, services.

One extractor reads the four kinds together because they overlap: a shell runs ``sqlite3``
and ``curl`` as often as an SQL or HTTP tool does, and all of them write files. Relative
paths are resolved against the snapshot's working directory (``/home/agent``): a recorded
shell does not say where it stood, and the replayed one starts there.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from typing import Any

from deploysim.reconstruct._calls import CallObs
from deploysim.reconstruct._draft import SnapshotDraft
from deploysim.reconstruct._files import FileBook
from deploysim.reconstruct._http import HttpBook, curl_call, http_call
from deploysim.reconstruct._model import ToolReport
from deploysim.reconstruct._registry import ExtractContext, Extractor, extractor
from deploysim.reconstruct._shellobs import FileLines, FileMeta, Seen, Written, shell_facts
from deploysim.reconstruct._sql import SqlBook, sqlite3_command
from deploysim.reconstruct._tables import _type
from deploysim.snapshots import Column, FileEntry, Provenance, Resource, Service, Table, ToolBinding
from deploysim.traces import ToolSpec, Trace

__all__ = ["LiveExtractor", "editor_facts"]

WORKDIR = "/home/agent"
_KINDS = {"shell", "editor", "sql", "http"}


def _arg(args: dict[str, Any], *names: str) -> str | None:
    for n in names:
        if isinstance(args.get(n), str):
            return str(args[n])
        if isinstance(args.get(n), list) and all(isinstance(x, str) for x in args[n]):
            return "\n".join(args[n])
    return None


def editor_facts(args: dict[str, Any], output: str) -> list[Seen]:
    """What an editor call (Anthropic's text editor, ``apply_patch``) shows or changes."""
    path = _arg(args, "path", "file_path", "filename")
    if path is None:
        return []
    path = posixpath.normpath(posixpath.join(WORKDIR, path))
    command = args.get("command") or args.get("type")
    if command == "view":
        if "files and directories" in output:
            return [
                FileMeta(p.strip(), "file")
                for p in output.split("\n")[1:]
                if p.strip().startswith("/")
            ]
        found = [(int(n), t) for n, t in re.findall(r"^\s*(\d+)\t(.*)$", output, re.M)]
        rng = args.get("view_range")
        # The editor numbers the pieces of content.split("\n"): a file ending with a newline
        # shows one last empty line, which is not a line of the file.
        if not rng and found and found[-1][1] == "":
            found = found[:-1]
        total = len(found) if not rng and found and found[0][0] == 1 else None
        if found and total and [n for n, _ in found] == list(range(1, total + 1)):
            return [FileLines(path, 1, [t for _, t in found], total)]
        return [FileLines(path, n, [t], None) for n, t in found]
    if command in ("create", "str_replace", "insert", "undo_edit", "create_file", "update_file"):
        return [Written(path, "created" if command in ("create", "create_file") else "changed")]
    if command in ("delete", "delete_file"):
        return [Written(path, "removed")]
    return []


def _sql_names(args: dict[str, Any]) -> tuple[str | None, str | None]:
    return _arg(args, "query", "sql", "statement", "command"), _arg(
        args, "database", "db", "db_path"
    )


@extractor(priority=50)
class LiveExtractor(Extractor):
    """Shell, editor, SQL and HTTP tools: files, SQLite databases, mocked services."""

    name = "live"

    def claims(self, spec: ToolSpec, trace: Trace) -> bool:
        """Tools of a live kind."""
        return spec.kind in _KINDS

    def extract(self, ctx: ExtractContext) -> None:
        """Pool every trace's observations, then write files, databases and services."""
        files = FileBook()
        dbs: dict[str, SqlBook] = {}
        http = HttpBook()
        default_db = f"/srv/{ctx.options.name}/{ctx.options.name}.db"
        for tc in ctx.calls():
            written: set[str] = set()
            sql_written: dict[str, set[str]] = defaultdict(set)
            http_written: set[tuple[str, str]] = set()
            for call in tc.calls:
                kind = ctx.specs[call.tool].kind
                self._one(
                    call, kind, files, dbs, http, default_db, written, sql_written, http_written
                )
        ctx.draft.conflicts.extend(files.conflicts)
        ctx.draft.effects.extend(files.effects)
        ctx.draft.skip(list(files.skipped.values()))
        _emit_files(ctx.draft, files)
        for path, book in dbs.items():
            _emit_db(ctx.draft, path, book)
        _emit_http(ctx.draft, http)
        for tool, calls in sorted(ctx.by_tool().items()):
            spec = ctx.specs[tool]
            ctx.draft.tools.append(
                ToolReport(
                    tool=tool,
                    kind=spec.kind,
                    effect=spec.effect,
                    strategy="live",
                    calls=len(calls),
                    detail=f"runs live in the pod ({spec.kind})",
                )
            )
            ctx.draft.bindings[tool] = ToolBinding(tool=tool, backend="live")

    def _one(
        self,
        call: CallObs,
        kind: str,
        files: FileBook,
        dbs: dict[str, SqlBook],
        http: HttpBook,
        default_db: str,
        written: set[str],
        sql_written: dict[str, set[str]],
        http_written: set[tuple[str, str]],
    ) -> None:
        prov = call.provenance(call.tool)
        if kind == "sql":
            sql, db = _sql_names(call.args)
            if sql is not None:
                path = db if db and db.startswith("/") else default_db
                if not files.admit(path, prov):
                    return
                dbs.setdefault(path, SqlBook(path)).observe(
                    call, sql, call.output, "json", sql_written[path]
                )
            return
        if kind == "http":
            h = http_call(call)
            if h is not None:
                http.observe(h, http_written)
            return
        if kind == "editor":
            for seen in editor_facts(call.args, call.output):
                files.add(seen, prov, written)
            return
        command = _arg(call.args, "command", "cmd", "commands", "script") or ""
        sq = sqlite3_command(command)
        if sq is not None:
            path = posixpath.normpath(posixpath.join(WORKDIR, sq[0]))
            if not files.admit(path, prov):
                return
            dbs.setdefault(path, SqlBook(path)).observe(
                call, sq[1], call.output, sq[2], sql_written[path]
            )
            return
        h = curl_call(command, call)
        if h is not None:
            http.observe(h, http_written)
            return
        for seen in shell_facts(command, call.output, WORKDIR):
            files.add(seen, prov, written)


def _emit_files(draft: SnapshotDraft, book: FileBook) -> None:
    book.settle_kinds()
    for path, f in sorted(book.files.items()):
        if path in ("/", WORKDIR):
            continue
        prov = (f.provenance[0] if f.provenance else Provenance(source="trace")).model_copy(
            update={
                "detail": f"{path}: lines {f.seen_ranges()} seen" if f.lines else f"{path}: exists"
            }
        )
        try:
            if f.kind == "dir":
                entry = FileEntry(path=path, kind="dir", mode=f.mode or "0755", provenance=[prov])
                draft.add_file(entry)
            else:
                entry = FileEntry(path=path, content="", mode=f.mode or "0644", provenance=[prov])
                draft.add_file(entry, f.content())
        except ValueError as e:
            draft.warnings.append(f"{path}: not kept in the snapshot: {e}")
            continue
        draft.facts += max(1, len(f.lines))


def _emit_db(draft: SnapshotDraft, path: str, book: SqlBook) -> None:
    name = re.sub(r"[^a-z0-9_-]", "-", posixpath.basename(path).rsplit(".", 1)[0].lower())
    name = name.strip("-_") or "db"
    tables = book.finish()
    draft.conflicts.extend(book.conflicts)
    draft.warnings.extend(book.warnings)
    draft.facts += book.facts
    for table, rows in tables:
        draft.add_table(name, path, table, rows)


def _emit_http(draft: SnapshotDraft, book: HttpBook) -> None:
    for host, exchanges in sorted(book.exchanges.items()):
        name = host.replace(".", "-")
        resources, covered = [], set()
        for (h, _), c in sorted(book.collections.items()):
            if h != host or c.id_field is None or not c.rows or not c.methods - {"list"}:
                continue
            table = _resource_table(name, c.path, c.id_field, [c.rows[k] for k in c.order])
            draft.add_table(
                name,
                f"/srv/{name}/{name}.db",
                table,
                [{col.name: c.rows[k].get(col.name) for col in table.columns} for k in c.order],
            )
            methods = sorted({"list", "get"} | c.methods)
            resources.append(
                Resource(
                    path=c.path,
                    table=table.name,
                    id_field=c.id_field,
                    methods=methods,
                    envelope=c.envelope,
                )
            )
            covered.add(c.path)
            draft.facts += len(c.rows)
        kept = [
            e
            for e in exchanges
            if e.response.status >= 400
            or not any(
                e.request.path.rstrip("/") == p or e.request.path.startswith(p + "/")
                for p in covered
            )
        ]
        draft.facts += len(kept)
        draft.services.append(
            Service(
                name=name,
                hostnames=[host],
                scheme="https",
                database=name if resources else None,
                exchanges=kept,
                resources=resources,
                provenance=[
                    Provenance(source="trace", detail=f"{len(exchanges)} requests to {host}")
                ],
            )
        )


def _resource_table(service: str, path: str, id_field: str, rows: list[dict[str, Any]]) -> Table:
    name = re.sub(r"[^a-z0-9_]", "_", path.strip("/").split("/")[-1].lower()) or "items"
    names: list[str] = []
    for r in rows:
        names += [k for k in r if k not in names]
    columns = [
        Column(name=n, type=_type((r.get(n) for r in rows), n == id_field), nullable=n != id_field)
        for n in names
    ]
    return Table(
        name=name,
        columns=columns,
        primary_key=[id_field],
        provenance=[Provenance(source="trace", detail=f"{service} {path}: {len(rows)} items")],
    )
