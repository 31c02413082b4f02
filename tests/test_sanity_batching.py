"""SanitySource over httpx.MockTransport: dependency ids, batching, read-your-write freshness."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sanity_mock import Handler, make, ok, query_of

from ssgen.sources.sanity import StaleReadError
from ssgen.sources.sanity.batch import batchable, chunk, collect_ids, combine, rename_params
from ssgen.sources.sanity.http import SanityError

# --- ids, batching helpers, freshness ---------------------------------------------------


def test_ids_are_every_id_and_ref_in_the_result() -> None:
    value = [{"_id": "a", "author": {"_ref": "b", "_type": "reference"},
              "nested": [{"x": {"_id": "c"}}], "_originalId": "drafts.a"}, 5, None]
    assert collect_ids(value) == {"a", "b", "c", "drafts.a"}
    assert collect_ids({"_id": "x"}, drafts=True) == {"x", "drafts.x"}
    assert collect_ids([1, "a", {"id": "no"}]) == frozenset()


def test_rename_params_skips_strings_and_comments() -> None:
    text = '*[slug == $slug && title == "$slug" && x == \'a\\\'$b\'] // $c\n{$d}'
    assert rename_params(text, "q0_") == (
        '*[slug == $q0_slug && title == "$slug" && x == \'a\\\'$b\'] // $c\n{$q0_d}')


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(alphabet="ab $\"'\\/\n_x", max_size=30), max_size=4))
def test_rename_params_never_changes_text_without_params(parts: list[str]) -> None:
    text = "".join(parts).replace("$", "")
    assert rename_params(text, "q9_") == text


def test_combine_and_chunk() -> None:
    items = [(i, "*[_id == $id][0]", {"id": f"d{i}"}) for i in range(7)]
    groups = list(chunk(items, max_items=3, max_chars=10_000))
    assert [len(g) for g in groups] == [3, 3, 1]
    batch = combine(groups[0])
    assert batch.keys == ("q0", "q1", "q2") and batch.indexes == (0, 1, 2)
    assert batch.params == {"q0_id": "d0", "q1_id": "d1", "q2_id": "d2"}
    assert '"q1": (\n*[_id == $q1_id][0]\n)' in batch.text
    small = list(chunk(items, max_items=100, max_chars=80))
    assert all(len(g) <= 2 for g in small) and sum(len(g) for g in small) == 7
    assert not batchable("fn ex::a($x) = $x; ex::a(1)") and batchable("*[fn == 1]")


def test_batch_results_are_split_back_in_order() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        q = query_of(request)
        keys = [k[1:].split("_")[0] for k in q if k.startswith("$")]
        return ok({key: {"_id": json.loads(q[f"${key}_id"])} for key in keys})

    source, _ = make(handler, max_concurrency=1)
    source.batch = type(source.batch)(max_items=4, max_chars=10_000)
    requests = [("*[_id == $id][0]", {"id": f"doc{i}"}) for i in range(10)]
    results = source.query_many([*requests, ("count(*)", {})])
    assert [r.value for r in results[:10]] == [{"_id": f"doc{i}"} for i in range(10)]
    assert results[3].ids == {"doc3"}
    assert len(seen) == 3 + 1


def test_failed_batch_is_retried_one_by_one_to_name_the_bad_query() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        q = query_of(request)
        if "q0_id" in str(q) or q["query"] == "bad":
            err = {"type": "queryParseError", "description": "bad", "start": 0, "query": "bad"}
            return httpx.Response(400, json={"error": err})
        return ok(json.loads(q["$id"]))

    source, _ = make(handler)
    with pytest.raises(SanityError) as info:
        source.query_many([("$id", {"id": 1}), ("bad", {"id": 2})])
    assert info.value.query == "bad"


def lagging(new_after: int, seen: list[httpx.Request], *, main_lags: bool = False,
            project: bool = True) -> Handler:
    """Serves rev r1 for the first ``new_after`` requests, then r2 (the probe always sees
    r2 from then on; with ``main_lags`` the main query lags two requests more)."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        probe = "_id in $ids" in query_of(request)["query"]
        lag = new_after + (2 if main_lags and not probe else 0)
        rev = "r1" if len(seen) <= lag else "r2"
        if probe:
            return ok([{"_id": "post-1", "_rev": rev}])
        doc = {"_id": "post-1", "title": rev}
        return ok([{**doc, "_rev": rev} if project else doc])

    return handler


def kinds(seen: list[httpx.Request]) -> list[str]:
    return ["probe" if "$ids" in query_of(r) else "main" for r in seen]


def test_expect_rev_requeries_until_the_revision_arrives() -> None:
    seen: list[httpx.Request] = []
    source, slept = make(lagging(2, seen), use_cdn=True)
    result = source.query("*", expect_rev={"post-1": "r2"})
    assert result.value[0]["_rev"] == "r2" and len(slept) == 2
    assert kinds(seen) == ["probe", "probe", "probe", "main"]
    assert {r.url.host for r in seen} == {"proj1.api.sanity.io"}
    assert query_of(seen[0])["perspective"] == "raw" and query_of(seen[-1])["perspective"] == (
        "published")


def test_expect_rev_checks_the_result_too_when_it_carries_revs() -> None:
    seen: list[httpx.Request] = []
    source, _ = make(lagging(0, seen, main_lags=True))
    result = source.query("*", expect_rev={"post-1": "r2"})
    assert kinds(seen) == ["probe", "main", "probe", "main"] and result.value[0]["_rev"] == "r2"


def test_expect_rev_without_revs_in_the_result_relies_on_the_probe() -> None:
    seen: list[httpx.Request] = []
    source, _ = make(lagging(1, seen, project=False))
    result = source.query("*{_id, title}", expect_rev={"post-1": "r2"})
    assert kinds(seen) == ["probe", "probe", "main"]
    assert result.value == [{"_id": "post-1", "title": "r2"}]


def test_expect_rev_gives_up_with_the_stale_result() -> None:
    seen: list[httpx.Request] = []
    source, _ = make(lagging(100, seen))
    source.freshness_attempts = 3
    with pytest.raises(StaleReadError, match=r"post-1@r9 after 3 attempts \(last seen: post-1@r1"):
        source.query("*", expect_rev={"post-1": "r9"})
    assert len(seen) == 3


def test_expect_rev_none_waits_for_a_deletion() -> None:
    answers = [[{"_id": "gone", "_rev": "r1"}], [], []]

    def handler(request: httpx.Request) -> httpx.Response:
        return ok(answers.pop(0) if len(answers) > 1 else answers[0])

    source, slept = make(handler)
    assert source.query("*", expect_rev={"gone": None}).value == [] and len(slept) == 1
