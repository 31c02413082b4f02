"""The input files' names and sizes recorded beside the fingerprint (``ssgen.build.untouched``):
a new process whose files were resized since loads its source before it takes their
digest (which the other core computes meanwhile); one whose files kept their sizes
(touched, or edited in place to the same length) takes the digest first, as before, and
loads nothing when it is the recorded one. Either way the output equals a clean full
build, and what is recorded is the digest and the sizes of the same bytes.

Mutants caught: ``resized`` always true (a touched site's build loads its source), always
false (a resized edit's build takes the digest first), the no-op build recording no sizes
(the next edit's build takes the digest first), the load's own read not used for the sizes
(a build after a revalidate records none: same), and sizes alone trusted as "nothing
changed" (a same-size edit left unbuilt)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitekit import (
    CardSite,
    card_edits,
    forget_process,
    full_card_build,
    mutant,
    new_process,
    output_files,
    retitle,
)

from ssgen.build import untouched
from ssgen.build.change import Change, DocChange
from ssgen.build.pipeline import build, pages
from ssgen.config.load import load_config
from ssgen.manifest.store import Manifest
from ssgen.sources.inputs import Fingerprint, read_inputs

CALLS: list[str] = []


@pytest.fixture()
def order(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The order of the source's load and the first digest taken in the builds that follow."""
    load, value = pages.load_source, Fingerprint.value

    def loaded(*args: Any, **kwargs: Any) -> Any:
        CALLS.append("load")
        return load(*args, **kwargs)

    def taken(self: Fingerprint) -> str:
        if "digest" not in CALLS:
            CALLS.append("digest")
        return value(self)
    monkeypatch.setattr(pages, "load_source", loaded)
    monkeypatch.setattr(Fingerprint, "value", taken)
    CALLS.clear()
    yield CALLS
    CALLS.clear()


def _site(root: Path) -> CardSite:
    site = CardSite()
    site.write(root)
    new_process(root)  # the first build (full): it records the digest and the sizes
    return site


def _recorded(root: Path) -> tuple[str | None, str | None]:
    with Manifest.open(root / ".ssgen" / "manifest.sqlite") as manifest:
        return manifest.get_meta("inputs"), manifest.get_meta(untouched.SIZES_KEY)


def _records_its_files(root: Path) -> None:
    """What the last build recorded is the digest and the sizes of the files as they are."""
    read = read_inputs(load_config(root))
    assert _recorded(root) == (read.fingerprint, untouched.input_sizes(read))


def _equals_full(site: CardSite, root: Path, scratch: Path) -> None:
    built, full = output_files(root), full_card_build(site, scratch)
    assert sorted(f for f in built.keys() | full.keys() if built.get(f) != full.get(f)) == []


def _touch(root: Path) -> None:
    data = root / "content" / "data.ndjson"
    data.write_bytes(data.read_bytes())  # same bytes, a new stamp
    os.utime(data, ns=(data.stat().st_atime_ns, data.stat().st_mtime_ns - 10_000_000_000))


def test_a_resized_edits_new_process_loads_before_it_takes_the_digest(
        tmp_path: Path, order: list[str]) -> None:
    root = tmp_path / "site"
    site = _site(root)
    order.clear()
    retitle(0, "a longer title than before")(site)
    site.write(root)
    new_process(root)
    assert order[:2] == ["load", "digest"]
    _records_its_files(root)
    _equals_full(site, root, tmp_path / "scratch")


def test_a_same_size_edit_takes_the_digest_first_and_is_built(
        tmp_path: Path, order: list[str]) -> None:
    root = tmp_path / "site"
    site = _site(root)
    order.clear()
    retitle(0, "X0")(site)  # "T0" -> "X0": the file keeps its size
    site.write(root)
    new_process(root)
    assert order[:2] == ["digest", "load"]
    assert any(b"X0" in data for data in output_files(root).values())
    _records_its_files(root)
    _equals_full(site, root, tmp_path / "scratch")


