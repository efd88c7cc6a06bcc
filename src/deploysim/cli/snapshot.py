"""`deploysim snapshot ...`: author, check, compare and share environment snapshots."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from deploysim._errors import SnapshotError
from deploysim.cli._output import err_console, print_json, progress
from deploysim.snapshots import (
    SNAPSHOT_FILE,
    SnapshotDiff,
    SnapshotDir,
    UnpackLimits,
    add_file,
    add_service_har,
    add_service_openapi,
    add_table,
    content_hash,
    diff_snapshots,
    exchange_key,
    fake_table,
    load_snapshot,
    new_snapshot,
    pack_snapshot,
    parse_column_spec,
    parse_size,
    unpack_snapshot,
    validate_snapshot,
)

__all__ = ["app"]

app = typer.Typer(
    help="Author, validate, show, diff and share environment snapshots.",
    no_args_is_help=True,
)

SNAPSHOTS_DIR = Path("env_snapshots")

SnapshotArg = Annotated[
    str, typer.Argument(help="Snapshot folder (or its snapshot.yaml), or a name in env_snapshots/.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _resolve(ref: str) -> Path:
    p = Path(ref)
    if p.name == SNAPSHOT_FILE:
        p = p.parent
    if (p / SNAPSHOT_FILE).exists():
        return p
    named = SNAPSHOTS_DIR / ref
    if "/" not in ref and (named / SNAPSHOT_FILE).exists():
        return named
    raise SnapshotError(p / SNAPSHOT_FILE, "no snapshot here (snapshot.yaml is missing)")


def _echo(message: str) -> None:
    err_console.print(message)


# --------------------------------------------------------------------------- authoring


@app.command()
def new(
    name: Annotated[str, typer.Argument(help="Snapshot name, or a folder path ending in it.")],
    directory: Annotated[
        Path, typer.Option("--dir", help="Parent folder when NAME is a bare name.")
    ] = SNAPSHOTS_DIR,
    description: Annotated[str, typer.Option(help="One line saying what it is.")] = "",
    extends: Annotated[
        str | None, typer.Option(help="Snapshot this one overrides (folder or sibling name).")
    ] = None,
    clock: Annotated[
        str | None, typer.Option(help="Frozen clock, ISO 8601 (e.g. 2026-01-15T12:00:00Z).")
    ] = None,
) -> None:
    """Create a snapshot folder with a snapshot.yaml.

    Example: deploysim snapshot new shop --description "Web shop" --clock 2026-01-15T12:00:00Z
    """
    when = None
    if clock is not None:
        try:
            when = datetime.fromisoformat(clock)
        except ValueError as e:
            raise typer.BadParameter(f"{clock!r} is not ISO 8601", param_hint="--clock") from e
    folder = Path(name) if "/" in name else directory / name
    path = new_snapshot(folder, description=description, extends=extends, clock=when)
    _echo(f"created {path}")


@app.command("add-file")
def add_file_(
    snapshot: SnapshotArg,
    path: Annotated[str, typer.Argument(help="Absolute path of the file inside the sandbox.")],
    source: Annotated[
        Path | None, typer.Option("--from", help="Local file to copy (binary allowed).")
    ] = None,
    content: Annotated[str | None, typer.Option(help="Inline text content instead.")] = None,
    inline: Annotated[
        bool, typer.Option(help="Keep --from content inside snapshot.yaml (base64 if binary).")
    ] = False,
    mode: Annotated[str | None, typer.Option(help="Octal mode; default: the source's.")] = None,
    owner: Annotated[str, typer.Option(help="Owner inside the sandbox.")] = "agent",
    group: Annotated[str | None, typer.Option(help="Group; the owner's when omitted.")] = None,
) -> None:
    """Add or replace a file of the sandbox, from a local file or inline text.

    Example: deploysim snapshot add-file env_snapshots/shop /home/agent/.ssh/config
    --from ssh_config --mode 0600
    """
    entry = add_file(
        _resolve(snapshot),
        path,
        source=source,
        content=content,
        inline=inline,
        mode=mode,
        owner=owner,
        group=group,
    )
    where = f"files/{entry.source}" if entry.source else "inline"
    _echo(f"added {entry.path} (mode {entry.mode}, owner {entry.owner}, {where})")


@app.command("add-table")
def add_table_(
    snapshot: SnapshotArg,
    table: Annotated[str, typer.Option("--table", "-t", help="Table name.")],
    database: Annotated[str, typer.Option("--db", help="Database name.")],
    db_path: Annotated[
        str | None, typer.Option(help="Path of the .db file in the sandbox (new databases).")
    ] = None,
    data: Annotated[
        Path | None, typer.Option("--from", help="CSV, TSV, JSON or JSONL file of rows.")
    ] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv, tsv, json or nl; default: by suffix.")
    ] = None,
    column: Annotated[
        list[str] | None,
        typer.Option(
            "--column",
            "-c",
            help="name:TYPE[:pk][:notnull][:ref=table.col][:values=a|b]; repeatable.",
        ),
    ] = None,
    pk: Annotated[list[str] | None, typer.Option("--pk", help="Primary key column(s).")] = None,
    ref: Annotated[
        list[str] | None, typer.Option("--ref", help="Foreign key col=table.col; repeatable.")
    ] = None,
    replace: Annotated[bool, typer.Option(help="Overwrite an existing table.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Add a table from a data file (schema inferred by sqlite-utils) or from column specs.

    Example: deploysim snapshot add-table env_snapshots/shop --db shop --table products
    --from products.csv --db-path /srv/shop/shop.db
    """
    specs = []
    for c in column or []:
        try:
            specs.append(parse_column_spec(c))
        except ValueError as e:
            raise typer.BadParameter(str(e), param_hint="--column") from e
    refs: dict[str, str] = {}
    for r in ref or []:
        col, sep, target = r.partition("=")
        if not sep:
            raise typer.BadParameter(f"{r!r} is not col=table.col", param_hint="--ref")
        refs[col] = target
    keys = list(pk or []) or [s.column.name for s in specs if s.primary_key]
    result = add_table(
        _resolve(snapshot),
        database=database,
        table=table,
        db_path=db_path,
        data=data,
        fmt=fmt,
        columns=[s.column for s in specs] or None,
        primary_key=keys or None,
        references=refs,
        replace=replace,
    )
    t = result.table
    if json_out:
        print_json(
            {
                "database": database,
                "table": t.model_dump(mode="json", exclude={"rows"}),
                "rows": result.rows,
                "primary_key_inferred": result.primary_key_inferred,
                "references_inferred": result.references_inferred,
            }
        )
        return
    how = " (inferred)" if result.primary_key_inferred else ""
    _echo(
        f"added {database}.{t.name}: {len(t.columns)} columns, {result.rows} rows, "
        f"primary key {t.primary_key}{how}"
    )
    for f in result.references_inferred:
        _echo(f"  foreign key inferred: {f}")


