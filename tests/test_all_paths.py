"""``plan.AllPaths``: every page path once a build is recorded, answered from the
manifest's view without a copy, whether or not the view shows the build's records yet."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ssgen.build.plan import AllPaths

paths = st.sets(st.sampled_from([f"/p{i}/" for i in range(12)]))


@given(recorded=paths, removed=paths, planned=paths, committed=st.booleans(), leave=paths)
def test_all_paths_equal_the_set_made_by_hand(recorded: set[str], removed: set[str],
                                              planned: set[str], committed: bool,
                                              leave: set[str]) -> None:
    removed &= recorded  # a build removes recorded pages it did not plan
    removed -= planned
    rows = dict.fromkeys(recorded)
    view = rows.keys()
    found = AllPaths(view, frozenset(removed), frozenset(planned))
    expected = (recorded - removed) | planned
    size = len(found)
    if committed:  # the commit brings the view along in place: planned pages recorded
        for path in removed:
            del rows[path]
        rows.update(dict.fromkeys(planned))
    assert size == len(expected)
    assert {p for p in [f"/p{i}/" for i in range(12)] if p in found} == expected
    assert set(found) == expected
    assert found - {"/p0/"} == expected - {"/p0/"}
    assert found == expected
    listed = found.listed(leave)
    assert listed == expected - leave and len(listed) == len(expected - leave)
    # The view's paths first, in its order, then the new planned ones.
    order = [path for path in rows if path in listed]
    assert list(listed)[:len(order)] == order
