"""A new process that resumes a snapshot compares only the documents that can differ from
the manifest's record (``ssgen.build.docstate``: the source's ``lineage``, the manifest's
``documents_base``), and takes its input files' bytes only after the snapshot's decode
(``ssgen.sources.early.pending``); its output still equals a clean full build.

sitekit's cards site through new processes (``new_process``: nothing kept in memory).
The snapshot is not re-saved after a small diff (``RESAVE``), so later processes resume a
stale one and rely on the ids the recording build noted beside its mark; an edit undone
after such a process is the case those ids exist for (the re-read finds the file equal to
the snapshot there, the manifest does not). Mutants caught (in the file): the noted ids
left out (a stale page), the base trusted whatever mark it was recorded with (a partial
comparison after an older ssgen's build: the pages log happens to plan those pages again,
so only the comparison shows it), the source's origin not compared (an older snapshot
restored: a partial comparison), and the read taken before the decode.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitekit import (
    CardSite,
    Edit,
    card_edits,
    forget_process,
    full_card_build,
    mutant,
    new_process,
    output_files,
    retitle,
)

from ssgen.build import docstate
from ssgen.build.change import Change, DocChange
from ssgen.build.pipeline import build, pages
from ssgen.config.load import load_config
from ssgen.manifest.store import Manifest
from ssgen.sources import early
from ssgen.sources import snapshot as snap
from ssgen.sources.snapshot import RESAVE


@pytest.fixture()
def compared() -> Iterator[list[str]]:
    """"full" or "partial" for each document comparison of the incremental builds that
    follow (a full build compares nothing)."""
    seen: list[str] = []
    real = docstate.document_states

    def spy(source: Any, manifest: Any, *, full: bool) -> Any:
        states = real(source, manifest, full=full)
        if not full:
            seen.append("partial" if states is not None and states.partial else "full")
        return states

    with mutant(pages, "document_states", spy):
        yield seen


def _equals_full(site: CardSite, root: Path, scratch: Path) -> None:
    built, full = output_files(root), full_card_build(site, scratch)
    assert sorted(f for f in built.keys() | full.keys() if built.get(f) != full.get(f)) == []


def _start(root: Path) -> CardSite:
    site = CardSite()
    site.write(root)
    new_process(root)  # the first build (full): its snapshot is of the state it recorded
    return site


def _revalidate(root: Path, doc: str) -> None:
    forget_process()
    change = Change(documents=(DocChange(doc, "post"),), reasons=("revalidate",))
    assert build(load_config(root), jobs=1, change=change).ok


def test_resumed_processes_compare_only_the_changed_documents(
        tmp_path: Path, compared: list[str]) -> None:
    root = tmp_path / "site"
    site = _start(root)
    for i, title in enumerate(["first edit", "second edit", "third edit"]):
        retitle(i, title)(site)
        site.write(root)
        if i == 1:
            _revalidate(root, "p1")
        else:
            new_process(root)
        _equals_full(site, root, tmp_path / "scratch")
    # The first resumes the full build's snapshot (its mark); the next ones the same,
    # stale snapshot, through the ids the build before noted.
    assert compared == ["partial", "partial", "partial"]


def test_an_edit_undone_after_a_resumed_process_is_built(
        tmp_path: Path, compared: list[str]) -> None:
    root = tmp_path / "site"
    site = _start(root)
    before = copy.deepcopy(site.docs)
    retitle(0, "an edit undone later")(site)
    site.write(root)
    new_process(root)  # records p0's new title; the snapshot keeps the old one
    site.docs = before
    site.write(root)
    new_process(root)  # the re-read finds p0 as in the snapshot: the base's ids say it moved
    assert compared[-1] == "partial"
    _equals_full(site, root, tmp_path / "scratch")


def test_a_build_from_another_source_state_compares_in_full(
        tmp_path: Path, compared: list[str]) -> None:
    """A full build between records another state (no lineage): the next process, which
    resumes the full build's snapshot, is partial again; one resuming an older snapshot
    than the manifest's compares in full."""
    root = tmp_path / "site"
    site = _start(root)
    older = snap_bytes(root)
    retitle(0, "edited")(site)
    site.write(root)
    new_process(root)
    assert build(load_config(root), full=True, jobs=1).ok
    with Manifest.open(root / ".ssgen" / "manifest.sqlite") as manifest:
        assert manifest.get_meta(docstate.BASE_KEY) == ""
    retitle(1, "edited again")(site)
    site.write(root)
    new_process(root)
    assert compared[-1] == "partial"
    (root / ".ssgen" / snap.FILE).write_bytes(older)  # the first build's, not the last
    retitle(2, "and again")(site)
    site.write(root)
    new_process(root)
    assert compared[-1] == "full"
    _equals_full(site, root, tmp_path / "scratch")


