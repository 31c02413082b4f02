"""A maintained item's stamp is a value key: renewed whenever its item is a new object,
kept when the item is, carried by a snapshot; the list route memos compare stamps. So
do the planner's kept pages, the data hashes and the feed memo for page specs, each
stamped when made.

The property: through random one-document edits, a snapshot's encoding and decoding in
the middle, and more edits, two passing entries have equal stamps exactly when their
items are the very same object (within one process's objects; equal scalars may be one
object with two stamps), the stamps of a result
list are its items' by place, a decoded query keeps the stamps it was saved with, equal
stamps across the snapshot stand for equal values, and no stamp of before the snapshot
comes back for an item the decoded process made. The mutants: an item re-projected
without a new stamp (caught here, and by the rounds of a kept source against a full
build), a list route's specs matched for any stamp, and a spec made again that keeps
the last stamp of its path (caught by the rounds).
"""

from __future__ import annotations

import copy
import dataclasses
import operator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from maintkit import maintain
from test_delta_pages_property import redate, run
from test_groq_maintained import NOW, PARAMS, QUERIES, apply_edit, edits, states
from test_incremental import update_title

from ssgen.build.memo import datahash, kept
from ssgen.groq.dataset import Dataset
from ssgen.groq.maintained import MaintainedQuery
from ssgen.groq.maintained import query as query_module
from ssgen.groq.values import same_json
from ssgen.routes import reuse
from ssgen.routes.page import PageMaker, PageSpec
from ssgen.routes.spec import expand_route
from ssgen.sources.snapshot import codec


class _Lineage:
    """The (stamp, item) pairs one process has seen: a stamp names one object, an object
    has one stamp."""

    def __init__(self, carried: dict[int, Any] | None = None) -> None:
        self.items: dict[int, Any] = dict(carried or {})  # stamp -> item (kept alive)
        self.stamps: dict[int, int] = {id(item): s for s, item in self.items.items()
                                       if type(item) in (dict, list)}

    def see(self, maintained: MaintainedQuery) -> None:
        for entry in maintained._entries.values():
            if not entry.passes:
                continue
            assert entry.stamp, "a passing entry without a stamp"
            known = self.items.setdefault(entry.stamp, entry.item)
            assert known is entry.item, "one stamp for two item objects"
            if type(entry.item) in (dict, list):  # equal scalars may be one object
                assert self.stamps.setdefault(id(entry.item), entry.stamp) == entry.stamp, \
                    "two stamps for one item object"
        result, stamps = maintained._result, maintained.stamps
        if type(result) is list and not maintained._shape.count:
            assert stamps is not None and len(stamps) == len(result)
            for item, stamp in zip(result, stamps, strict=True):
                assert self.items.get(stamp) is item, "a result's stamps not its items'"


def _passing(maintained: MaintainedQuery) -> dict[int, Any]:
    return {e.stamp: e.item for e in maintained._entries.values() if e.passes}


def _stamps_follow_items(text: str, start: dict[str, dict[str, Any]],
                         before: list[tuple[str, str, Any]],
                         after: list[tuple[str, str, Any]]) -> None:
    query, _shape, maintained = maintain(text, PARAMS)
    state = {doc_id: dict(doc) for doc_id, doc in start.items()}
    maintained.evaluate(Dataset(state.values()), None, NOW)
    first = _Lineage()
    first.see(maintained)
    version = maintained.version
    for edit in before:
        changed = apply_edit(state, edit)
        last = maintained._result
        maintained.evaluate(Dataset(state.values()), frozenset({changed}), NOW)
        first.see(maintained)
        assert (maintained.version == version) == (maintained._result is last)
        delta = maintained.delta
        if delta is not None and maintained._result is not last and delta.base is last:
            assert delta.base_version == version and delta.version == maintained.version
            assert delta.stamps is maintained.stamps
        version = maintained.version
    saved = _passing(maintained)
    import ssgen.sources.snapshot  # noqa: F401  (registers the state classes)

    decoded = codec.decode(codec.encode(maintained))
    assert decoded.version == maintained.version and decoded.stamps == maintained.stamps
    carried = _passing(decoded)
    assert carried.keys() == saved.keys()
    assert all(same_json(carried[s], saved[s]) for s in saved)
    second = _Lineage(carried)
    second.see(decoded)
    for edit in after:
        changed = apply_edit(state, edit)
        value, _ = decoded.evaluate(Dataset(state.values()), frozenset({changed}), NOW)
        second.see(decoded)
        # A stamp of before the snapshot names only the item it was decoded with.
        for stamp, item in _passing(decoded).items():
            if stamp in first.items:
                assert carried.get(stamp) is item, "a stamp of before for a new item"
        assert value == query.evaluate(Dataset(state.values()), PARAMS, NOW)


