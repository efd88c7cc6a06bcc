"""`deploysim scenario ...`: create, validate and list replay scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from deploysim.cli._output import err_console, print_json, warn_skipped_links
from deploysim.replay import parse_cut
from deploysim.replay._author import list_scenarios, new_scenario, validate_scenario

__all__ = ["app"]

app = typer.Typer(
    help="Create, validate and list replay scenarios (scenarios/<suite>/<name>.yaml).",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _cut(value: str) -> str | int:
    try:
        return parse_cut(value)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from e


@app.command("new")
def new(
    out: Annotated[Path, typer.Argument(help="Scenario file to write, e.g. scenarios/x/y.yaml.")],
    traces: Annotated[
        list[Path], typer.Option("--traces", help="Trace file or folder (repeatable).")
    ],
    tools: Annotated[
        Path | None, typer.Option("--tools", help="Tool definitions, for traces without them.")
    ] = None,
    snapshot: Annotated[
        Path | None, typer.Option("--snapshot", help="Snapshot folder the pods start from.")
    ] = None,
    reconstruct: Annotated[
        Path | None,
        typer.Option("--reconstruct", help="Rebuild a snapshot from the traces into this folder."),
    ] = None,
    cut: Annotated[str, typer.Option("--cut", help="last, each, or a turn number K.")] = "last",
    mode: Annotated[
        str, typer.Option("--mode", help="resample, rollout or original.")
    ] = "resample",
    grader: Annotated[
        list[str] | None, typer.Option("--grader", help="Grader name (repeatable).")
    ] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Tag (repeatable).")] = None,
    description: Annotated[str, typer.Option("--description", help="One paragraph.")] = "",
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Write a scenario for traces, against a snapshot (or one rebuilt from the traces).

    Without --snapshot or --reconstruct every tool is answered from the recorded calls.

    Example: deploysim scenario new scenarios/x/a.yaml --traces t.jsonl --snapshot env_snapshots/x
    """
    if mode not in ("resample", "rollout", "original"):
        raise typer.BadParameter("mode must be resample, rollout or original")
    path = new_scenario(
        out,
        [str(t) for t in traces],
        tools=tools,
        snapshot=snapshot,
        reconstruct_to=reconstruct,
        cut=_cut(cut),  # type: ignore[arg-type]
        mode=mode,  # type: ignore[arg-type]
        graders=grader or [],
        tags=tag or [],
        description=description,
        force=force,
    )
    report = validate_scenario(path)
    warn_skipped_links(report.skipped_links)
    if json_out:
        print_json({"path": str(path), **report.model_dump(exclude={"path"})})
        return
    typer.echo(f"wrote {path}: {report.traces} traces, {report.samples} samples")
    if snapshot is None and reconstruct is None:
        err_console.print("[yellow]no snapshot:[/] every tool is answered from recorded calls")
    for w in report.warnings:
        err_console.print(f"[yellow]warning[/] {escape(w)}")


@app.command("validate")
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Scenario files.")],
    json_out: JsonOpt = False,
) -> None:
    """Load scenarios with their traces and snapshots; report errors and warnings.

    Exits 1 when a scenario has an error.

    Example: deploysim scenario validate scenarios/tau-bench-airline/*.yaml
    """
    reports = [validate_scenario(p) for p in paths]
    for r in reports:
        warn_skipped_links(r.skipped_links)
    if json_out:
        print_json([r.model_dump() for r in reports])
    else:
        for r in reports:
            state = "[green]ok[/]" if r.ok else "[red]invalid[/]"
            Console().print(
                f"{escape(r.path)}: {state} ({r.traces} traces, {r.samples} samples, "
                f"bindings {r.bindings})",
                highlight=False,
            )
            for e in r.errors:
                err_console.print(f"  [red]error[/] {escape(e)}")
            for w in r.warnings:
                err_console.print(f"  [yellow]warning[/] {escape(w)}")
    if not all(r.ok for r in reports):
        raise typer.Exit(1)


@app.command("list")
def list_(
    root: Annotated[Path, typer.Argument(help="Folder of suites.")] = Path("scenarios"),
    json_out: JsonOpt = False,
) -> None:
    """List the scenarios under a folder: suite, name, mode, cut, snapshot, tags.

    Example: deploysim scenario list scenarios --json
    """
    infos = list_scenarios(root)
    if json_out:
        print_json([i.model_dump() for i in infos])
        return
    table = Table("suite", "name", "mode", "cut", "snapshot", "tags")
    for i in infos:
        name = i.name if i.error is None else f"{i.name} [red](invalid: {escape(i.error)})[/]"
        table.add_row(i.suite, name, i.mode, i.cut, i.snapshot or "-", ", ".join(i.tags))
    Console().print(table)
