"""ssgen.config.preread: a first look at ``[source]`` before the configuration loads, and a
cold build whose inputs' children start from it (``ssgen.build.ahead``): it equals a build
that started nothing early, whatever the look misread, because ``ssgen.sources.early``
keeps the work only for the loaded configuration's layout."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from sitekit import forget_process, mutant, no_children

from ssgen.build import ahead
from ssgen.cli.plain import build_site
from ssgen.cli.summary import Options
from ssgen.config.load import load_config
from ssgen.config.preread import read_source, source_keys
from ssgen.errors import ConfigError
from ssgen.sources import early, parse_ahead
from ssgen.sources.inputs import layout

SITE = '[site]\ntitle = "T"\nbase_url = "https://e.example"\n'
ROUTE = ('[[routes]]\nname = "page"\npath = "/{{slug}}/"\ntemplate = "page.html"\n'
         "query = '*[_type == \"{kind}\"]{{title, \"slug\": slug.current, body}}'\n")
SOURCE = '[source]\ntype = "local"\nfiles = []\n'

# Configurations the line-by-line look reads wrongly: (text, the _type of the pages).
MISREAD = {
    # a ``[source]`` line inside another table's multi-line string
    "multi-line string": (SITE.replace('"T"\n', '"T"\ndescription = """\n[source]\n'
                                       'markdown_type = "post"\n"""\n') + SOURCE, "page"),
    # a multi-line string in ``[source]`` whose lines look like its keys
    "multi-line value": (SITE + SOURCE + "project_id = '''\nmarkdown_type = \"post\"\n'''\n",
                         "page"),
    # ``[source]`` as dotted keys and as an inline table: the look sees no table
    "dotted keys": ('source.type = "local"\nsource.files = []\n'
                    'source.markdown_type = "post"\n' + SITE, "post"),
    "inline table": ('source = { type = "local", files = [], markdown_type = "post" }\n'
                     + SITE, "post"),
}


def _site(root: Path, toml: str, kind: str, files: int = 24) -> Path:
    site = root / "site"
    (site / "templates").mkdir(parents=True)
    (site / "content" / "deep").mkdir(parents=True)
    (site / "ssgen.toml").write_text(toml + ROUTE.format(kind=kind))
    (site / "templates" / "page.html").write_text(
        "<h1>{{ page.title }}</h1>{{ page.body | markdown }}")
    for i in range(files):
        folder = "deep/" if i % 3 else ""
        (site / "content" / f"{folder}p{i}.md").write_text(f"---\ntitle: Page {i}\n---\n\n*{i}*\n")
    return site


def _output(site: Path) -> dict[str, str]:
    public = site / "public"
    return {str(p.relative_to(public)): hashlib.md5(p.read_bytes()).hexdigest()
            for p in sorted(public.rglob("*")) if p.is_file()}


@pytest.fixture(autouse=True)
def _parsed_in_children() -> Iterator[None]:
    """Every cold build here parses its Markdown in forked children, however few files."""
    with mock.patch.object(parse_ahead, "MIN_FILES", 1):
        yield
    early.discard()


def cold_build(site: Path, jobs: int) -> tuple[dict[str, str], bool]:
    """``ssgen build --full`` of a site with no ``.ssgen/`` as the console entry point runs
    it (its inputs' children started before the configuration loads, from the first look
    at ``ssgen.toml``); its output, and whether anything was started from the look."""
    forget_process()
    ahead.start(site, jobs, full=True)
    started = bool(early._BEGUN)
    assert build_site(Options(site=site, verbosity=-1), full=True, jobs=jobs) == 0
    assert not early._BEGUN and no_children()
    return _output(site), started


def clean_build(site: Path) -> dict[str, str]:
    """The reference: one job, nothing started early; the state and output moved aside."""
    forget_process()
    assert build_site(Options(site=site, verbosity=-1), full=True, jobs=1) == 0
    found = _output(site)
    for name in ("public", ".ssgen"):
        (site / name).rename(site.parent / f"reference-{name}")
    return found


