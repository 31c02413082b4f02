"""``--help`` of every command, as a user reads it at 80 columns: snapshots, plus the rules
they must keep (no typer-internal type names, nothing cut off, the global options named).

Regenerate the snapshots after a deliberate change: SSGEN_UPDATE_SNAPSHOTS=1 pytest tests/test_cli_help.py
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ssgen.cli.app import app

SNAPSHOTS = Path(__file__).parent / "snapshots" / "help"
COMMANDS = ["", "build", "check", "query", "init", "new", "revalidate", "inspect", "pull", "serve",
            "deploy", "clean"]


def _help(command: str) -> str:
    args = [command, "--help"] if command else ["--help"]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "80", "NO_COLOR": "1"},
                                prog_name="ssgen")
    assert result.exit_code == 0, result.output
    return "\n".join(line.rstrip() for line in result.output.splitlines()) + "\n"


@pytest.mark.parametrize("command", COMMANDS)
def test_help_matches_its_snapshot(command: str) -> None:
    text = _help(command)
    snapshot = SNAPSHOTS / f"{command or 'ssgen'}.txt"
    if os.environ.get("SSGEN_UPDATE_SNAPSHOTS"):
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.write_text(text, encoding="utf-8")
    assert text == snapshot.read_text(encoding="utf-8")


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_no_internal_type_names_and_nothing_cut(command: str) -> None:
    text = _help(command)
    assert not re.search(r"<(bool|str|int|float|path|list\[\w+\])[^>]*>", text), text
    assert "range" not in text and "[x>=" not in text and "{" not in text.split("\n")[1]
    assert "…" not in text
    assert all(len(line) <= 80 for line in text.splitlines())


@pytest.mark.parametrize("command", [c for c in COMMANDS if c])
def test_each_command_help_names_the_global_options(command: str) -> None:
    text = " ".join(_help(command).split())
    assert "--site" in text and "-q" in text and "-v" in text


def test_every_value_option_declares_its_metavar() -> None:
    import typer.main

    group = typer.main.get_command(app)
    for name, command in [("ssgen", group), *group.commands.items()]:  # type: ignore[attr-defined]
        for param in command.params:
            if not getattr(param, "is_flag", False) and not getattr(param, "count", False):
                assert param.metavar, f"{name} {param.name}: give it metavar="
