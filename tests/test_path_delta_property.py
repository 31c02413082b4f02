"""A list route's path set and its removed pages from its query's delta (issue 14): serve
rounds still give a clean full build's output, and a round looks at the paths its edit
moved, not at every page of the route.

The site of tests/test_nested_delta_property.py (a post route whose pages show their
neighbours, a paginated blog list, home, paginated ``each`` author and category routes
with correlated lists of posts), with post slugs that can clash. Through one kept source,
as serve runs it: inserts, deletes, retitles, re-dates across page boundaries, slug
changes (to a slug another post has, then away from it), authors and categories
retargeted, renames. After each round: the output equals a clean full build's (rounds
with a slug clash: the same failures as a clean build), the post route's path set
(``routes.reuse.path_set``) is every path of its pages, and once warm and without a
recorded failure, the post route's removed pages come from the paths that left it (at
most the edited post's old path), without its recorded pages read or its paths counted;
after a retitle, no list, paginated or ``each`` route's recorded pages are read at all.
What the planner removes always equals the diff of every route's recorded pages.
"""

from __future__ import annotations

import tempfile
from collections import Counter as RealCounter
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_incremental import assert_equals_full_build, snapshot
from test_nested_delta_property import (
    SETTINGS,
    Edit,
    Site,
    delete,
    edits,
    insert,
    posts_at,
    redate,
    remove_category,
    retitle,
)

from ssgen.build import collect as collect_module
from ssgen.build import plan as plan_module
from ssgen.build import routepaths as routepaths_module
from ssgen.build import slices
from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.manifest.store import Manifest
from ssgen.routes import patch as patch_module
from ssgen.routes import reuse as reuse_module
from ssgen.sources import open_source


def reslug(at: int, slug: str) -> Edit:
    """A post's slug set to one of a few, so that two posts may want one path."""
    def apply(site: Site) -> str:
        posts = site.posts()
        if posts:
            site.docs[posts[at % len(posts)]]["slug"]["current"] = f"post-{slug}"
        return "reslug"
    return apply


all_edits = st.one_of(edits, st.builds(reslug, posts_at, st.sampled_from(["x", "y", "p01"])))


class Round:
    """What one round looked at: the post route's recorded pages read whole, its paths
    counted from scratch, the paths that left it (None: not known)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.read_whole: list[str] = []
        self.counted = 0
        self.left: int | None = None
        self.queried = False  # the post route's query ran
        self.failed = False
        self.watched = False  # during the kept site's build (not the clean ones)


def _clean_failures(folder: Path, scratch: Path) -> set[str]:
    import shutil

    if scratch.exists():
        shutil.rmtree(scratch)
    shutil.copytree(folder, scratch, ignore=shutil.ignore_patterns("public", ".ssgen"))
    return {f.path for f in build(load_config(scratch), full=True, jobs=1).failures}


def _watch(monkeypatch: pytest.MonkeyPatch, now: list[Round]) -> None:
    real_for_route, real_path_set = Manifest.pages_for_route, collect_module.path_set
    real_left = routepaths_module.left_paths

    def for_route(self: Manifest, route: str) -> set[str]:
        if now[-1].watched:
            now[-1].read_whole.append(route)
        return real_for_route(self, route)

    def path_set(route: str, site: Any, pages: list[Any]) -> Any:
        found = real_path_set(route, site, pages)
        assert found is None or set(found) == {page.path for page in pages}
        return found

    def left_paths(route: str, site: Any, pages: list[Any], before: Any) -> Any:
        found = real_left(route, site, pages, before)
        if route == "post" and now[-1].watched:
            now[-1].left = None if found is None else len(found)
            now[-1].queried = True
        return found

    def counting(*args: Any) -> Any:
        now[-1].counted += now[-1].watched
        return RealCounter(*args)

    real_removed = plan_module._removed

    def removed(manifest: Manifest, collected: Any, full: bool) -> set[str]:
        """What the planner removes equals the diff of every route's recorded pages."""
        found = real_removed(manifest, collected, full)
        if not full:
            assert found == set().union(*(real_for_route(manifest, route) - paths for route,
                                          paths in collected.route_paths.items()))
        return found

    monkeypatch.setattr(plan_module, "_removed", removed)
    monkeypatch.setattr(Manifest, "pages_for_route", for_route)
    monkeypatch.setattr(collect_module, "path_set", path_set)
    monkeypatch.setattr(routepaths_module, "left_paths", left_paths)
    monkeypatch.setattr(reuse_module, "Counter", counting)


