"""`deploysim traces ...`: import, show, validate and count recorded agent traces."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from deploysim.cli._output import err_console, print_json, progress, warn_skipped_links
from deploysim.cli._reading import FollowOpt, MaxRatioOpt, MaxUncompressedOpt, Reading, reading_from
from deploysim.traces import (
    ImportResult,
    Reasoning,
    Text,
    ToolCall,
    ToolResult,
    ToolSpec,
    Trace,
    duplicate_ids,
    get_importer,
    import_traces,
    importer_names,
    load_tools_file,
    trace_stats,
    validate,
    write_traces,
)

__all__ = ["app"]

app = typer.Typer(
    help="Import, show, validate and count recorded agent traces.",
    no_args_is_help=True,
)

Inputs = Annotated[
    list[Path], typer.Argument(help="Trace files or directories (JSON, JSONL, .eval, .traj, YAML).")
]
FormatOpt = Annotated[
    str | None,
    typer.Option("--format", "-f", help="Importer to use; detected from content when omitted."),
]
ToolsOpt = Annotated[
    Path | None,
    typer.Option("--tools", help="JSON list of tool definitions, for traces that carry none."),
]
SkipOpt = Annotated[
    bool,
    typer.Option("--skip-invalid", help="Skip malformed records (listed) instead of failing."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _load(
    inputs: list[Path],
    fmt: str | None,
    tools: Path | None,
    skip_invalid: bool,
    reading: Reading,
) -> ImportResult:
    if fmt:
        get_importer(fmt)  # fail early, with the list of known formats
    specs: list[ToolSpec] = load_tools_file(tools) if tools else []
    with progress("importing records") as bar:
        task = bar.task_ids[0]
        result = import_traces(
            inputs,
            format=fmt,
            tools=specs,
            skip_invalid=skip_invalid,
            on_record=lambda: bar.advance(task),
            limits=reading.limits,
            follow_symlinks=reading.follow_symlinks,
        )
    warn_skipped_links(result.skipped_links)
    for s in result.skipped:
        err_console.print(f"[yellow]skipped[/] {escape(str(s))}", soft_wrap=True)
    for ig in result.ignored:
        err_console.print(f"[dim]ignored {escape(ig.path)}: {escape(ig.reason)}[/]")
    return result


@app.command("import")
def import_(
    inputs: Inputs,
    output: Annotated[Path, typer.Option("--output", "-o", help="Canonical JSONL to write.")],
    format: FormatOpt = None,
    tools: ToolsOpt = None,
    skip_invalid: SkipOpt = False,
    max_uncompressed: MaxUncompressedOpt = None,
    max_ratio: MaxRatioOpt = None,
    follow_symlinks: FollowOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Normalize traces into canonical JSONL, one trace per line.

    Importing the written file again gives equal traces.

    Example: deploysim traces import ../shared/data/traces/tau-bench-airline/traces.json
    --tools ../shared/data/traces/tau-bench-airline/tool_schemas.json -o airline.jsonl

    Example: deploysim traces import big-run.eval --max-uncompressed 2GiB -o big.jsonl
    """
    reading = reading_from(max_uncompressed, max_ratio, follow_symlinks)
    result = _load(inputs, format, tools, skip_invalid, reading)
    n = write_traces(result.traces, output)
    if json_out:
        print_json(
            {
                "output": str(output),
                "traces": n,
                "files": [
                    {"path": f.path, "format": f.format, "traces": len(f.traces)}
                    for f in result.files
                ],
                "skipped": [s.model_dump() for s in result.skipped],
                "ignored": [i.model_dump() for i in result.ignored],
                "skipped_links": [link.model_dump() for link in result.skipped_links],
            }
        )
    else:
        err_console.print(
            f"wrote {n} traces from {len(result.files)} files to {output}"
            + (f" ({len(result.skipped)} records skipped)" if result.skipped else "")
        )


def _stats_json(result: ImportResult) -> dict[str, Any]:
    inputs = [
        {"path": f.path, "format": f.format, **trace_stats(f.traces).model_dump()}
        for f in result.files
    ]
    return {"inputs": inputs, "total": trace_stats(result.traces).model_dump()}


