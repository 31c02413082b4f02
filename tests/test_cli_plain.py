"""The console entry point's plain-build path (ssgen.cli.argv.plain_build) reads exactly what
the typer command reads, and runs without importing typer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import ssgen.cli.build
from ssgen.cli.app import app
from ssgen.cli.argv import PlainBuild, hoist_global_options, plain_build
from ssgen.cli.summary import Options

WORDS = [
    "build", "build", "build", "-s", "--site", "--site=a b", "--site=", "-q", "--quiet", "-v",
    "--verbose", "--full", "--drafts", "-j", "--jobs", "--jobs=2", "-j2", "2", "3", "0", "01",
    "+4", "-1", "x", "out.json", "--changes", "--changes=c.json", "--base-url",
    "--base-url=https://b.example", "https://e.example", "--help", "-h", "--version", "-qv",
    "--", "site", "query", "--full=1", "-s=x", "build2", "--check", "--external",
]


def typer_reading(args: list[str], monkeypatch: pytest.MonkeyPatch) -> PlainBuild | int:
    """What the typer command passes to ``build_site`` for ``args``, or its exit code."""
    seen: list[PlainBuild] = []

    def capture(options: Options, **kwargs: Any) -> int:
        kwargs.pop("show_links")
        if kwargs.pop("check") or kwargs.pop("external"):
            return 0  # link checking: never a plain build
        seen.append(PlainBuild(site=options.site, verbosity=options.verbosity, **kwargs))
        return 0

    monkeypatch.setattr(ssgen.cli.build, "build_site", capture)
    result = CliRunner().invoke(app, args)
    return seen[0] if seen else result.exit_code


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=7))
def test_a_plain_build_reads_as_typer_reads_it(words: list[str]) -> None:
    args = hoist_global_options(words)
    plain = plain_build(args)
    if plain is None:
        return
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert typer_reading(args, monkeypatch) == plain


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["build"], PlainBuild()),
        (["build", "-q", "--site", "s", "-j", "2", "--full"],
         PlainBuild(site=Path("s"), verbosity=0, jobs=2, full=True)),
        (["-v", "build", "--drafts", "--changes=c.json", "--base-url", "https://x.example"],
         PlainBuild(verbosity=2, drafts=True, changes=Path("c.json"),
                    base_url="https://x.example")),
    ],
)
def test_common_builds_take_the_plain_path(
    words: list[str], expected: PlainBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = hoist_global_options(words)
    assert plain_build(args) == expected
    assert typer_reading(args, monkeypatch) == expected


@pytest.mark.parametrize(
    "words",
    [["build", "--help"], ["--version"], ["build", "-j", "0"], ["build", "-j", "x"],
     ["build", "--full", "--full"], ["build", "extra"], ["query", "build"], ["build", "-qv"],
     ["build", "--", "-q"], []],
)
def test_everything_else_goes_through_typer(words: list[str]) -> None:
    assert plain_build(hoist_global_options(words)) is None


def test_the_plain_path_does_not_import_typer(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from ssgen.cli import entry\n"
        "entry.build_site = lambda options, **kw: print(options, kw) or 0\n"
        "entry.exit_process = lambda code: print('typer' in sys.modules, code)\n"
        "sys.argv = ['ssgen', 'build', '-q', '-j', '1']\n"
        "entry.run()\n"
    )
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": root}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=True,
                         capture_output=True, text=True).stdout
    assert out.splitlines()[-1] == "False 0"
    assert "verbosity=0" in out and "'jobs': 1" in out
