"""Docs are a tested contract: every command has an example and is documented."""

from pathlib import Path
from typing import Any

import typer.main

from deploysim.cli import app

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def _commands() -> dict[str, Any]:
    root = typer.main.get_command(app)
    out: dict[str, Any] = {}

    def walk(cmd: Any, prefix: str) -> None:
        # typer's groups are not click.Group subclasses in every release: duck-type them.
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, f"{prefix} {name}".strip())
        else:
            out[prefix] = cmd

    walk(root, "")
    return out


def test_the_walk_finds_every_group() -> None:
    """The command walk reaches nested commands (so the checks below are not vacuous)."""
    names = set(_commands())
    assert {"version", "doctor", "traces stats", "traces import", "sandbox up"} <= names


def test_every_command_has_an_example_in_its_help() -> None:
    """Each command's help text carries an `Example:` line."""
    missing = [name for name, cmd in _commands().items() if "Example:" not in (cmd.help or "")]
    assert missing == []


def test_every_command_is_documented() -> None:
    """docs/cli.md has a section for every command."""
    text = DOCS.read_text()
    missing = [name for name in _commands() if f"deploysim {name}" not in text]
    assert missing == []