def run(steps: list[Edit], monkeypatch: pytest.MonkeyPatch) -> list[Round]:
    """Build, then one round per step through one kept source; each round's output must
    equal a clean full build's (its failures, while two posts want one path)."""
    rounds: list[Round] = []
    _watch(monkeypatch, rounds)
    with tempfile.TemporaryDirectory() as tmp:
        folder, scratch = Path(tmp) / "site", Path(tmp) / "scratch"
        site = Site()
        site.write(folder)
        config = load_config(folder)
        source = open_source(config, kept=True)
        rounds.append(Round("start"))
        assert build(config, jobs=1, source=source).ok
        for step in [retitle(3, "Warm"), retitle(4, "Warmer"), *steps, retitle(7, "Last")]:
            before = snapshot(folder / "public")
            rounds.append(Round(step(site)))
            site.write(folder)
            source.reload()
            rounds[-1].watched = True
            report = build(config, jobs=1, source=source)
            rounds[-1].watched = False
            slugs = [d["slug"]["current"] for d in site.docs.values() if d["_type"] == "post"]
            if len(set(slugs)) == len(slugs):
                assert_equals_full_build(report, folder, scratch, before)
            else:  # a held path keeps its last good page: compared by failures
                rounds[-1].failed = True
                assert {f.path for f in report.failures} == _clean_failures(folder, scratch)
    slices.forget()
    return rounds


def _check(rounds: list[Round]) -> None:
    """Warm rounds after a round without failures: the post route's removed pages come
    from at most the edited post's old path; its pages are neither read nor counted."""
    for previous, now in pairwise(rounds[2:]):
        assert now.counted == 0, (now.kind, now.counted)
        if not previous.failed and not now.failed:
            assert "post" not in now.read_whole, now.kind
            if now.kind == "retitle":  # no route's page count or item changed
                assert set(now.read_whole) <= {"home", "404"}, now.read_whole
            assert not now.queried or (now.left is not None and now.left <= 1), \
                (now.kind, now.left)


@SETTINGS
@given(steps=st.lists(all_edits, min_size=1, max_size=6))
def test_rounds_with_path_deltas_equal_full_build(steps: list[Edit]) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        _check(run(steps, monkeypatch))


def test_slug_clash_and_its_end(monkeypatch: pytest.MonkeyPatch) -> None:
    rounds = run([reslug(5, "x"), reslug(9, "x"), reslug(5, "y"), delete(9),
                  reslug(2, "p01"), insert("a1", ["c1"], "2024-01-03"), redate(4, "2022-12-31")],
                 monkeypatch)
    _check(rounds)
    assert [r.failed for r in rounds[3:6]] == [False, True, False]
    assert sum(r.left or 0 for r in rounds) >= 3  # x left twice, p09's path once


def test_mutant_recount_without_the_old_paths_is_caught(monkeypatch: pytest.MonkeyPatch) \
        -> None:
    def keeps_old(counts: Any, out: list[str], came: list[str]) -> Any:
        if counts is None:
            return None, None
        for path in came:
            counts[path] = counts.get(path, 0) + 1
        return counts, set()

    monkeypatch.setattr("ssgen.routes.spec.expand.recount", keeps_old)
    with pytest.raises(AssertionError):
        run([delete(3)], monkeypatch)


def test_mutant_nothing_left_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The path set right, but no path said to have left: a deleted post's page stays."""
    real = patch_module.recount

    def none_left(counts: Any, out: list[str], came: list[str]) -> Any:
        counts, left = real(counts, out, came)
        return counts, set() if left is not None else None

    monkeypatch.setattr("ssgen.routes.spec.expand.recount", none_left)
    with pytest.raises(AssertionError):
        run([delete(3)], monkeypatch)


def test_mutant_a_route_said_unchanged_without_its_set_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``left_since`` saying no path left whenever the route was seen before, whatever
    its path set now: a page past a category's shrunk list is not removed."""
    real = routepaths_module.left_since

    def trusting(config: Any, route: str, made: Any, before: Any, specs: Any) -> Any:
        seen = routepaths_module._SEEN.get((str(config.site_dir), config.hash, route))
        found = real(config, route, made, before, specs)
        return frozenset() if seen is not None and before is seen[0] else found

    monkeypatch.setattr(collect_module, "left_since", trusting)
    with pytest.raises(AssertionError):
        run([remove_category(1, "c1"), remove_category(3, "c1"), remove_category(5, "c1"),
             remove_category(7, "c1")], monkeypatch)
