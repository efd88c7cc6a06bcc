"""`deploysim scrub`: replace private data in traces with consistent pseudonyms."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from deploysim._errors import InputError, PrivacyError
from deploysim.cli._output import err_console, print_json, progress, warn_skipped_links
from deploysim.cli._reading import FollowOpt, MaxRatioOpt, MaxUncompressedOpt, reading_from
from deploysim.traces import ToolSpec, get_importer, load_tools_file

__all__ = [
    "EXIT_GATE_FAILED",
    "EXIT_INPUT_ERROR",
    "EXIT_PASSED",
    "EXIT_UNSAFE",
    "app",
    "scrub",
]

# Exit codes. A failed gate has a code of its own, which no crash can produce (Python exits
# 1 on an uncaught exception), so bad input can never be read as "the gate found a leak".
EXIT_PASSED = 0
EXIT_INPUT_ERROR = 2  # unreadable or hostile input: a malformed record, a key, nesting
EXIT_GATE_FAILED = 3  # the output still held an original value: nothing was written
EXIT_UNSAFE = 4  # scrubbing stopped because it could not finish without risking a leak

app = typer.Typer(
    help="Replace private data in traces with consistent pseudonyms.", no_args_is_help=True
)

_SHOWN_LEAKS = 20


def scrub(
    inputs: Annotated[
        list[Path], typer.Argument(help="Trace files or directories (any importable format).")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Canonical JSONL of scrubbed traces to write.")
    ],
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            help="Dataset key (hex); created when missing. Same key + vault = same pseudonyms. "
            "Without it the key is random and pseudonyms hold for this run only.",
        ),
    ] = None,
    vault: Annotated[
        Path | None,
        typer.Option(
            "--vault",
            help="Encrypted real-to-fake map to extend (read if present, rewritten on success). "
            "Needs --key-file. Keep it apart from the scrubbed data.",
        ),
    ] = None,
    tools: Annotated[
        Path | None,
        typer.Option("--tools", help="JSON list of tool definitions, for traces that carry none."),
    ] = None,
    format: Annotated[
        str | None,
        typer.Option("--format", "-f", help="Importer to use; detected from content when omitted."),
    ] = None,
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid", help="Skip malformed records (listed) instead of failing."),
    ] = False,
    max_uncompressed: MaxUncompressedOpt = None,
    max_ratio: MaxRatioOpt = None,
    follow_symlinks: FollowOpt = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Scrub traces: private values become consistent, format-preserving pseudonyms.

    Detects secrets, emails, phones, cards, IBANs, SSNs, IPs, and names, addresses and dates
    of birth in JSON fields; replaces each real value with the same fake everywhere (message
    text, tool arguments, tool results, the original record). Ids, tool names, schemas and
    JSON keys are never changed. A final gate scans the output, decoded layers included, for
    every original value: when one survives nothing is written and the exit code is 3.
    Exit codes: 0 gate passed; 2 bad input (malformed record, key or vault, nesting too
    deep); 3 gate failed; 4 scrubbing stopped because it could not finish safely.

    --json prints {"traces", "replaced": {entity type: occurrences}, "gate": "pass"|"fail",
    "leaks"}; leak locations go to stderr, never the values.

    Example: deploysim scrub ../shared/data/traces/tau2-retail/traces.json
    --tools ../shared/data/traces/tau2-retail/tool_schemas.json -o retail.scrubbed.jsonl
    --key-file retail.key --vault retail.vault --json

    Example: deploysim scrub runs/big.eval -o big.scrubbed.jsonl --max-uncompressed 2GiB
    """
    reading = reading_from(max_uncompressed, max_ratio, follow_symlinks)
    if format:
        get_importer(format)  # fail early, with the list of known formats
    specs: list[ToolSpec] = load_tools_file(tools) if tools else []
    try:
        with progress("importing records") as bar:
            task = bar.task_ids[0]
            from deploysim.privacy import scrub_files  # presidio loads only when scrubbing

            report = scrub_files(
                inputs,
                output,
                key_file=key_file,
                vault=vault,
                tools=specs,
                format=format,
                skip_invalid=skip_invalid,
                on_record=lambda: bar.advance(task),
                limits=reading.limits,
                follow_symlinks=reading.follow_symlinks,
            )
    except InputError as e:
        err_console.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False)
        raise typer.Exit(EXIT_INPUT_ERROR) from e
    except PrivacyError as e:
        err_console.print(f"[bold red]scrub stopped:[/] {escape(str(e))}", highlight=False)
        raise typer.Exit(EXIT_UNSAFE) from e
    warn_skipped_links(report.skipped_links)
    for s in report.skipped:
        err_console.print(f"[yellow]skipped[/] {escape(str(s))}")
    if report.key_created:
        err_console.print(f"created key file {escape(str(key_file))}: keep it apart from the data")
    if report.notices:
        err_console.print(
            f"[yellow]note:[/] {len(report.notices)} original values also appear in tool specs, "
            "which are copied verbatim (first: " + escape(str(report.notices[0])) + ")"
        )
    for leak in report.leaks[:_SHOWN_LEAKS]:
        err_console.print(f"[red]leak[/] {escape(str(leak))}")
    if len(report.leaks) > _SHOWN_LEAKS:
        err_console.print(f"[red]... {len(report.leaks) - _SHOWN_LEAKS} more leaks[/]")
    if json_out:
        print_json(report.summary())
    else:
        replaced = ", ".join(f"{k} {v}" for k, v in report.replaced.items()) or "nothing"
        where = f"to {report.output}" if report.output else "(nothing written)"
        err_console.print(
            f"scrubbed {report.traces} traces {escape(where)}; replaced: {replaced}; "
            f"gate: {report.gate}"
            + (f"; vault: {escape(str(report.vault))}" if report.vault else "")
            + (
                f"; {report.dropped_opaque} opaque reasoning blocks dropped"
                if report.dropped_opaque
                else ""
            )
        )
    if report.gate != "pass":
        raise typer.Exit(EXIT_GATE_FAILED)


app.command("scrub")(scrub)