@app.command()
def stats(
    inputs: Inputs,
    tools: ToolsOpt = None,
    format: FormatOpt = None,
    skip_invalid: SkipOpt = False,
    max_uncompressed: MaxUncompressedOpt = None,
    max_ratio: MaxRatioOpt = None,
    follow_symlinks: FollowOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Count traces, messages, tool calls and results, pairing, and calls per tool.

    Example: deploysim traces stats ../shared/data/traces/tau2-retail/traces.json --json
    """
    reading = reading_from(max_uncompressed, max_ratio, follow_symlinks)
    result = _load(inputs, format, tools, skip_invalid, reading)
    data = _stats_json(result)
    if json_out:
        print_json(data)
        return
    table = Table(
        "input",
        "format",
        "traces",
        "messages",
        "calls",
        "results",
        "unpaired calls",
        "unpaired results",
        "tools",
    )
    for row in [*data["inputs"], {**data["total"], "path": "total", "format": ""}]:
        table.add_row(
            row["path"],
            row["format"],
            *(
                str(row[k])
                for k in (
                    "traces",
                    "messages",
                    "tool_calls",
                    "tool_results",
                    "unpaired_calls",
                    "unpaired_results",
                    "tools",
                )
            ),
        )
    console = Console()
    if not console.is_terminal:  # piped or logged: do not squeeze the table into 80 columns
        console = Console(width=200)
    console.print(table)
    by_tool = data["total"]["by_tool"]
    if by_tool:
        console.print("calls by tool: " + ", ".join(f"{k} {v}" for k, v in by_tool.items()))


@app.command("validate")
def validate_(
    inputs: Inputs,
    tools: ToolsOpt = None,
    format: FormatOpt = None,
    max_uncompressed: MaxUncompressedOpt = None,
    max_ratio: MaxRatioOpt = None,
    follow_symlinks: FollowOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Report problems in traces: pairing, ids, argument JSON, schema fit, undeclared tools.

    Trace ids must be unique across all inputs (every later stage keys by them).

    Malformed records are reported as errors too. Exits 1 when any finding is an error.

    Example: deploysim traces validate airline.jsonl
    """
    reading = reading_from(max_uncompressed, max_ratio, follow_symlinks)
    result = _load(inputs, format, tools, True, reading)
    findings = duplicate_ids(result.traces) + [f for t in result.traces for f in validate(t)]
    bad_records = result.skipped
    n_errors = sum(f.level == "error" for f in findings) + len(bad_records)
    if json_out:
        print_json(
            {
                "traces": len(result.traces),
                "errors": n_errors,
                "warnings": sum(f.level == "warning" for f in findings),
                "malformed_records": [s.model_dump() for s in bad_records],
                "findings": [f.model_dump() for f in findings],
            }
        )
    else:
        console = Console(highlight=False)
        for f in findings:
            colour = "red" if f.level == "error" else "yellow"
            console.print(f"[{colour}]{escape(str(f))}[/]")
        console.print(
            f"{len(result.traces)} traces: {n_errors} errors, "
            f"{sum(f.level == 'warning' for f in findings)} warnings"
        )
    if n_errors:
        raise typer.Exit(1)


def _render(trace: Trace, console: Console, width: int) -> None:
    console.rule(escape(f"{trace.id}  ({trace.source.format}, {trace.source.path})"), style="bold")
    if trace.metadata:
        meta = _clip(json.dumps(trace.metadata, default=str), width)
        console.print(f"[dim]metadata: {escape(meta)}[/]")
    if trace.tools:
        console.print(
            "[dim]tools: "
            + ", ".join(f"{t.name} ({t.kind}/{t.effect})" for t in trace.tools)
            + "[/]"
        )
    for i, m in enumerate(trace.messages):
        colour = {"system": "magenta", "user": "green", "assistant": "cyan", "tool": "yellow"}
        console.print(
            f"[bold {colour[m.role]}]\\[{i}] {m.role}[/]"
            + (f" [dim]({m.name})[/]" if m.name else "")
        )
        for p in m.parts:
            if isinstance(p, Text):
                console.print(_clip(p.text, width * 6), markup=False)
            elif isinstance(p, Reasoning):
                text = _clip(p.text or "(opaque)", width * 2)
                console.print(f"[dim italic]reasoning: {escape(text)}[/]")
            elif isinstance(p, ToolCall):
                args = p.raw_arguments if p.arguments is None else json.dumps(p.arguments)
                who = "" if p.requestor == "assistant" else f" [dim](by {p.requestor})[/]"
                console.print(
                    f"  [bold]→ {p.name}[/]({_clip(args or '', width * 2)}) [dim]id={p.id}[/]{who}"
                )
            elif isinstance(p, ToolResult):
                flag = " [red]ERROR[/]" if p.is_error else ""
                console.print(f"  [bold]←[/] {escape(p.call_id)}{flag}")
                console.print(_clip(p.output, width * 4), markup=False)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f" … [{len(text) - limit} more chars]"


@app.command()
def show(
    file: Annotated[Path, typer.Argument(help="A trace file (any supported format).")],
    trace: Annotated[str | None, typer.Option("--trace", "-t", help="Trace id to show.")] = None,
    format: FormatOpt = None,
    tools: ToolsOpt = None,
    max_uncompressed: MaxUncompressedOpt = None,
    max_ratio: MaxRatioOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Render one trace readably, with tool calls and results visible.

    Without --trace, shows the first trace and lists the others' ids.

    Example: deploysim traces show airline.jsonl --trace task-3/trial-0
    """
    reading = reading_from(max_uncompressed, max_ratio, follow=False)
    result = _load([file], format, tools, False, reading)
    traces = result.traces
    if not traces:
        err_console.print(f"{file}: no traces")
        raise typer.Exit(1)
    chosen = traces[0] if trace is None else next((t for t in traces if t.id == trace), None)
    if chosen is None:
        ids = ", ".join(t.id for t in traces[:20])
        err_console.print(f"{file}: no trace with id {trace!r}; ids: {ids}")
        raise typer.Exit(1)
    if json_out:
        print_json(chosen.model_dump(mode="json", exclude={"raw"}))
        return
    console = Console(highlight=False)
    _render(chosen, console, console.width)
    if trace is None and len(traces) > 1:
        err_console.print(f"[dim]{len(traces)} traces in {file}; pick one with --trace ID[/]")


@app.command()
def formats(json_out: JsonOpt = False) -> None:
    """List the trace formats deploysim can import, in detection order.

    Example: deploysim traces formats --json
    """
    rows = [{"name": n, "description": get_importer(n).description} for n in importer_names()]
    if json_out:
        print_json(rows)
        return
    for r in rows:
        typer.echo(f"{r['name']:<22} {r['description']}")