@settings(max_examples=200, deadline=None)
@given(text=st.sampled_from(QUERIES), start=states(), before=st.lists(edits, max_size=8),
       after=st.lists(edits, max_size=8))
def test_stamps_follow_the_items_across_a_snapshot(
        text: str, start: dict[str, dict[str, Any]], before: list[tuple[str, str, Any]],
        after: list[tuple[str, str, Any]]) -> None:
    _stamps_follow_items(text, start, before, after)


def _stale_stamps(monkeypatch: pytest.MonkeyPatch) -> None:
    """The mutant: an entry re-evaluated keeps the stamp of the one it replaces, whether
    or not its item is the same."""
    real = MaintainedQuery._evaluate

    def keeping(self: MaintainedQuery, doc: dict[str, Any], ctx: Any, parent: Any) -> Any:
        entry = real(self, doc, ctx, parent)
        old = self._entries.get(doc["_id"])
        if old is not None and old.passes and entry.passes:
            entry.stamp = old.stamp
        return entry

    monkeypatch.setattr(query_module.MaintainedQuery, "_evaluate", keeping)


def test_mutant_a_re_projection_without_a_new_stamp_is_caught_here(
        monkeypatch: pytest.MonkeyPatch) -> None:
    text = '*[_type == "post"] | order(title){_id, title}'
    start = {f"p{i}": {"_id": f"p{i}", "_type": "post", "title": f"t{i}"} for i in range(3)}
    _stamps_follow_items(text, start, [("p1", "title", "x")], [("p1", "title", "y")])
    _stale_stamps(monkeypatch)
    with pytest.raises(AssertionError):
        _stamps_follow_items(text, start, [("p1", "title", "x")], [("p1", "title", "y")])


def test_mutant_a_re_projection_without_a_new_stamp_is_caught_by_the_rounds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Serve's rounds through a kept source against a clean full build: the post list's
    pages are reused by their items' stamps, so a stale stamp is a stale page."""
    steps = [update_title(7, "Retitled"), redate(9, "2025-02-02"), update_title(9, "Later")]
    run(steps)
    _stale_stamps(monkeypatch)
    with pytest.raises(AssertionError):
        run(steps)


ROUTE = dataclasses.make_dataclass("Route", [
    ("name", str, "post"), ("path", str, "/posts/{slug}/"), ("template", str, "post.html"),
    ("tags", tuple, ()), ("each", Any, None), ("paginate", Any, None),
    ("paginate_by", Any, None)])


def _expand(value: list[Any], delta: Any, site: Any) -> list[Any]:
    return expand_route(ROUTE(), value, result_ids=frozenset(), scanned_types=frozenset(),
                        site=site, base_url="https://x", delta=delta)


def _posts(titles: dict[str, str]) -> MaintainedQuery:
    _query, _shape, maintained = maintain('*[_type == "post"] | order(_id){_id, title, slug}', None)
    docs = [{"_id": k, "_type": "post", "title": t, "slug": k} for k, t in titles.items()]
    maintained.evaluate(Dataset(docs), None, NOW)
    return maintained


