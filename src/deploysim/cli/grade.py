"""`deploysim grade` and `deploysim stage-lights`: grades for the forecast, realism of a suite."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from deploysim.cli._output import print_json

__all__ = ["grade_command", "stage_lights_command"]

_LOG_SUFFIXES = (".eval", ".json")


# Files inspect writes beside the logs of an eval set; they are not logs.
_INSPECT_BOOKKEEPING = frozenset({"eval-set.json", "logs.json", "listing.json"})


def _log_files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(
                q
                for q in p.iterdir()
                if q.suffix in _LOG_SUFFIXES and q.name not in _INSPECT_BOOKKEEPING
            )
        elif p.exists():
            out.append(p)
        else:
            raise typer.BadParameter(f"no such log file or folder: {p}")
    if not out:
        raise typer.BadParameter("no .eval or .json logs found in " + ", ".join(map(str, paths)))
    return out


def _options(judge: str | None, rubrics: Path | None, categories: list[str]) -> dict[str, Any]:
    options: dict[str, dict[str, Any]] = {}
    if categories:
        options["risk"] = {"categories": categories}
    if judge:
        options["judge"] = {"model": judge, "rubric_dir": str(rubrics) if rubrics else None}
    return options


def grade_command(
    logs: Annotated[
        list[Path], typer.Argument(help="Replay logs (.eval/.json files or folders of them).")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Run folder (gets grades.jsonl) or a .jsonl.")
    ],
    baseline: Annotated[
        str | None, typer.Option("--baseline", help="Model of the baseline arm.")
    ] = None,
    candidate: Annotated[
        str | None, typer.Option("--candidate", help="Model of the candidate arm.")
    ] = None,
    grader: Annotated[
        list[str] | None,
        typer.Option("--grader", help="Grader to run (repeatable); default: all but judge."),
    ] = None,
    category: Annotated[
        list[str] | None, typer.Option("--category", help="Risk category (repeatable).")
    ] = None,
    judge: Annotated[
        str | None, typer.Option("--judge", help="Grader model for the LM judge (adds it).")
    ] = None,
    rubrics: Annotated[
        Path | None, typer.Option("--rubrics", help="Folder of rubric files for the judge.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Grade replay logs and write RUN/grades.jsonl for `deploysim forecast` and `report`.

    Reads the inspect logs of a replay (both arms, and the original-mode run when there is
    one), runs the graders on each sample's replay record (no sandbox needed) and writes
    one SampleGrade per sample. Original-mode samples (model deploysim/original) are the
    state reference: state_diff compares each sample's end state with the original's on the
    same (trace, cut). Arms: --baseline and --candidate name the models; with one model
    beside deploysim/original, the original is the baseline. Samples that failed (errors)
    become failures, never behaviour. Samples without a replay record did not finish: they
    are not graded but listed (log and sample id), and the command exits with 1; rerun the
    replay with the same --log-dir to finish them.

    --json prints {"output", "models", "samples", "infrastructure_errors", "missing",
    "reference_samples", "without_reference", "graders", "hits"}.

    Example: deploysim grade logs/replay/last-turn/ -o runs/2026-01-05 --baseline openai/gpt-4o-mini
    """
    from deploysim.graders import DEFAULT_GRADERS, grade_logs

    graders = list(grader or DEFAULT_GRADERS)
    if judge and "judge" not in graders:
        graders.append("judge")
    run = grade_logs(
        _log_files(logs),
        output,
        baseline=baseline,
        candidate=candidate,
        graders=graders,
        options=_options(judge, rubrics, list(category or [])),
    )
    if json_out:
        print_json(run.model_dump())
        _exit_on_missing(run)
        return
    table = Table(
        "category", f"baseline ({run.models['baseline']})", f"candidate ({run.models['candidate']})"
    )
    for name, arms in run.hits.items():
        table.add_row(
            name,
            f"{arms['baseline']}/{run.samples['baseline']}",
            f"{arms['candidate']}/{run.samples['candidate']}",
        )
    console = Console(highlight=False)
    console.print(table)
    failed = ", ".join(f"{arm} {n}" for arm, n in run.infrastructure_errors.items()) or "none"
    console.print(
        f"wrote {escape(run.output)}; infrastructure failures: {failed}; "
        f"state reference for {run.reference_samples} prefixes "
        f"({run.without_reference} samples without one)",
        soft_wrap=True,
    )
    _exit_on_missing(run)


def _exit_on_missing(run: Any) -> None:
    """Name the samples that were not graded for lack of a record, and exit with 1."""
    if not run.missing:
        return
    err = Console(stderr=True, highlight=False)
    err.print(
        f"[red]{len(run.missing)} samples have no replay record and were not graded[/]; "
        "they did not finish: rerun `deploysim replay` with the same --log-dir to run them",
        soft_wrap=True,
    )
    for m in run.missing:
        err.print(f"  {escape(m.log)}: sample {escape(m.sample_id)} ({escape(m.model)})")
    raise typer.Exit(1)


def stage_lights_command(
    target: Annotated[Path, typer.Argument(help="Scenario file (.yaml) or snapshot folder.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Check a scenario or snapshot for stage lights: signs its data was made up for a test.

    Looks for placeholder names (John Doe, foo/bar), example domains (example.com, .test,
    .invalid), sequential ids (user_001, HAT001...), round money amounts, lorem ipsum, test
    values (555-01xx phones, test card numbers) and test words in data. The score is 0 when
    nothing looks staged and grows toward 1; below 0.2 the data is called realistic. A
    scenario is checked with its snapshot and its traces' user messages and tool results.

    --json prints {"target", "score", "realistic", "threshold", "checks": [{"check",
    "weight", "examined", "flagged", "rate"}], "findings": [{"check", "location", "value",
    "detail"}]}.

    Example: deploysim stage-lights env_snapshots/airline
    """
    from deploysim.graders import stage_lights, stage_target

    found = stage_target(target)
    report = stage_lights(found.name, found.items)
    if json_out:
        print_json(report.model_dump())
        return
    console = Console(highlight=False)
    console.print(escape(report.summary()), soft_wrap=True)
    table = Table("check", "weight", "flagged", "examined", "rate")
    for c in report.checks:
        table.add_row(c.check, f"{c.weight:.1f}", str(c.flagged), str(c.examined), f"{c.rate:.1%}")
    console.print(table)
    for f in report.findings:
        console.print(
            f"  [dim]{escape(f.check)}[/] {escape(f.location)}: {escape(f.detail)}",
            soft_wrap=True,
        )
