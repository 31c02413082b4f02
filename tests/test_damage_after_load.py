"""A new process's check of its owned output asked once its source is loaded
(``ssgen.build.pipeline._recover`` returns it, ``pages.content`` asks): the snapshot's
decode then runs while the child checking the output stats every owned file on the other
core, instead of after it. What it must not change: output damaged from outside between
processes is still repaired, whether the inputs changed too or not (then only the check
finds work), and the result equals a clean full build.

Mutants caught: the check asked before the load again (the order test); a build
handed no damage, with an edit or with nothing else to do (a tampered page left as it
is); by hand, in ``pages.content``: the loaded build's ``checked = Damage()``, and the
no-op test without ``and not damage()`` (each: the repair test fails)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sitekit import (
    AUTHORS,
    CardSite,
    full_card_build,
    mutant,
    new_process,
    output_files,
    retitle,
    snapshot_file,
)

from ssgen.build import pipeline
from ssgen.build.pipeline import pages
from ssgen.build.verify import Damage

CALLS: list[str] = []


@pytest.fixture()
def order(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The order of the source's load and the output's check in the builds that follow."""
    load, check = pages.load_source, pipeline.find_damage

    def loaded(*args: Any, **kwargs: Any) -> Any:
        CALLS.append("load")
        return load(*args, **kwargs)

    def checked(*args: Any, **kwargs: Any) -> Damage:
        CALLS.append("check")
        return check(*args, **kwargs)
    monkeypatch.setattr(pages, "load_source", loaded)
    monkeypatch.setattr(pipeline, "find_damage", checked)
    CALLS.clear()
    yield CALLS
    CALLS.clear()


def _site(root: Path) -> CardSite:
    site = CardSite()
    site.write(root)
    new_process(root)  # the first build (full): it leaves the snapshot
    assert snapshot_file(root).exists()
    return site


def _tamper(root: Path) -> Path:
    page = root / "public" / "authors" / AUTHORS[1] / "index.html"  # not p2's author
    page.write_text(page.read_text() + "<!-- changed from outside -->")
    return page


def _equals_full(site: CardSite, root: Path, scratch: Path) -> None:
    built, full = output_files(root), full_card_build(site, scratch)
    assert sorted(f for f in built.keys() | full.keys() if built.get(f) != full.get(f)) == []


def test_an_edits_new_process_loads_its_source_before_checking_the_output(
        tmp_path: Path, order: list[str]) -> None:
    site = _site(tmp_path / "site")
    order.clear()
    retitle(0, "edited")(site)
    site.write(tmp_path / "site")
    new_process(tmp_path / "site")
    assert order == ["load", "check"]
    _equals_full(site, tmp_path / "site", tmp_path / "scratch")


def test_a_build_with_nothing_to_do_checks_the_output_and_loads_nothing(
        tmp_path: Path, order: list[str]) -> None:
    _site(tmp_path / "site")
    order.clear()
    new_process(tmp_path / "site")
    assert order == ["check"]


@pytest.mark.parametrize("edit", [True, False])
def test_output_damaged_between_processes_is_repaired(tmp_path: Path, edit: bool) -> None:
    root = tmp_path / "site"
    site = _site(root)
    page = _tamper(root)
    if edit:
        retitle(2, "other")(site)
        site.write(root)
    new_process(root)
    assert "changed from outside" not in page.read_text()
    _equals_full(site, root, tmp_path / "scratch")


def test_mutant_check_asked_before_the_load_is_caught(tmp_path: Path, order: list[str]) -> None:
    def early(run: Any, manifest: Any, full: bool) -> Any:
        damage = recover(run, manifest, full)
        damage()
        return damage
    recover = pipeline._recover
    with mutant(pipeline, "_recover", early), pytest.raises(AssertionError):
        test_an_edits_new_process_loads_its_source_before_checking_the_output(tmp_path, order)


@pytest.mark.parametrize("edit", [True, False])
def test_mutant_build_handed_no_damage_is_caught(tmp_path: Path, edit: bool) -> None:
    content = pages.content

    def blind(*args: Any, **kwargs: Any) -> Any:
        return content(*args, **{**kwargs, "damage": Damage})
    with mutant(pipeline, "content", blind), pytest.raises(AssertionError):
        test_output_damaged_between_processes_is_repaired(tmp_path, edit)
