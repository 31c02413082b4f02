"""``kept.split`` with forced paths: a forced page already planned (the edited post's own,
forced by its webhook) needs no pass over the kept pages, and the split is what the pass
over them gives (a hypothesis property against it)."""

from __future__ import annotations

import copy
import operator
from itertools import compress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.build.memo import kept
from ssgen.routes.page import PageSpec


def _spec(path: str) -> PageSpec:
    return PageSpec(path, "post", "post.html", {}, frozenset())


def _by_pass(now: list[PageSpec], last: list[PageSpec],
             forced: frozenset[str]) -> tuple[list[PageSpec], list[PageSpec]]:
    """The split as the pass over every kept page gives it (no looked-at places)."""
    same = list(map(operator.is_, now, last)) if len(now) == len(last) \
        else [spec in set(last) for spec in now]
    fresh = list(compress(now, map(operator.not_, same)))
    held = list(compress(now, same))
    return fresh + [s for s in held if s.path in forced], [s for s in held
                                                           if s.path not in forced]


@settings(max_examples=200, deadline=None)
@given(size=st.integers(0, 30), data=st.data())
def test_split_with_forced_paths_equals_the_pass(size: int, data: st.DataObject) -> None:
    last = [_spec(f"/p{i}/") for i in range(size)]
    changed = data.draw(st.sets(st.integers(0, max(size - 1, 0)))) if size else set()
    now = [_spec(spec.path) if i in changed else spec for i, spec in enumerate(last)]
    paths = [spec.path for spec in now]
    forced = frozenset(data.draw(st.sets(st.sampled_from([*paths, "/elsewhere/"]))))
    fresh, held = kept.split(now, last, forced)
    want_fresh, want_held = _by_pass(now, last, forced)
    assert [id(s) for s in fresh] == [id(s) for s in want_fresh]
    assert [id(s) for s in held] == [id(s) for s in want_held]


class _Counted(frozenset[str]):
    """Forced paths that count the lookups in them."""

    lookups = 0

    def __contains__(self, path: object) -> bool:
        _Counted.lookups += 1
        return frozenset.__contains__(self, path)


def test_a_forced_page_planned_already_takes_no_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    last = [_spec(f"/p{i}/") for i in range(1000)]
    now = last.copy()
    now[500] = _spec("/p500/")
    monkeypatch.setattr(kept, "looked_at", lambda now, last: None)  # the scanning path too
    for forced in (_Counted({"/p500/"}), _Counted({"/p500/", "/p7/"})):
        _Counted.lookups = 0
        fresh, held = kept.split(now, last, forced)
        assert [spec.path for spec in fresh] == ["/p500/", *(forced - {"/p500/"})]
        assert len(held) == 999 - len(forced - {"/p500/"})
        # No lookup of the 999 kept pages' paths in the forced ones (those not planned
        # yet are looked up in a set of their own).
        assert _Counted.lookups == 0


def _decoded(spec: PageSpec) -> PageSpec:
    """Another object for the same spec (a snapshot's decode): its stamp kept."""
    twin = copy.copy(spec)
    assert twin is not spec and twin.stamp == spec.stamp
    return twin


@settings(max_examples=200, deadline=None)
@given(docs=st.lists(st.integers(1, 4), min_size=1, max_size=6), data=st.data())
def test_split_by_places_equals_the_split_by_stamps(docs: list[int],
                                                    data: st.DataObject) -> None:
    """An ``each`` route re-queried in part (``now``: some documents' pages, each the
    very kept page, the same spec decoded apart, a new spec at its path, or a page at a
    path new to the route): the split that looks each page up at its path's place in
    ``last`` (``by_path``) is the split by the set of every kept page's stamp."""
    last = [_spec(f"/d{d}/page/{n}/") for d, count in enumerate(docs) for n in range(count)]
    by_path = {spec.path: at for at, spec in enumerate(last)}
    now: list[PageSpec] = []
    for d in sorted(data.draw(st.sets(st.integers(0, len(docs) - 1)))):
        pages = [spec for spec in last if spec.path.startswith(f"/d{d}/")]
        for spec in pages + [_spec(f"/d{d}/page/{len(pages) + n}/")
                             for n in range(data.draw(st.integers(0, 2)))]:
            how = data.draw(st.sampled_from(["same", "decoded", "made"]))
            now.append(spec if how == "same" else _decoded(spec) if how == "decoded"
                       else _spec(spec.path))
    forced = frozenset(data.draw(st.sets(st.sampled_from([*by_path, "/elsewhere/"]))))
    fresh, held = kept.split(now, last, forced, by_path)
    want_fresh, want_held = kept.split(now, last, forced)
    assert [id(s) for s in fresh] == [id(s) for s in want_fresh]
    assert [id(s) for s in held] == [id(s) for s in want_held]


@settings(max_examples=200, deadline=None)
@given(size=st.integers(0, 30), data=st.data())
def test_split_at_looked_at_places_equals_the_pass(size: int, data: st.DataObject) -> None:
    """The expansion says which places it looked at (any sorted superset of those that
    changed): the kept pages (``kept.Without``, a view of ``now``) are the pass's."""
    last = [_spec(f"/p{i}/") for i in range(size)]
    changed = data.draw(st.sets(st.integers(0, max(size - 1, 0)))) if size else set()
    now = [_spec(spec.path) if i in changed else spec for i, spec in enumerate(last)]
    extra = data.draw(st.sets(st.integers(0, max(size - 1, 0)))) if size else set()
    places = sorted(changed | extra)
    paths = [spec.path for spec in now]
    forced = frozenset(data.draw(st.sets(st.sampled_from([*paths, "/elsewhere/"]))))
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(kept, "looked_at", lambda now, last: places)
        fresh, held = kept.split(now, last, forced)
    want_fresh, want_held = _by_pass(now, last, forced)
    assert [id(s) for s in fresh] == [id(s) for s in want_fresh]
    assert len(held) == len(want_held)
    assert [id(s) for s in held] == [id(s) for s in want_held]
