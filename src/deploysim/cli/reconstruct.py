"""`deploysim reconstruct` and `deploysim fidelity`: rebuild a snapshot from traces, prove it.

Two callables meant to be mounted as top-level commands (``reconstruct_command``,
``fidelity_command``); ``app`` holds both, for tests and for mounting as a group. The
reconstruction machinery, FastAPI and Docker are imported inside the commands, so that
``import deploysim.cli`` stays light.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from deploysim._errors import InputError, SnapshotError
from deploysim.cli._output import err_console, print_json, progress, warn_skipped_links
from deploysim.cli._reading import FollowOpt, MaxRatioOpt, MaxUncompressedOpt, Reading, reading_from

if TYPE_CHECKING:
    from deploysim.reconstruct import FidelityReport, ReconstructResult
    from deploysim.traces import ToolSpec, Trace

__all__ = ["app", "fidelity_command", "reconstruct_command"]

app = typer.Typer(
    help="Rebuild an environment snapshot from traces, and prove it by replaying the calls.",
    no_args_is_help=True,
)

Inputs = Annotated[
    list[Path], typer.Argument(help="Trace files or directories of one environment.", exists=True)
]
ToolsOpt = Annotated[
    Path | None,
    typer.Option("--tools", help="JSON list of tool definitions, for traces that carry none."),
]
FormatOpt = Annotated[
    str | None,
    typer.Option("--format", "-f", help="Importer to use; detected from content when omitted."),
]
SkipOpt = Annotated[
    bool, typer.Option("--skip-invalid", help="Skip malformed trace records instead of failing.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _load(
    inputs: list[Path], tools: Path | None, fmt: str | None, skip: bool, reading: Reading
) -> tuple[list[Trace], list[ToolSpec]]:
    from deploysim.traces import import_traces, load_tools_file

    specs = load_tools_file(tools) if tools else []
    result = import_traces(
        inputs,
        format=fmt,
        tools=specs,
        skip_invalid=skip,
        limits=reading.limits,
        follow_symlinks=reading.follow_symlinks,
    )
    warn_skipped_links(result.skipped_links)
    for s in result.skipped:
        err_console.print(f"[yellow]skipped[/] {escape(str(s))}")
    if not result.traces:
        raise InputError(f"no traces found in {', '.join(map(str, inputs))}")
    return result.traces, specs


def _print_result(result: ReconstructResult) -> None:
    console = Console(highlight=False)
    console.print(
        f"wrote [bold]{escape(result.snapshot)}[/] from {result.traces} traces ({result.calls} "
        f"calls): {result.facts} facts, {result.files} files, {result.tables} tables "
        f"({result.rows} rows), {result.services} services, {result.function_tools} function "
        f"tools, {len(result.conflicts)} conflicts"
    )
    table = Table("tool", "kind", "effect", "served as", "calls", "learned")
    for t in result.tools:
        note = f" [dim]({escape('; '.join(t.notes))})[/]" if t.notes else ""
        table.add_row(t.tool, t.kind, t.effect, t.strategy, str(t.calls), escape(t.detail) + note)
    console.print(table)
    for c in result.conflicts[:10]:
        kp, op = c.kept_provenance, c.other_provenance
        console.print(
            f"[yellow]conflict[/] {escape(c.subject)}: kept {escape(c.kept)} "
            f"({kp.trace_id} message {kp.message_index}), other {escape(c.other)} "
            f"({op.trace_id} message {op.message_index})"
        )
    if len(result.conflicts) > 10:
        console.print(f"... and {len(result.conflicts) - 10} more conflicts (--json lists none)")
    if result.effects:
        console.print(f"{len(result.effects)} changes by the original agent kept out of the state")
    for w in result.warnings[:10]:
        console.print(f"[yellow]warning[/] {escape(w)}")


def reconstruct_command(
    traces: Inputs,
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="Snapshot folder to write (its name is the snapshot's)."
        ),
    ],
    tools: ToolsOpt = None,
    effects: Annotated[
        Path | None,
        typer.Option(
            "--effects",
            help="JSON object tool -> read / write / generic (tau2's tool types); wins over "
            "what tool names and the traces suggest.",
        ),
    ] = None,
    closed_world: Annotated[
        bool,
        typer.Option(
            "--closed-world",
            help="Entities the traces never showed do not exist: lookups of unknown keys get "
            "the tool's 'not found' answer instead of no answer.",
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing snapshot folder.")
    ] = False,
    fmt: FormatOpt = None,
    skip_invalid: SkipOpt = False,
    max_uncompressed: MaxUncompressedOpt = None,
    max_ratio: MaxRatioOpt = None,
    follow_symlinks: FollowOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Rebuild, from traces alone, the environment they ran against, as a snapshot folder.

    Observations are pooled across traces; conflicting ones are reported, never merged; every
    fact keeps its provenance (trace, message, call). Function tools become an entity store
    with learned lookups and writes (recorded pairs where nothing generalizes); shell, editor,
    SQL and HTTP tools give files, databases and mocked services. --json prints {"snapshot",
    "facts", "files", "tables", "rows", "services", "function_tools", "conflicts", "skipped"}
    (skipped: system paths the traces showed, left out so the image's own are used).

    Example: deploysim reconstruct traces.json --tools tool_schemas.json -o env_snapshots/airline2
    """
    from deploysim.reconstruct import load_effects_file, reconstruct

    reading = reading_from(max_uncompressed, max_ratio, follow_symlinks)
    loaded, specs = _load(traces, tools, fmt, skip_invalid, reading)
    declared = load_effects_file(effects) if effects else None
    result = reconstruct(
        loaded, output, tools=specs, effects=declared, closed_world=closed_world, force=force
    )
    if json_out:
        print_json(result.summary())
    else:
        _print_result(result)