def test_a_touched_site_with_nothing_to_do_loads_nothing(tmp_path: Path, order: list[str]) -> None:
    root = tmp_path / "site"
    _site(root)
    _touch(root)
    order.clear()
    new_process(root)
    assert order == ["digest"]
    _records_its_files(root)


def test_the_build_after_a_no_op_or_a_revalidate_loads_first(
        tmp_path: Path, order: list[str]) -> None:
    root = tmp_path / "site"
    site = _site(root)
    new_process(root)  # nothing to do: records the sizes it compared
    retitle(1, "one longer title")(site)
    site.write(root)
    order.clear()
    new_process(root)
    assert order[:2] == ["load", "digest"]
    retitle(2, "another longer title")(site)
    site.write(root)
    forget_process()
    revalidate = Change(documents=(DocChange("p2", "post"),))
    assert build(load_config(root), jobs=1, change=revalidate).ok
    assert _recorded(root) == ("", "")  # a revalidate records no digest, so no sizes
    new_process(root)  # loads (no digest recorded), and records both from its own read
    _records_its_files(root)
    retitle(3, "a third longer title")(site)
    site.write(root)
    order.clear()
    new_process(root)
    assert order[:2] == ["load", "digest"]
    _equals_full(site, root, tmp_path / "scratch")


def _touch_step(site: CardSite) -> None:
    site.counter += 1  # written again as it is: same bytes, a new stamp


def _same_size(site: CardSite) -> None:
    post = site.docs[site.posts()[0]] if site.posts() else None
    if post is not None:
        title = str(post["title"])
        post["title"] = (title[:-1] + ("y" if title[-1:] != "y" else "z")) if title else "z"


sized_steps = st.one_of(card_edits, st.just(_touch_step), st.just(_same_size))


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(sized_steps, min_size=1, max_size=5))
def test_new_processes_with_resized_and_same_size_files_equal_a_full_build(
        tmp_path_factory: pytest.TempPathFactory, steps: list[Any]) -> None:
    base = tmp_path_factory.mktemp("sizes")
    root = base / "site"
    site = _site(root)
    for step in steps:
        step(site)
        site.write(root)
        if step is _touch_step:
            _touch(root)
        new_process(root)
        _records_its_files(root)
        _equals_full(site, root, base / "scratch")


def test_mutant_resized_always_true_is_caught(tmp_path: Path, order: list[str]) -> None:
    with mutant(pages, "resized", lambda manifest, read: True), pytest.raises(AssertionError):
        test_a_touched_site_with_nothing_to_do_loads_nothing(tmp_path, order)


def test_mutant_resized_always_false_is_caught(tmp_path: Path, order: list[str]) -> None:
    with mutant(pages, "resized", lambda manifest, read: False), pytest.raises(AssertionError):
        test_a_resized_edits_new_process_loads_before_it_takes_the_digest(tmp_path, order)


def test_mutant_no_op_build_recording_no_sizes_is_caught(
        tmp_path: Path, order: list[str]) -> None:
    sizes = untouched.input_sizes
    calls = {"n": 0}

    def forgetful(read: Any) -> str:  # the first build's sizes, then the no-op's: none
        calls["n"] += 1
        return sizes(read) if calls["n"] == 1 else ""
    with mutant(pages, "input_sizes", forgetful), pytest.raises(AssertionError):
        test_the_build_after_a_no_op_or_a_revalidate_loads_first(tmp_path, order)


def test_mutant_load_read_not_used_for_the_sizes_is_caught(
        tmp_path: Path, order: list[str]) -> None:
    with mutant(pages, "_read_for_load", lambda config: None), pytest.raises(AssertionError):
        test_the_build_after_a_no_op_or_a_revalidate_loads_first(tmp_path, order)


def test_mutant_sizes_trusted_as_nothing_changed_is_caught(
        tmp_path: Path, order: list[str]) -> None:
    def trusting(manifest: Manifest, renderer: Any, inputs: str) -> bool:
        return True  # the digest not compared: equal sizes taken for equal files
    with mutant(pages, "untouched", trusting), pytest.raises(AssertionError):
        test_a_same_size_edit_takes_the_digest_first_and_is_built(tmp_path, order)