def test_the_look_reads_the_simple_forms() -> None:
    assert source_keys("") == ("local", None, "content", "page")
    assert source_keys(
        '[site]\nmarkdown_dir = "no"\n[ source ] # the source\ntype = "local"\n'
        "markdown_dir = 'docs'  # was \"content\"\nfiles = [\"a.ndjson\", 'b.tgz', ]\n"
        "markdown_type = \"post#1\"\n[source.more]\nmarkdown_type = \"x\"\n"
        "[[routes]]\nmarkdown_dir = \"no\"\n"
    ) == ("local", ("a.ndjson", "b.tgz"), "docs", "post#1")
    assert source_keys('[source]\ntype = "sanity"\nfiles = []\n') == ("sanity", (), "content",
                                                                      "page")


@pytest.mark.parametrize("text", [
    '[source]\nmarkdown_dir = "d\\u0063"\n',  # an escape
    '[source]\nmarkdown_dir = """docs"""\n',
    '[source]\nmarkdown_type = 3\n',
    '[source]\nmarkdown_dir = "a" "b"\n',
    '[source]\nfiles = [\n  "a.ndjson",\n]\n',  # an array over several lines
    '[source]\nfiles = ["a.ndjson" "b.ndjson"]\n',
    '[source]\nfiles = "a.ndjson"\n',
])
def test_values_in_other_forms_give_no_guess(text: str) -> None:
    assert source_keys(text) is None


def test_no_file_or_bytes_that_are_not_text_give_no_guess(tmp_path: Path) -> None:
    assert read_source(tmp_path) is None
    (tmp_path / "ssgen.toml").write_bytes(b'[source]\nmarkdown_dir = "\xff"\n')
    assert read_source(tmp_path) is None


def test_a_guess_the_configuration_confirms_is_kept(tmp_path: Path) -> None:
    site = _site(tmp_path, SITE + SOURCE.replace("files = []", "files = [] # none"), "page")
    forget_process()
    ahead.start(site, 2, full=True)
    begun = early._BEGUN[str(site)]
    config = load_config(site)
    assert begun.layout == layout(config)
    early.begin(config, 2)
    assert early._BEGUN[str(site)] is begun  # not started again
    early.begin(config, None)  # other jobs: started again
    assert early._BEGUN[str(site)] is not begun


@pytest.mark.parametrize("case", sorted(MISREAD))
def test_a_cold_build_started_from_a_misread_equals_a_clean_one(tmp_path: Path,
                                                                 case: str) -> None:
    toml, kind = MISREAD[case]
    site = _site(tmp_path, toml, kind)
    guess = read_source(site)
    assert guess is not None and (str(site), *guess) != tuple(layout(load_config(site)))
    reference = clean_build(site)
    assert len(reference) > 20  # the pages are there
    got, started = cold_build(site, 2)
    assert started  # children ran on the wrong guess ...
    assert got == reference  # ... and shaped nothing


def test_a_cold_build_started_from_a_right_guess_equals_a_clean_one(tmp_path: Path) -> None:
    site = _site(tmp_path, SITE + SOURCE + 'markdown_type = "post"\n', "post")
    reference = clean_build(site)
    assert cold_build(site, 2) == (reference, True)


def test_a_configuration_error_after_an_early_start_stops_the_children(
        tmp_path: Path) -> None:
    site = _site(tmp_path, SITE + SOURCE + "[routs]\n", "page")
    forget_process()
    ahead.start(site, 2, full=True)
    assert early._BEGUN
    with pytest.raises(ConfigError):
        load_config(site)
    assert build_site(Options(site=site, verbosity=-1), full=True, jobs=2) == 2
    assert not early._BEGUN and no_children()
    assert not (site / "public").exists()


def test_mutant_a_guess_kept_unchecked_is_caught(tmp_path: Path) -> None:
    real = early.begin

    def trusting(config: object, jobs: int | None) -> None:
        if str(getattr(config, "site_dir", "")) not in early._BEGUN:
            real(config, jobs)  # type: ignore[arg-type]

    with mutant(early, "begin", trusting), pytest.raises(AssertionError):
        test_a_cold_build_started_from_a_misread_equals_a_clean_one(tmp_path,
                                                                     "multi-line string")