def test_a_list_route_reuses_its_specs_by_stamp_for_items_decoded_apart() -> None:
    """The items of the result are other objects (decoded apart, as a record decoded on
    demand would be) with the same stamps: every spec is the last one; an item with a
    new stamp gets a new spec, the others stay."""
    site = object()
    titles = {f"p{i}": f"t{i}" for i in range(6)}
    maintained = _posts(titles)
    delta = maintained.delta
    assert delta is not None
    pages = _expand(maintained._result, delta, site)
    apart = copy.deepcopy(maintained._result)
    again = _expand(apart, dataclasses.replace(delta, result=apart, base=apart), site)
    assert all(map(operator.is_, again, pages))
    # p3 re-projected (a new stamp, a new version naming it) but decoded as the old
    # value: its page and its neighbours' (they show it) are made again, no other.
    stamps = list(delta.stamps)
    stamps[3] += 1
    apart2 = copy.deepcopy(apart)
    third = _expand(apart2, dataclasses.replace(
        delta, result=apart2, base=apart, stamps=stamps, base_version=delta.version,
        version=delta.version + 1, changed=frozenset({"p3"})), site)
    assert [a is b for a, b in zip(third, again, strict=True)] == \
        [True, True, False, False, False, True]
    assert reuse.peek("post", site) is not None


def test_mutant_specs_reused_for_any_stamp_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """A list route whose specs match any stamp (not the item's own) keeps a retitled
    post's page: the rounds against a full build catch it."""
    from ssgen.routes.spec import expand as expand_module

    steps = [update_title(7, "Retitled"), update_title(8, "Again")]
    run(steps)
    monkeypatch.setattr(expand_module, "same", lambda a, b: type(a) is type(b))
    with pytest.raises(AssertionError):
        run(steps)


def _specs(count: int) -> list[PageSpec]:
    return [PageSpec(f"/p{i}/", "post", "t.html", {"page": {"d": f"2024-01-0{i + 1}"}},
                     frozenset({f"doc:p{i}"})) for i in range(count)]


def test_kept_split_takes_a_spec_of_the_same_stamp_for_the_same_spec() -> None:
    """Specs decoded apart (other objects, the same stamps) are the recorded ones; a
    spec made again (a new stamp, equal fields) is planned, at the same places or not."""
    last = _specs(5)
    apart = copy.deepcopy(last)
    assert not any(map(operator.is_, apart, last))
    assert kept.split(apart, last, frozenset()) == ([], apart)
    apart[2] = PageSpec(*dataclasses.astuple(last[2])[:6])
    assert apart[2] == last[2] and apart[2].stamp != last[2].stamp
    assert kept.split(apart, last, frozenset()) == ([apart[2]], apart[:2] + apart[3:])
    shorter = apart[:1] + apart[2:]
    assert kept.split(shorter, last, frozenset()) == ([apart[2]], shorter[:1] + shorter[2:])
    assert kept.split(apart, last, frozenset({"/p4/"})) == (
        [apart[2], apart[4]], apart[:2] + apart[3:4])


def test_data_hashes_and_the_feed_take_a_spec_of_the_same_stamp() -> None:
    from ssgen.config.load.model import FeedConfig, SiteConfig
    from ssgen.render import generated

    site = "stamps-test"
    last = _specs(3)
    digests = [datahash.page_data_hash(spec, site) for spec in last]
    misses = datahash.misses()
    apart = copy.deepcopy(last)  # its contexts other objects: only the stamp says "same"
    assert [datahash.page_data_hash(spec, site) for spec in apart] == digests
    assert datahash.misses() == misses
    datahash.forget(site)
    feed = FeedConfig(route="post", date_field="d")
    memo = generated._FeedMemo()
    memo.update(feed, SiteConfig(), last)
    assert set(memo.specs) == {spec.stamp for spec in last}
    memo.update(feed, SiteConfig(), apart)  # nothing gone, nothing added
    assert all(memo.specs[spec.stamp][0] is spec for spec in last)


def test_mutant_a_spec_made_again_with_the_last_stamp_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A page spec made again for a path keeping the stamp of that path's last spec:
    the planner takes it for the recorded page, and the rounds against a full build
    find the page stale."""
    steps = [update_title(7, "Retitled"), update_title(8, "Again")]
    run(steps)
    real = PageMaker.page
    stamps: dict[str, int] = {}

    def keeping(self: PageMaker, path: str, *args: Any, **kwargs: Any) -> PageSpec:
        spec = real(self, path, *args, **kwargs)
        object.__setattr__(spec, "stamp", stamps.setdefault(path, spec.stamp))
        return spec

    monkeypatch.setattr(PageMaker, "page", keeping)
    with pytest.raises(AssertionError):
        run(steps)
