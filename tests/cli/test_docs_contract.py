"""Docs are a tested contract: every command has an example and is documented."""

from pathlib import Path

import click
import typer.main

from deploysim.cli import app

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def _commands() -> dict[str, click.Command]:
    root = typer.main.get_command(app)
    out: dict[str, click.Command] = {}

    def walk(cmd: click.Command, prefix: str) -> None:
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                walk(sub, f"{prefix} {name}".strip())
        else:
            out[prefix] = cmd

    walk(root, "")
    return out


def test_every_command_has_an_example_in_its_help() -> None:
    """Each command's help text carries an `Example:` line."""
    missing = [name for name, cmd in _commands().items() if "Example:" not in (cmd.help or "")]
    assert missing == []


def test_every_command_is_documented() -> None:
    """docs/cli.md has a section for every command."""
    text = DOCS.read_text()
    missing = [name for name in _commands() if f"deploysim {name}" not in text]
    assert missing == []
