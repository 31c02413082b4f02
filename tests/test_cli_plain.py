"""The console entry point's plain path (ssgen.cli.argv.plain_command: ``build`` and
``revalidate``) reads exactly what the typer commands read, runs without importing typer,
and prints and exits as they do."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sitekit import DEFAULT_TEMPLATES, make_site
from typer.testing import CliRunner

import ssgen.cli.build
from ssgen.cli.app import app
from ssgen.cli.argv import (
    PlainBuild,
    PlainRevalidate,
    hoist_global_options,
    plain_build,
    plain_command,
)
from ssgen.cli.summary import Options

WORDS = [
    "build", "build", "build", "-s", "--site", "--site=a b", "--site=", "-q", "--quiet", "-v",
    "--verbose", "--full", "--drafts", "-j", "--jobs", "--jobs=2", "-j2", "2", "3", "0", "01",
    "+4", "-1", "x", "out.json", "--changes", "--changes=c.json", "--base-url",
    "--base-url=https://b.example", "https://e.example", "--help", "-h", "--version", "-qv",
    "--", "site", "query", "--full=1", "-s=x", "build2", "--check", "--external",
    "--check=1", "revalidate", "revalidate", "--doc", "-d", "--doc=p1", "p1", "-dp1", "--tag",
    "-t", "--tag=post:x", "--path", "-p", "/blog/", "--path=/a/", "--doc=", "--docs",
]
REVALIDATE_WORDS = ["revalidate", "revalidate", "--doc", "-d", "--doc=p1", "p1", "p 2", "-dp1",
                    "--tag", "-t", "--tag=post:x", "post:y", "--path", "-p", "/blog/",
                    "--path=/a/", "--changes", "c.json", "-q", "-v", "--site", "s", "-j", "1",
                    "--", "--doc=", "--help"]


def typer_reading(args: list[str], monkeypatch: pytest.MonkeyPatch
                  ) -> PlainBuild | PlainRevalidate | int:
    """What the typer command passes to ``build_site`` or ``revalidate_site`` for
    ``args``, or its exit code."""
    seen: list[PlainBuild | PlainRevalidate] = []

    def build(options: Options, **kwargs: Any) -> int:
        kwargs.pop("show_links")
        seen.append(PlainBuild(site=options.site, verbosity=options.verbosity, **kwargs))
        return 0

    def revalidate(options: Options, **kwargs: Any) -> int:
        seen.append(PlainRevalidate(site=options.site, verbosity=options.verbosity, **kwargs))
        return 0

    monkeypatch.setattr(ssgen.cli.build, "build_site", build)
    monkeypatch.setattr(ssgen.cli.build, "revalidate_site", revalidate)
    result = CliRunner().invoke(app, args)
    return seen[0] if seen else result.exit_code


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=7))
def test_a_plain_command_reads_as_typer_reads_it(words: list[str]) -> None:
    args = hoist_global_options(words)
    plain = plain_command(args)
    if plain is None:
        return
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert typer_reading(args, monkeypatch) == plain


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(REVALIDATE_WORDS), max_size=8))
def test_a_plain_revalidate_reads_as_typer_reads_it(words: list[str]) -> None:
    args = hoist_global_options(["revalidate", *words])
    plain = plain_command(args)
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
        (["build", "--check", "--external", "-q"],
         PlainBuild(verbosity=0, check=True, external=True)),
        (["-q", "revalidate", "--doc", "p1"], PlainRevalidate(verbosity=0, docs=("p1",))),
        (["revalidate", "-d", "p1", "--doc=p2", "-t", "a", "--path", "/x/", "-p", "/y/",
          "--changes", "c.json", "-s", "s"],
         PlainRevalidate(site=Path("s"), docs=("p1", "p2"), tags=("a",), paths=("/x/", "/y/"),
                         changes=Path("c.json"))),
    ],
)
def test_common_commands_take_the_plain_path(
    words: list[str], expected: PlainBuild | PlainRevalidate, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = hoist_global_options(words)
    assert plain_command(args) == expected
    assert typer_reading(args, monkeypatch) == expected


@pytest.mark.parametrize(
    "words",
    [["build", "--help"], ["--version"], ["build", "-j", "0"], ["build", "-j", "x"],
     ["build", "--full", "--full"], ["build", "extra"], ["query", "build"], ["build", "-qv"],
     ["build", "--", "-q"], [], ["revalidate"], ["revalidate", "--changes", "c.json"],
     ["revalidate", "--doc"], ["revalidate", "--doc="], ["revalidate", "-dp1"],
     ["revalidate", "--doc", "--tag"], ["revalidate", "--doc", "p1", "--help"],
     ["revalidate", "--doc", "p1", "--full"], ["build", "--doc", "p1"], ["build", "--check=1"],
     ["build", "--check", "--check"], ["query", "revalidate"]],
)
def test_everything_else_goes_through_typer(words: list[str]) -> None:
    assert plain_command(hoist_global_options(words)) is None
    assert plain_build(hoist_global_options(words)) is None


@pytest.mark.parametrize("command", ["build_site", "revalidate_site"])
def test_the_plain_path_does_not_import_typer(tmp_path: Path, command: str) -> None:
    argv = ["build", "-q", "-j", "1"] if command == "build_site" else \
        ["revalidate", "-q", "--doc", "x"]
    code = (
        "import sys\n"
        "from ssgen.cli import entry, plain\n"
        f"plain.{command} = lambda options, **kw: print(options, kw) or 0\n"
        "plain.exit_process = lambda code: print('typer' in sys.modules, code)\n"
        f"sys.argv = ['ssgen', *{argv!r}]\n"
        "entry.run()\n"
    )
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": root}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=True,
                         capture_output=True, text=True).stdout
    assert out.splitlines()[-1] == "False 0"
    assert "verbosity=0" in out
    assert ("'jobs': 1" if command == "build_site" else "'docs': ('x',)") in out


_TYPER = "import sys; from ssgen.cli.app import run; sys.argv[0] = 'ssgen'; run()"
BROKEN = {**DEFAULT_TEMPLATES, "post.html": DEFAULT_TEMPLATES["post.html"].replace(
    "<h1>", '<a href="/nowhere/">x</a><h1>')}


def _ssgen(site: Path, words: list[str], *, typer: bool) -> tuple[int, str]:
    """Exit code and stderr (the site folder written as SITE) of a new process running
    ``words`` through the plain path, or through the typer app."""
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": root, "COLUMNS": "100", "NO_COLOR": "1"}
    head = ["-c", _TYPER] if typer else ["-m", "ssgen"]
    done = subprocess.run([sys.executable, *head, "--site", str(site), *words], env=env,
                          capture_output=True, text=True, check=False)
    seconds = re.compile(r"\b[0-9]+(\.[0-9]+)?(s|ms)\b")
    return done.returncode, seconds.sub("T", done.stderr.replace(str(site), "SITE"))


@pytest.mark.parametrize(
    ("templates", "before", "words", "code"),
    [
        (None, "build", ["revalidate", "--doc", "p1"], 0),
        (None, "build", ["-v", "revalidate", "-d", "p1", "--tag", "post:no", "-p", "/no/"], 0),
        (None, "", ["revalidate", "--doc", "p1"], 0),  # no manifest yet: a full build
        (None, "bad config", ["revalidate", "--doc", "p1"], 2),  # the error, file and key
        (None, "bad config", ["build", "--check"], 2),
        (BROKEN, "", ["build", "--check"], 1),  # a broken link: listed
        (None, "", ["-q", "build", "--check", "--full"], 0),
    ],
)
def test_the_plain_path_prints_and_exits_as_typer_does(
    tmp_path: Path, templates: dict[str, str] | None, before: str, words: list[str], code: int
) -> None:
    first = make_site(tmp_path / "a", templates=templates)
    if before == "build":
        assert _ssgen(first, ["build"], typer=False)[0] == 0
    elif before == "bad config":
        with (first / "ssgen.toml").open("a") as toml:
            toml.write('[[routes]]\nname = "x"\npath = "/x/"\n')
    second = tmp_path / "b"
    shutil.copytree(first, second)
    plain, typer = _ssgen(first, words, typer=False), _ssgen(second, words, typer=True)
    assert plain == typer
    assert plain[0] == code
    assert plain_command(hoist_global_options(words)) is not None