def _resolve(ref: str) -> Path:
    p = Path(ref)
    if p.name == "snapshot.yaml":
        p = p.parent
    if (p / "snapshot.yaml").exists():
        return p
    named = Path("env_snapshots") / ref
    if "/" not in ref and (named / "snapshot.yaml").exists():
        return named
    raise SnapshotError(p / "snapshot.yaml", "no snapshot here (snapshot.yaml is missing)")


def _print_report(report: FidelityReport, details: bool) -> None:
    console = Console(highlight=False)
    s = report.summary()
    console.print(
        f"{s['reproduced']}/{s['calls']} calls reproduced ({s['rate']:.1%}); "
        f"{s['differs']} differ, {s['not_reproducible']} not reproducible"
        + (" [yellow](stopped at the first difference)[/]" if report.stopped_early else "")
    )
    by_tool = Table("tool", "calls", "reproduced", "differs", "not reproducible")
    for name, t in report.by_tool().items():
        by_tool.add_row(
            name, str(t.calls), str(t.reproduced), str(t.differs), str(t.not_reproducible)
        )
    console.print(by_tool)
    by_trace = Table("trace", "calls", "reproduced", "differs", "not reproducible")
    for tr in report.by_trace():
        counts = (tr.calls, tr.reproduced, tr.differs, tr.not_reproducible)
        by_trace.add_row(tr.trace_id, *map(str, counts))
    console.print(by_trace)
    for reason, n in report.reasons().items():
        console.print(f"not reproducible ({n}): {escape(reason)}")
    shown = [r for r in report.results if r.status != "reproduced"]
    for r in shown if details else shown[:5]:
        console.print(f"[bold]{escape(r.trace_id)}[/] call {r.seq} {escape(r.tool)}: {r.status}")
        text = r.diff or r.note or ""
        if text:
            console.print(escape(text), markup=True)
    if not details and len(shown) > 5:
        console.print(f"... {len(shown) - 5} more (--details shows every one)")


def fidelity_command(
    snapshot: Annotated[
        str,
        typer.Argument(help="Snapshot folder (or its snapshot.yaml), or a name in env_snapshots/."),
    ],
    traces: Inputs,
    tools: ToolsOpt = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Stop at the first call not reproduced.")
    ] = False,
    in_process: Annotated[
        bool,
        typer.Option(
            "--in-process",
            help="Serve function tools in this process, without a pod (function-tool-only "
            "snapshots; no Docker needed).",
        ),
    ] = False,
    volatile: Annotated[
        list[str] | None,
        typer.Option(
            "--volatile",
            help="TOOL:FIELD (a JSON key) or TOOL:re:PATTERN to ignore when comparing; TOOL * "
            "for every tool. Repeatable.",
        ),
    ] = None,
    details: Annotated[bool, typer.Option("--details", help="Show every difference.")] = False,
    fmt: FormatOpt = None,
    skip_invalid: SkipOpt = False,
    max_uncompressed: MaxUncompressedOpt = None,
    max_ratio: MaxRatioOpt = None,
    follow_symlinks: FollowOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Replay every recorded call against a snapshot, in order, and compare the outputs.

    Each trace starts from a fresh state in a real pod (function tools via its services
    sidecar, shell and editor tools in its workspace); outputs are compared exactly, then
    normalized (whitespace, key order, declared volatile fields). Reports per trace and per
    tool: reproduced, differs (with a diff), not reproducible (and why). --json prints
    {"calls", "reproduced", "differs", "not_reproducible", "rate", "by_tool"}; --strict exits
    1 at the first difference.

    Example: deploysim fidelity env_snapshots/airline2 traces.json --tools tool_schemas.json --json
    """
    from deploysim.reconstruct import fidelity, parse_volatile

    root = _resolve(snapshot)
    reading = reading_from(max_uncompressed, max_ratio, follow_symlinks)
    loaded, specs = _load(traces, tools, fmt, skip_invalid, reading)
    try:
        declared = parse_volatile(volatile or [])
    except ValueError as e:
        raise InputError(f"--volatile: {e}") from e
    total = sum(len(t.tool_calls()) for t in loaded)
    with progress("replaying calls", total) as bar:

        def advance(_: Any) -> None:
            bar.advance(bar.task_ids[0])

        report = fidelity(
            root,
            loaded,
            in_process=in_process,
            strict=strict,
            volatile=declared,
            tools=specs,
            on_call=advance,
        )
    if json_out:
        print_json(report.summary())
    else:
        _print_report(report, details)
    if strict and report.stopped_early:
        raise typer.Exit(1)


app.command("reconstruct")(reconstruct_command)
app.command("fidelity")(fidelity_command)