def snap_bytes(root: Path) -> bytes:
    return (root / ".ssgen" / snap.FILE).read_bytes()


def _undo(site: CardSite) -> None:
    """Every document back to the site's first state (the snapshot's, when not re-saved)."""
    site.docs = copy.deepcopy(site.first)  # type: ignore[attr-defined]


class _Steps:
    revalidate = "revalidate"


Step = Edit | Callable[[CardSite], None] | str
steps = st.one_of(card_edits, st.just(_undo), st.just(_Steps.revalidate))


def _run(steps: list[Step], resave: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        patch.setattr(snap, "RESAVE", resave)
        root, scratch = Path(tmp) / "site", Path(tmp) / "scratch"
        site = _start(root)
        site.first = copy.deepcopy(site.docs)  # type: ignore[attr-defined]
        for step in steps:
            if step == _Steps.revalidate:
                retitle(0, f"revalidated {len(site.docs)}")(site)
                site.write(root)
                _revalidate(root, "p0")
            else:
                step(site)  # type: ignore[operator]
                site.write(root)
                new_process(root)
            _equals_full(site, root, scratch)


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(steps, min_size=1, max_size=5), resave=st.sampled_from([0, RESAVE]))
def test_resumed_processes_with_edits_undone_equal_a_full_build(
        steps: list[Step], resave: int) -> None:
    _run(steps, resave)


def test_mutant_noted_ids_left_out_is_caught(tmp_path: Path, compared: list[str]) -> None:
    real = docstate._since_origin

    def origin_only(lineage: Any, recorded: str, base: str) -> Any:
        found = real(lineage, recorded, base)
        return None if found is None else lineage[1]

    with mutant(docstate, "_since_origin", origin_only), pytest.raises(AssertionError):
        test_an_edit_undone_after_a_resumed_process_is_built(tmp_path, compared)


def test_a_base_recorded_with_another_mark_is_not_used(
        tmp_path: Path, compared: list[str]) -> None:
    """A build that records its mark but no base (an older ssgen's) between: the base left
    from before it no longer describes the manifest, so the next process compares in full
    (its pages are also among those the pages log plans again: the output is checked too)."""
    root = tmp_path / "site"
    site = _start(root)
    before = copy.deepcopy(site.docs)
    retitle(0, "recorded by the newer build")(site)
    site.write(root)
    new_process(root)  # base: [mark, origin, {p0}]
    retitle(1, "an older build's edit")(site)
    site.write(root)
    _old_build(root)
    site.docs = before  # p1 undone: only the older build knew it had changed
    site.write(root)
    new_process(root)
    assert compared[-1] == "full"
    _equals_full(site, root, tmp_path / "scratch")


def test_mutant_base_of_another_mark_trusted_is_caught(
        tmp_path: Path, compared: list[str]) -> None:
    real = docstate._since_origin

    def any_mark(lineage: Any, recorded: str, base: str) -> Any:
        import json
        if base:
            _mark, origin, ids = json.loads(base)
            base = json.dumps([recorded, origin, ids])
        return real(lineage, recorded, base)

    with mutant(docstate, "_since_origin", any_mark), pytest.raises(AssertionError):
        test_a_base_recorded_with_another_mark_is_not_used(tmp_path, compared)