@app.command("add-service")
def add_service(
    snapshot: SnapshotArg,
    openapi: Annotated[
        Path | None, typer.Option(help="OpenAPI 3 document (JSON/YAML): resources + exchanges.")
    ] = None,
    har: Annotated[Path | None, typer.Option(help="HAR file: recorded exchanges.")] = None,
    name: Annotated[
        str | None, typer.Option(help="Service name (required with --openapi).")
    ] = None,
    host: Annotated[
        str | None, typer.Option(help="Hostname (overrides servers[0]; filters HAR entries).")
    ] = None,
    database: Annotated[
        str | None, typer.Option("--db", help="Database for resource tables (default: name).")
    ] = None,
    db_path: Annotated[str | None, typer.Option(help="Path of that database's file.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Create or extend a mock service from an OpenAPI document or a HAR recording.

    Example: deploysim snapshot add-service env_snapshots/shop --openapi corvapay.yaml
    --name payments
    """
    if (openapi is None) == (har is None):
        raise typer.BadParameter("give exactly one of --openapi or --har")
    root = _resolve(snapshot)
    if openapi is not None:
        if name is None:
            raise typer.BadParameter("--openapi needs --name", param_hint="--name")
        results = [
            add_service_openapi(
                root, openapi, name=name, hostname=host, database=database, db_path=db_path
            )
        ]
    else:
        assert har is not None
        results = add_service_har(root, har, name=name, hostname=host)
    if json_out:
        print_json(
            [
                {
                    "service": r.service.name,
                    "hostnames": r.service.hostnames,
                    "tables": r.tables,
                    "resources": [x.path for x in r.service.resources],
                    "exchanges_added": r.exchanges_added,
                    "skipped": r.skipped,
                }
                for r in results
            ]
        )
        return
    for r in results:
        s = r.service
        _echo(
            f"service {s.name} ({', '.join(s.hostnames)}): {len(s.resources)} resources, "
            f"{r.exchanges_added} exchanges added, {len(s.exchanges)} in all"
        )
        for t in r.tables:
            _echo(f"  table {t} (empty; fill it with `deploysim snapshot fake`)")
        for sk in r.skipped:
            _echo(f"  [yellow]skipped[/] {escape(sk)}")


@app.command()
def fake(
    snapshot: SnapshotArg,
    table: Annotated[str, typer.Option("--table", "-t", help="Table to fill.")],
    rows: Annotated[int, typer.Option("--rows", "-n", min=1, help="How many rows.")],
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same rows.")],
    locale: Annotated[str, typer.Option(help="Faker locale: en_US, de_DE, ja_JP ...")] = "en_US",
    database: Annotated[
        str | None, typer.Option("--db", help="Database, when several hold the table.")
    ] = None,
    append: Annotated[bool, typer.Option(help="Add to the existing rows, not replace.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Fill a table with realistic Faker rows (by column name and type; foreign keys kept).

    Example: deploysim snapshot fake env_snapshots/shop --table orders --rows 120 --seed 7
    """
    with progress(f"faking {table}"):
        result = fake_table(
            _resolve(snapshot),
            table=table,
            rows=rows,
            seed=seed,
            database=database,
            locale=locale,
            append=append,
        )
    if json_out:
        print_json(
            {
                "table": table,
                "rows": result.rows,
                "rows_file": result.table.rows_file,
                "generic_columns": result.generic_columns,
            }
        )
        return
    _echo(f"{table}: {result.rows} rows in databases/{result.table.rows_file}")
    if result.generic_columns:
        _echo(
            "[yellow]no specific rule for[/] "
            + ", ".join(result.generic_columns)
            + " (generic values of the column type; add `values` or rename to improve)"
        )


# --------------------------------------------------------------------------- checking


@app.command()
def validate(path: SnapshotArg, json_out: JsonOpt = False) -> None:
    """Check a snapshot: every structural error, then content, rows, keys and references.

    Errors name the file and the field. Exits 1 when there is any error.

    Example: deploysim snapshot validate env_snapshots/shop --json
    """
    try:
        root = _resolve(path)
    except SnapshotError:
        root = Path(path)  # validate reports the missing snapshot.yaml itself
    report = validate_snapshot(root)
    if json_out:
        print_json(report.model_dump(mode="json"))
    else:
        console = Console(highlight=False)
        for i in [*report.errors, *report.warnings]:
            colour = "red" if i.level == "error" else "yellow"
            console.print(f"[{colour}]{escape(str(i))}[/]")
        verdict = "[green]ok[/]" if report.ok else "[red]invalid[/]"
        console.print(
            f"{root}: {verdict} ({len(report.errors)} errors, {len(report.warnings)} warnings)"
        )
    if not report.ok:
        raise typer.Exit(1)


def _summary(sd: SnapshotDir) -> dict[str, Any]:
    s = sd.snapshot
    return {
        "name": s.name,
        "version": s.version,
        "description": s.description,
        "path": str(sd.root),
        "hash": content_hash(sd),
        "extends": s.extends,
        "clock": s.clock.isoformat() if s.clock else None,
        "env": sorted(s.env),
        "files": [
            {
                "path": f.path,
                "kind": f.kind,
                "mode": f.mode,
                "owner": f.owner,
                "size": len(sd.file_bytes(f)) if f.kind == "file" else None,
            }
            for f in s.files
        ],
        "repos": [{"path": r.path, "branch": r.branch, "commits": len(r.commits)} for r in s.repos],
        "databases": [
            {
                "name": d.name,
                "path": d.path,
                "tables": [
                    {
                        "name": t.name,
                        "columns": len(t.columns),
                        "primary_key": t.primary_key,
                        "rows": len(sd.table_rows(d, t)),
                    }
                    for t in d.tables
                ],
            }
            for d in s.databases
        ],
        "services": [
            {
                "name": v.name,
                "hostnames": v.hostnames,
                "scheme": v.scheme,
                "database": v.database,
                "resources": [r.path for r in v.resources],
                "exchanges": [exchange_key(e) for e in v.exchanges],
                "function_tools": [t.name for t in v.function_tools],
            }
            for v in s.services
        ],
        "tool_bindings": [b.model_dump(mode="json") for b in s.tool_bindings],
    }


@app.command()
def show(path: SnapshotArg, json_out: JsonOpt = False) -> None:
    """Summarize a snapshot: hash, files, repositories, tables, services, bindings.

    Example: deploysim snapshot show env_snapshots/dev-workstation
    """
    data = _summary(load_snapshot(_resolve(path)))
    if json_out:
        print_json(data)
        return
    c = Console(highlight=False)
    c.print(f"[bold]{data['name']}[/] v{data['version']}  {data['hash'][:16]}")
    if data["description"]:
        c.print(escape(data["description"]))
    c.print(
        f"clock {data['clock'] or '(not frozen)'}; extends {data['extends'] or '-'}; "
        f"env {', '.join(data['env']) or '-'}"
    )
    if data["files"]:
        t = Table("file", "kind", "mode", "owner", "bytes", title="files")
        for f in data["files"]:
            t.add_row(f["path"], f["kind"], f["mode"], f["owner"], str(f["size"] or ""))
        c.print(t)
    for r in data["repos"]:
        c.print(f"repo {r['path']} ({r['branch']}, {r['commits']} commits)")
    for d in data["databases"]:
        t = Table("table", "columns", "primary key", "rows", title=f"{d['name']} ({d['path']})")
        for tb in d["tables"]:
            t.add_row(tb["name"], str(tb["columns"]), ",".join(tb["primary_key"]), str(tb["rows"]))
        c.print(t)
    for v in data["services"]:
        c.print(
            f"service [bold]{v['name']}[/] {v['scheme']}://{', '.join(v['hostnames'])}"
            f" db={v['database'] or '-'}"
        )
        for r in v["resources"]:
            c.print(f"  resource {r}")
        for e in v["exchanges"]:
            c.print(f"  exchange {escape(e)}")
        for f in v["function_tools"]:
            c.print(f"  tool {f}")
    for b in data["tool_bindings"]:
        c.print(
            f"binding {b['tool']} -> {b['backend']}"
            + (f" ({b['service']})" if b.get("service") else "")
        )


_MARK = {"added": "[green]+[/]", "removed": "[red]-[/]", "changed": "[yellow]~[/]"}


def _print_tables(c: Console, d: SnapshotDiff, limit: int) -> None:
    for t in d.tables:
        counts = {s: sum(1 for r in t.rows if r.status == s) for s in _MARK}
        c.print(
            f"{_MARK[t.status]} table {t.database}.{t.table}: "
            f"+{counts['added']} -{counts['removed']} ~{counts['changed']} rows"
        )
        for label, cols in (
            ("columns added", t.columns_added),
            ("columns removed", t.columns_removed),
            ("columns changed", t.columns_changed),
        ):
            if cols:
                c.print(f"    {label}: {', '.join(cols)}")
        for row in t.rows[:limit]:
            changed = f": {', '.join(row.columns)}" if row.columns else ""
            c.print(f"    {_MARK[row.status]} {escape(json.dumps(row.key))}{changed}")
        if len(t.rows) > limit:
            c.print(f"    … {len(t.rows) - limit} more (see --json)")


def _print_services(c: Console, d: SnapshotDiff) -> None:
    for s in d.services:
        c.print(f"{_MARK[s.status]} service {s.name}")
        for h in s.hostnames_added:
            c.print(f"    + hostname {h}")
        for h in s.hostnames_removed:
            c.print(f"    - hostname {h}")
        for what, items in (
            ("route", s.routes),
            ("resource", s.resources),
            ("tool", s.function_tools),
        ):
            for item in items:
                c.print(f"    {_MARK[item.status]} {what} {escape(item.key)}")


def _print_diff(d: SnapshotDiff, limit: int) -> None:
    c = Console(highlight=False)
    if d.empty:
        c.print("no differences")
        return
    for name in d.settings:
        c.print(f"~ setting {name}")
    for label, keyed in (("env", d.env), ("binding", d.tool_bindings), ("repo", d.repos)):
        for k in keyed:
            c.print(f"{_MARK[k.status]} {label} {escape(k.key)}")
    for f in d.files:
        extra = f" ({', '.join(f.changed)})" if f.changed else ""
        c.print(f"{_MARK[f.status]} file {escape(f.path)}{extra}")
    _print_tables(c, d, limit)
    _print_services(c, d)


@app.command()
def diff(
    a: Annotated[str, typer.Argument(help="Snapshot A (before).")],
    b: Annotated[str, typer.Argument(help="Snapshot B (after).")],
    limit: Annotated[int, typer.Option(help="Rows listed per table in text output.")] = 20,
    exit_code: Annotated[
        bool, typer.Option("--exit-code", help="Exit 1 when the snapshots differ.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Compare two snapshots: files, rows by primary key, services' routes and tools.

    Example: deploysim snapshot diff env_snapshots/shop /tmp/shop-after --json
    """
    d = diff_snapshots(load_snapshot(_resolve(a)), load_snapshot(_resolve(b)))
    if json_out:
        print_json({"empty": d.empty, **d.model_dump(mode="json")})
    else:
        _print_diff(d, limit)
    if exit_code and not d.empty:
        raise typer.Exit(1)


# --------------------------------------------------------------------------- sharing


@app.command()
def pack(
    path: SnapshotArg,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Archive to write (<name>.tar.gz).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Pack a snapshot into one deterministic .tar.gz (same snapshot, same bytes).

    A snapshot that extends another is flattened so the archive stands alone.

    Example: deploysim snapshot pack env_snapshots/shop -o shop.tar.gz
    """
    r = pack_snapshot(_resolve(path), output)
    if json_out:
        print_json({"archive": str(r.path), "name": r.name, "hash": r.hash, "files": r.members})
    else:
        _echo(f"packed {r.name} ({r.members} files, hash {r.hash[:16]}) into {r.path}")


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--max-size") from e


@app.command()
def unpack(
    archive: Annotated[Path, typer.Argument(help="A .tar.gz made by `snapshot pack`.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Folder to create (./<name>).")
    ] = None,
    trust: Annotated[
        bool,
        typer.Option(
            "--trust",
            help="Unpack an archive that has no manifest (not made by `snapshot pack`, or by "
            "an older deploysim). Every other check still applies.",
        ),
    ] = False,
    max_size: Annotated[
        str,
        typer.Option(
            "--max-size", help="Cap on the uncompressed size, counted while streaming (4G)."
        ),
    ] = "1G",
    max_members: Annotated[
        int, typer.Option("--max-members", min=1, help="Cap on the number of members.")
    ] = UnpackLimits().max_members,
    max_ratio: Annotated[
        float,
        typer.Option(
            "--max-ratio", min=1, help="Cap on uncompressed / compressed size (past 16 MiB)."
        ),
    ] = UnpackLimits().max_ratio,
    json_out: JsonOpt = False,
) -> None:
    """Unpack an archive into a new folder: refuses unsafe members, checks the manifest.

    Streams the archive once within caps (uncompressed size, members, compression ratio),
    checks every member against the manifest (size and SHA-256), loads the snapshot with
    every check (no system paths, no paths leading out) and compares its content hash.

    Example: deploysim snapshot unpack shop.tar.gz -o env_snapshots/shop-copy

    Example: deploysim snapshot unpack big.tar.gz --max-size 8G --max-ratio 500
    """
    limits = UnpackLimits(max_size=_size(max_size), max_members=max_members, max_ratio=max_ratio)
    r = unpack_snapshot(archive, output, trust=trust, limits=limits)
    if json_out:
        print_json({"folder": str(r.path), "name": r.name, "hash": r.hash, "files": r.members})
    else:
        _echo(f"unpacked {r.name} ({r.members} files, hash {r.hash[:16]}) into {r.path}")
