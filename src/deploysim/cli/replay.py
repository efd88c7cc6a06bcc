"""`deploysim replay`: continue recorded traces with a candidate model, as inspect evals."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from deploysim.cli._output import err_console, print_json, warn_skipped_links
from deploysim.replay import parse_cut, read_scenario
from deploysim.replay._author import new_scenario
from deploysim.replay._run import LogSummary, ReplayRun, run_replay

__all__ = ["app", "replay_command"]

ORIGINAL = "deploysim/original"
_SCENARIO_SUFFIXES = (".yaml", ".yml")


def _model_args(pairs: list[str]) -> dict[str, Any]:
    import yaml

    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise typer.BadParameter(f"-M takes key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        out[key.strip()] = yaml.safe_load(value)
    return out


def _scenario_for(target: Path, tools: Path | None, snapshot: Path | None, log_dir: Path) -> Path:
    """The scenario file to run: ``target`` itself, or one written for a traces file."""
    if target.suffix.lower() in _SCENARIO_SUFFIXES:
        if tools or snapshot:
            raise typer.BadParameter("--tools and --snapshot apply to traces, not to a scenario")
        return target
    name = re.sub(r"[^a-z0-9._-]+", "-", target.stem.lower()).strip("-.") or "traces"
    out = log_dir / f"{name}.yaml"
    new_scenario(out, [target], tools=tools, snapshot=snapshot, force=True)
    return out


def _errors_cell(s: LogSummary) -> str:
    parts = [f"{k} {v}" for k, v in s.errors.items()]
    if s.missing_records:
        parts.append(f"no record {s.missing_records}")
    return ", ".join(parts) or "-"


def _table(run: ReplayRun) -> Table:
    table = Table(
        "model", "status", "samples", "diverged", "stopped by", "errors", "retried", "provenance"
    )
    for s in run.logs:
        rate = f"{s.diverged}/{s.completed}" + (
            f" ({s.divergence_rate:.0%})" if s.divergence_rate is not None else ""
        )
        table.add_row(
            s.model,
            s.status,
            f"{s.completed}/{s.samples}",
            rate,
            ", ".join(f"{k} limit {v}" for k, v in sorted(s.limits.items())) or "-",
            _errors_cell(s),
            ", ".join(f"{k} {v}" for k, v in s.retried.items()) or "-",
            ", ".join(f"{k} {v}" for k, v in sorted(s.provenance.items())) or "-",
        )
    return table


def replay_command(
    target: Annotated[
        Path, typer.Argument(help="Scenario file (.yaml), or a traces file to replay as is.")
    ],
    model: Annotated[
        str | None, typer.Option("--model", help="Candidate model (any inspect model).")
    ] = None,
    baseline: Annotated[
        str | None, typer.Option("--baseline", help="Baseline model, replayed the same way.")
    ] = None,
    mode: Annotated[
        str | None, typer.Option("--mode", help="resample, rollout or original.")
    ] = None,
    cut: Annotated[str | None, typer.Option("--cut", help="last, each, or turn K.")] = None,
    max_samples: Annotated[
        int | None, typer.Option("--max-samples", help="Samples run at once.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Run only N samples.")] = None,
    log_dir: Annotated[
        Path | None,
        typer.Option("--log-dir", help="Where .eval logs go; rerun to resume. "),
    ] = None,
    tools: Annotated[
        Path | None, typer.Option("--tools", help="Tool definitions (traces input only).")
    ] = None,
    snapshot: Annotated[
        Path | None, typer.Option("--snapshot", help="Snapshot folder (traces input only).")
    ] = None,
    user_simulator: Annotated[
        str | None, typer.Option("--user-simulator", help="Model playing the user (rollout).")
    ] = None,
    simulator: Annotated[
        str | None, typer.Option("--simulator", help="Model emulating unserved tools.")
    ] = None,
    model_arg: Annotated[
        list[str] | None, typer.Option("-M", help="Model argument key=value (repeatable).")
    ] = None,
    retries: Annotated[
        int, typer.Option("--retries", help="Retries of a sample that failed (infrastructure).")
    ] = 3,
    time_limit: Annotated[
        int | None,
        typer.Option(
            "--time-limit",
            min=0,
            help="Wall-clock seconds per sample (default: the scenario's, 1800; 0: none).",
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Replay recorded traces with a candidate model in rebuilt sandboxes (inspect evals).

    Writes one .eval log per model to --log-dir (open them with `inspect view`). Run the
    same command again to resume an interrupted run: finished samples are kept. Failed
    samples are retried and reported apart from model behaviour. --mode original replays the
    recorded agent itself (model deploysim/original): the noise floor. --time-limit ends a
    sample after that many seconds (stop reason time_limit, graded on what it did).

    Example: deploysim replay scenarios/shop/support.yaml --model openai/gpt-4o --baseline openai/o3

    Example: deploysim replay scenarios/shop/support.yaml --model openai/gpt-4o --time-limit 600
    """
    if mode is not None and mode not in ("resample", "rollout", "original"):
        raise typer.BadParameter("--mode must be resample, rollout or original")
    cut_value = None
    if cut is not None:
        try:
            cut_value = parse_cut(cut)
        except ValueError as e:
            raise typer.BadParameter(str(e)) from e
    log_dir = log_dir or Path("logs") / "replay" / re.sub(r"[^A-Za-z0-9._-]+", "-", target.stem)
    log_dir.mkdir(parents=True, exist_ok=True)
    scenario = _scenario_for(target, tools, snapshot, log_dir)
    effective_mode = mode or read_scenario(scenario).mode
    if effective_mode == "original":
        if model not in (None, ORIGINAL) or baseline is not None:
            raise typer.BadParameter(
                f"--mode original replays the recorded agent ({ORIGINAL}); "
                "drop --model/--baseline, or use --mode rollout"
            )
        models = [ORIGINAL]
    else:
        if model is None:
            raise typer.BadParameter("--model is required (any inspect model name)")
        models = [model] + ([baseline] if baseline else [])
    interactive = not json_out and err_console.is_terminal
    run = run_replay(
        scenario,
        models,
        log_dir=log_dir,
        mode=mode,
        cut=cut_value,
        user_simulator=user_simulator,
        simulator=simulator,
        max_samples=max_samples,
        limit=limit,
        retry_on_error=retries,
        time_limit=time_limit,
        model_args=_model_args(model_arg or []),
        display="rich" if interactive else "none",
    )
    # After the run: inspect's display owns the terminal while it runs.
    warn_skipped_links(run.skipped_links)
    if json_out:
        print_json(run.model_dump())
    else:
        if run.rerun:
            typer.echo(f"ran again {len(run.rerun)} samples of earlier logs that had no record")
        Console().print(_table(run))
        typer.echo(f"logs: {run.log_dir}  (inspect view --log-dir {run.log_dir})")
    if not run.success or not run.logs:
        err_console.print("[red]the run did not finish[/]; run the same command to resume")
        sys.exit(1)


app = typer.Typer(help="Replay recorded traces with a candidate model.")
app.command("replay")(replay_command)