def _old_build(root: Path) -> None:
    """A build by an ssgen that records its mark but no base (the meta left as it was)."""
    real = Manifest.set_meta

    def no_base(self: Manifest, key: str, value: str) -> None:
        if key != docstate.BASE_KEY:
            real(self, key, value)

    with mutant(Manifest, "set_meta", no_base):
        new_process(root)


def test_mutant_origin_not_compared_is_caught(tmp_path: Path, compared: list[str]) -> None:
    real = docstate._since_origin

    def any_origin(lineage: Any, recorded: str, base: str) -> Any:
        import json
        if base:
            _mark, origin, _ids = json.loads(base)
            lineage = (origin, lineage[1])
        return real(lineage, recorded, base)

    with mutant(docstate, "_since_origin", any_origin), pytest.raises(AssertionError):
        test_a_build_from_another_source_state_compares_in_full(tmp_path, compared)


ORDER: list[str] = []


@pytest.fixture()
def order() -> Iterator[list[str]]:
    """"decode" when a snapshot is loaded, "read" when the input files' read is taken."""
    load, inputs = snap._load, early.inputs

    def loaded(*args: Any) -> Any:
        ORDER.append("decode")
        return load(*args)

    def taken(config: Any) -> Any:
        ORDER.append("read")
        return inputs(config)

    ORDER.clear()
    with mutant(snap, "_load", loaded), mutant(early, "inputs", taken):
        yield ORDER
    ORDER.clear()


def _cli_like_build(root: Path, change: Change | None = None) -> None:
    """A new process's build with its read on a thread, as the command line starts it
    (``early.begin`` for a build, ``early.read_ahead`` for a revalidate)."""
    forget_process()
    config = load_config(root)
    if change is None:
        early.begin(config, None)
    else:
        early.read_ahead(config)
    try:
        assert build(config, jobs=1, change=change).ok
    finally:
        early.discard()


def test_a_new_process_decodes_before_it_takes_the_read(
        tmp_path: Path, order: list[str]) -> None:
    root = tmp_path / "site"
    site = _start(root)
    retitle(0, "a longer title: the file is resized")(site)
    site.write(root)
    order.clear()
    _cli_like_build(root)
    assert order[:2] == ["decode", "read"]
    _equals_full(site, root, tmp_path / "scratch")
    retitle(2, "T9")(site)  # "T2" -> "T9": same size, so the digest decides first
    site.write(root)
    order.clear()
    _cli_like_build(root)
    assert order[:2] == ["read", "decode"]
    _equals_full(site, root, tmp_path / "scratch")
    retitle(1, "revalidated")(site)
    site.write(root)
    order.clear()
    _cli_like_build(root, Change(documents=(DocChange("p1", "post"),)))
    assert order[:2] == ["decode", "read"]
    _equals_full(site, root, tmp_path / "scratch")
    retitle(3, "T8")(site)  # same size, but no digest recorded by the revalidate: loads
    site.write(root)
    order.clear()
    _cli_like_build(root)
    assert order[:2] == ["decode", "read"]
    _equals_full(site, root, tmp_path / "scratch")
    with Manifest.open(root / ".ssgen" / "manifest.sqlite") as manifest:
        from ssgen.build import untouched
        from ssgen.sources.inputs import read_inputs

        read = read_inputs(load_config(root))
        assert manifest.get_meta("inputs") == read.fingerprint
        assert manifest.get_meta(untouched.SIZES_KEY) == untouched.input_sizes(read)


def test_mutant_read_taken_before_the_decode_is_caught(
        tmp_path: Path, order: list[str]) -> None:
    with mutant(early, "pending", lambda config: None), pytest.raises(AssertionError):
        test_a_new_process_decodes_before_it_takes_the_read(tmp_path, order)
