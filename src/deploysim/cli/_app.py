"""The root typer app; command groups register here."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from deploysim import __version__
from deploysim._errors import DeploysimError
from deploysim.cli.forecast import forecast_command, report_command
from deploysim.cli.grade import grade_command, stage_lights_command
from deploysim.cli.reconstruct import fidelity_command, reconstruct_command
from deploysim.cli.replay import replay_command
from deploysim.cli.sandbox import app as sandbox_app
from deploysim.cli.sandbox import doctor_command
from deploysim.cli.scenario import app as scenario_app
from deploysim.cli.scrub import scrub
from deploysim.cli.services import app as services_app
from deploysim.cli.snapshot import app as snapshot_app
from deploysim.cli.traces import app as traces_app

__all__ = ["app", "main"]

app = typer.Typer(
    name="deploysim",
    help=(
        "Forecast how a candidate model behaves as a deployed agent, by replaying recorded "
        "agent traces against rebuilt environments.\n\n"
        "Example: deploysim traces stats ../shared/data/traces/tau-bench-airline/traces.json"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(traces_app, name="traces")
app.add_typer(snapshot_app, name="snapshot")
app.command("scrub")(scrub)
app.add_typer(services_app, name="services")
app.add_typer(sandbox_app, name="sandbox")
app.command("doctor")(doctor_command)
app.command("reconstruct")(reconstruct_command)
app.command("fidelity")(fidelity_command)
app.command("replay")(replay_command)
app.add_typer(scenario_app, name="scenario")
app.command("grade")(grade_command)
app.command("stage-lights")(stage_lights_command)
app.command("forecast")(forecast_command)
app.command("report")(report_command)


@app.command()
def version() -> None:
    """Print the deploysim version.

    Example: deploysim version
    """
    typer.echo(__version__)


def main() -> None:
    """Console-script entry point: our own errors print one clear line and exit 2."""
    try:
        app()
    except DeploysimError as e:
        Console(stderr=True).print(
            f"[bold red]error:[/] {escape(str(e))}", highlight=False, soft_wrap=True
        )
        sys.exit(2)
