"""The route expansions a source snapshot carries (``kept.export``/``carry``), taken by a
new process through ``.ssgen/pages.log`` (``ssgen.build.memo.pagelog``).

A new process after a one-post edit plans the pages whose specs are new objects and
keeps the rest as the snapshot's generation recorded them, with every path a build
planned or removed since then planned too. The property: generated edits (sitekit's
card edits, and reverts of every document to the snapshot's state: a page that an
earlier process re-rendered while its spec is the snapshot's object again) through new
processes, the snapshot re-saved never or every time, the log intact or removed, equal
a clean full build. Mutants caught: the log's paths ignored (a reverted post keeps the
title an earlier process gave it), a broken chain taken as an empty one.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitekit import (
    CardSite,
    card_edits,
    forget_process,
    full_card_build,
    mutant,
    output_files,
    retitle,
    snapshot_file,
)
from test_source_snapshot import FeedSite, PagedSite

from ssgen.build.memo import kept, pagelog
from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.sources import snapshot as snap

REVERT = "revert"  # every document and template back to the first build's
DROP_LOG = "drop log"  # .ssgen/pages.log removed: the chain is broken
Step = Callable[[CardSite], None] | str


def new_process(root: Path) -> tuple[int, int]:
    """A new process's incremental build; (pages planned, pages kept)."""
    forget_process()
    report = build(load_config(root), jobs=1)
    assert report.ok, report.failures
    return report.planned, report.kept


def run(steps: list[Step], resave: int, make: Callable[[], CardSite] = CardSite) -> None:
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        patch.setattr(snap, "RESAVE", resave)
        root, scratch = Path(tmp) / "site", Path(tmp) / "scratch"
        site = make()
        first = copy.deepcopy(site.docs), dict(site.templates)
        site.write(root)
        new_process(root)
        for step in steps:
            if step == DROP_LOG:
                (root / ".ssgen" / pagelog.FILE).unlink(missing_ok=True)
            elif step == REVERT:
                site.docs, site.templates = copy.deepcopy(first[0]), dict(first[1])
            else:
                assert callable(step)
                step(site)
            site.write(root)
            new_process(root)
            built, full = output_files(root), full_card_build(site, scratch)
            stale = sorted(f for f in built.keys() | full.keys() if built.get(f) != full.get(f))
            assert not stale, f"differs from a full build: {stale}"


steps = st.one_of(card_edits, st.just(REVERT), st.just(DROP_LOG))


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(steps, min_size=1, max_size=6), resave=st.sampled_from([0, 10**6]),
       make=st.sampled_from([CardSite, FeedSite, PagedSite]))
def test_carried_expansions_equal_a_full_build(steps: list[Step], resave: int,
                                               make: Callable[[], CardSite]) -> None:
    run(steps, resave, make)


ABA: list[Step] = [retitle(0, "x"), REVERT]


def test_a_reverted_post_is_planned_through_the_log() -> None:
    run(ABA, 10**6)


def test_mutant_log_paths_ignored_is_caught() -> None:
    real = pagelog.written_since

    def empty(config: object, base: str, head: str | None) -> frozenset[str] | None:
        found = real(config, base, head)  # type: ignore[arg-type]
        return None if found is None else frozenset()

    with mutant(pagelog, "written_since", empty), pytest.raises(AssertionError):
        run(ABA, 10**6)


def test_mutant_broken_chain_taken_as_empty_is_caught() -> None:
    real = kept.take_carried

    def trusting(site: str, written: Callable[[str], frozenset[str] | None]) -> object:
        return real(site, lambda base: written(base) or frozenset())

    with mutant(kept, "take_carried", trusting), pytest.raises(AssertionError):
        run([retitle(0, "x"), DROP_LOG, REVERT], 10**6)


def test_a_new_process_plans_the_edited_post_only(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snap, "RESAVE", 10**6)
    site = FeedSite()
    site.write(tmp_path)
    new_process(tmp_path)
    assert snapshot_file(tmp_path).exists()
    chained = []
    for title in ("x", "yy"):
        retitle(1, title)(site)
        site.write(tmp_path)
        chained.append(new_process(tmp_path))
    (tmp_path / ".ssgen" / pagelog.FILE).unlink()
    retitle(1, "zzz")(site)
    site.write(tmp_path)
    planned, kept_pages = new_process(tmp_path)
    assert kept_pages == 0  # no chain: nothing kept, every page of the routes planned
    assert all(kept > 0 and fewer < planned for fewer, kept in chained), (chained, planned)
