"""Tests for ssgen.routes.spec: the three route modes, pagination, path filling, tags, hashes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssgen.config.load import RouteConfig, SiteConfig
from ssgen.errors import ConfigError
from ssgen.routes.page import PageResult, PageSpec
from ssgen.routes.paths import canonical_path
from ssgen.routes.patterns import fill_pattern
from ssgen.routes.spec import (
    UNATTRIBUTED_LIMIT,
    check_unique,
    data_hash,
    each_params,
    expand_route,
    find_ids,
)

SITE = SiteConfig(title="Ex", base_url="https://ex.com/")
DATA = {"settings": {"title": "S"}, "nav": [1, 2]}


def route(**kwargs: Any) -> RouteConfig:
    fields: dict[str, Any] = {"name": "post", "path": "/blog/{slug}/", "template": "post.html"}
    fields.update(kwargs)
    return RouteConfig(**fields)


def post(n: int, **extra: Any) -> dict[str, Any]:
    return {"_id": f"p{n}", "_type": "post", "slug": f"s{n}", "title": f"T{n}", **extra}


def expand(r: RouteConfig, value: Any, **kwargs: Any) -> list[PageSpec]:
    kwargs.setdefault("result_ids", find_ids(value))
    kwargs.setdefault("scanned_types", frozenset({"post"}))
    kwargs.setdefault("site", SITE)
    kwargs.setdefault("data", DATA)
    return expand_route(r, value, **kwargs)


# --- list mode ---------------------------------------------------------------------------


def test_list_route_one_page_per_item_with_context() -> None:
    items = [post(1), post(2)]
    pages = expand(route(), items, result_ids={"p1", "p2"}, scanned_types=frozenset({"post"}))
    assert [p.path for p in pages] == ["/blog/s1/", "/blog/s2/"]
    first = pages[0]
    assert first.route == "post" and first.template == "post.html"
    assert first.context["page"] is items[0]
    assert first.context["url"] == "https://ex.com/blog/s1/"
    assert first.context["path"] == "/blog/s1/"
    assert first.context["route"] == "post"
    assert first.context["site"] is SITE and first.context["data"] is DATA
    assert first.params == {"slug": "s1"}


def test_list_route_pages_get_their_neighbours_in_query_order() -> None:
    items = [post(1), post(2), post(3)]
    pages = expand(route(), items)
    ctx = [p.context for p in pages]
    assert [c["prev"] for c in ctx] == [None, items[0], items[1]]
    assert [c["next"] for c in ctx] == [items[1], items[2], None]
    assert [c["prev_url"] for c in ctx] == [None, "/blog/s1/", "/blog/s2/"]
    assert [c["next_url"] for c in ctx] == ["/blog/s2/", "/blog/s3/", None]
    assert ctx[1]["prev"] is items[0]
    only = expand(route(), [post(1)])[0].context
    assert only["prev"] is None and only["next"] is None


def test_list_route_tags_per_item_plus_unattributed() -> None:
    items = [
        post(1, author={"_id": "a1", "name": "Ann"}),
        post(2, author={"name": "Bob"}),  # Bob's _id was projected away: id a2 unattributed
    ]
    # a1 and a2 are not the top-level _id of an item, so every page may depend on them
    r = route(tags=("posts", "post:{slug}"))
    pages = expand(r, items, result_ids={"p1", "p2", "a1", "a2"}, scanned_types=frozenset({"post"}))
    common = {"route:post", "type:post", "global:settings", "global:nav", "posts"}
    assert pages[0].tags == common | {"post:s1", "doc:p1", "doc:a1", "doc:a2"}
    assert pages[1].tags == common | {"post:s2", "doc:p2", "doc:a1", "doc:a2"}
    assert "doc:p2" not in pages[0].tags and "doc:p1" not in pages[1].tags


def test_list_route_many_unattributed_ids_go_to_the_first_page_only() -> None:
    n = UNATTRIBUTED_LIMIT + 10
    items = [{"slug": f"s{i}", "author": {"name": "Ann"}} for i in range(n)]  # no _id
    ids = {f"p{i}" for i in range(n)} | {"a1"}
    pages = expand(route(), items, result_ids=ids)
    assert {t for t in pages[0].tags if t.startswith("doc:")} == {f"doc:{i}" for i in ids}
    assert not any(t.startswith("doc:") for p in pages[1:] for t in p.tags)
    assert all("type:post" in p.tags for p in pages)
    few = expand(route(), items[:3], result_ids={"p0", "p1", "p2", "a1"})
    assert all({"doc:p0", "doc:p1", "doc:p2", "doc:a1"} <= p.tags for p in few)


def test_list_route_any_type_query_tag() -> None:
    pages = expand(route(), [post(1)], result_ids={"p1"}, scanned_types=None)
    assert "type:*" in pages[0].tags


def test_list_route_nested_fields_and_numbers() -> None:
    r = route(path="/{year}/{slug.current}/")
    items = [
        {"_id": "x", "year": 2024, "slug": {"current": "hi"}},
        {"_id": "y", "year": 2025.0, "slug": {"current": "yo"}},
    ]
    assert [p.path for p in expand(r, items)] == ["/2024/hi/", "/2025/yo/"]


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ({"_id": "doc-7"}, "missing"),
        ({"_id": "doc-7", "slug": None}, "missing"),
        ({"_id": "doc-7", "slug": {"current": "x"}}, "an object"),
        ({"_id": "doc-7", "slug": True}, "a boolean"),
        ({"_id": "doc-7", "slug": ["a"]}, "a list"),
    ],
)
def test_missing_or_bad_pattern_field_names_route_field_and_id(
    item: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigError) as info:
        expand(route(), [item])
    message = str(info.value)
    assert "'post'" in message and "'slug'" in message and "doc-7" in message
    assert problem in message


def test_missing_tag_field_is_config_error() -> None:
    with pytest.raises(ConfigError, match=r"tag 'post:\{nope\}'.*'nope'.*p1"):
        expand(route(tags=("post:{nope}",)), [post(1)])


def test_list_route_needs_a_list_of_objects() -> None:
    with pytest.raises(ConfigError, match=r"must return a list.*got an object"):
        expand(route(), post(1))
    with pytest.raises(ConfigError, match=r"item 1.*a string"):
        expand(route(), [post(1), "x"])


def test_values_are_inserted_as_is() -> None:
    pages = expand(route(), [post(1, slug="../../etc")])
    assert pages[0].path == "/blog/../../etc/"  # url_to_file rejects it at write time


# --- single mode -------------------------------------------------------------------------


def test_single_route_gets_whole_result_and_all_ids() -> None:
    r = route(name="home", path="/", template="home.html", tags=("home",))
    value = [post(1), post(2)]
    pages = expand(r, value, result_ids={"p1", "p2", "a9"}, scanned_types=frozenset({"post"}))
    assert len(pages) == 1
    assert pages[0].path == "/"
    assert pages[0].context["page"] is value
    assert "paginator" not in pages[0].context
    assert {"doc:p1", "doc:p2", "doc:a9", "type:post", "route:home", "home"} <= pages[0].tags


def test_single_route_tags_filled_from_object() -> None:
    r = route(name="about", path="/about/", tags=("page:{slug}",))
    pages = expand(r, post(3))
    assert "page:s3" in pages[0].tags


# --- pagination --------------------------------------------------------------------------


def paginate(n_items: int, size: int) -> list[PageSpec]:
    r = route(name="blog", path="/blog/", template="blog.html", paginate=size)
    ids = {f"p{i}" for i in range(n_items)}
    return expand(
        r, [post(i) for i in range(n_items)], result_ids=ids, scanned_types=frozenset({"post"})
    )


def test_pagination_paths_and_paginator() -> None:
    pages = paginate(25, 10)
    assert [p.path for p in pages] == ["/blog/", "/blog/page/2/", "/blog/page/3/"]
    second = pages[1].context["paginator"]
    assert second["number"] == 2 and second["pages"] == 3 and second["total"] == 25
    assert second["prev_url"] == "/blog/" and second["next_url"] == "/blog/page/3/"
    assert second["urls"] == ["/blog/", "/blog/page/2/", "/blog/page/3/"]
    assert [i["_id"] for i in second["items"]] == [f"p{i}" for i in range(10, 20)]
    assert pages[1].context["page"] == second["items"]
    assert pages[0].context["paginator"]["prev_url"] is None
    assert pages[2].context["paginator"]["next_url"] is None
    assert len(pages[2].context["paginator"]["items"]) == 5
    assert [p.params for p in pages] == [{"page": 1}, {"page": 2}, {"page": 3}]
    # The route is re-queried as a whole: its documents reach it through the first page.
    assert "doc:p24" in pages[0].tags and "doc:p0" in pages[0].tags
    assert not any(t.startswith("doc:") for p in pages[1:] for t in p.tags)
    assert all("route:blog" in p.tags for p in pages)


def test_pagination_zero_items_gives_one_empty_page() -> None:
    pages = paginate(0, 10)
    assert [p.path for p in pages] == ["/blog/"]
    paginator = pages[0].context["paginator"]
    assert paginator["items"] == [] and paginator["pages"] == 1 and paginator["total"] == 0
    assert paginator["prev_url"] is None and paginator["next_url"] is None


def test_pagination_exact_multiple_has_no_empty_tail() -> None:
    pages = paginate(20, 10)
    assert [p.path for p in pages] == ["/blog/", "/blog/page/2/"]
    assert len(pages[1].context["paginator"]["items"]) == 10


def test_pagination_errors() -> None:
    with pytest.raises(ConfigError, match=r"returns a list, got an object"):
        expand(route(name="blog", path="/blog/", paginate=5), post(1))
    with pytest.raises(ConfigError, match=r"end with '/'"):
        expand(route(name="blog", path="/blog.html", paginate=5), [])
    with pytest.raises(ConfigError, match=r"placeholders"):
        expand(route(paginate=5), [post(1)])


@given(n_items=st.integers(0, 200), size=st.integers(1, 30))
def test_pagination_every_item_exactly_once(n_items: int, size: int) -> None:
    pages = paginate(n_items, size)
    seen = [item["_id"] for page in pages for item in page.context["paginator"]["items"]]
    assert seen == [f"p{i}" for i in range(n_items)]
    assert len(pages) == max(1, -(-n_items // size))
    assert all(0 < len(p.context["paginator"]["items"]) <= size for p in pages if n_items)
    assert len({p.path for p in pages}) == len(pages)
    urls = pages[0].context["paginator"]["urls"]
    assert urls == [p.path for p in pages]
    for page in pages:
        pager = page.context["paginator"]
        assert pager["prev_url"] == (urls[pager["number"] - 2] if pager["number"] > 1 else None)


# --- each mode ---------------------------------------------------------------------------


def test_each_route_pages_params_and_tags() -> None:
    r = route(
        name="author",
        path="/authors/{slug}/",
        template="author.html",
        query="*[_type == 'author' && slug.current == $slug][0]",
        each="*[_type == 'author']{_id, 'slug': slug.current}",
        tags=("author:{slug}", "name:{name}"),
    )
    each_value = [
        {"_id": "a1", "slug": "ann"},
        {"_id": "a2", "slug": "bob"},
        {"_id": "a3", "slug": "gone"},
    ]
    results = [
        PageResult({"_id": "a1", "name": "Ann"}, frozenset({"a1", "p1"})),
        PageResult({"_id": "a2", "name": "Bob"}, frozenset({"a2"})),
        PageResult(None, frozenset()),
    ]
    pages = expand(
        r,
        each_value,
        result_ids={"a1", "a2", "a3"},
        scanned_types=frozenset({"author"}),
        page_results=results,
        page_scanned_types=frozenset({"post", "author"}),
    )
    assert [p.path for p in pages] == ["/authors/ann/", "/authors/bob/"]
    assert pages[0].params == {"_id": "a1", "slug": "ann"}
    assert pages[0].context["page"] == {"_id": "a1", "name": "Ann"}
    assert pages[0].tags == {
        "route:author",
        "type:author",
        "type:post",
        "global:settings",
        "global:nav",
        "doc:a1",
        "doc:p1",
        "author:ann",
        "name:Ann",
    }
    assert "doc:p1" not in pages[1].tags


def test_each_errors() -> None:
    r = route(name="author", path="/a/{slug}/", each="*", query="*")
    with pytest.raises(ConfigError, match=r"'author'.*list of objects.*an object"):
        each_params(r, {"slug": "x"})
    with pytest.raises(ConfigError, match=r"item 0 is a string"):
        each_params(r, ["x"])
    with pytest.raises(ConfigError, match=r"per-page results"):
        expand(r, [{"slug": "a"}])
    with pytest.raises(ConfigError, match=r"'slug'.*missing"):
        expand(r, [{"_id": "z"}], page_results=[PageResult({"x": 1})])


# --- helpers -----------------------------------------------------------------------------


def test_check_unique_two_fixed_routes_are_a_config_mistake() -> None:
    a = PageSpec("/x/", "one", "a.html", {}, frozenset())
    b = PageSpec("/x/", "two", "b.html", {}, frozenset())
    c = PageSpec("/x/index.html", "three", "c.html", {}, frozenset())
    fixed = {"one", "two", "three"}
    y = PageSpec("/y/", "two", "b.html", {}, frozenset())
    assert check_unique([a, y], fixed=fixed) == ([a, y], [])
    with pytest.raises(ConfigError, match=r"'/x/'.*'one'.*'two'.*make their path patterns"):
        check_unique([a, b], fixed=fixed)
    with pytest.raises(ConfigError, match=r"'one'.*'three'"):
        check_unique([a, c], fixed=fixed)


def test_check_unique_names_the_documents_and_the_fix() -> None:
    """Issue 19: a duplicate slug names both documents and says to fix the content."""
    def doc(ident: str, route: str = "post") -> PageSpec:
        return PageSpec("/blog/x/", route, "p.html", {"page": {"_id": ident}}, frozenset(),
                        {"slug": "x"})

    kept, (clash,) = check_unique([doc("p1"), doc("p2")])
    assert kept == [] and clash.winner is None and clash.routes == "post"
    assert clash.message() == (
        "document 'p1' (route 'post') and document 'p2' (route 'post') have the same path "
        "'/blog/x/': give one of them another slug (until then neither of them is "
        "published, and the page keeps its last good version)")
    index = PageSpec("/blog/x/", "index", "l.html", {"page": []}, frozenset())
    kept, (clash,) = check_unique([doc("pg", "page"), index], fixed={"index"})
    assert kept == [index] and clash.routes == "page,index"
    assert clash.message().startswith("document 'pg' (route 'page') has the path '/blog/x/' "
                                      "of route 'index': give it another slug")


def test_fill_pattern_without_placeholders() -> None:
    assert fill_pattern("/static/", None, route="r") == "/static/"


def test_find_ids_nested() -> None:
    value = {"_id": "a", "x": [{"_id": "b", "y": {"_id": "c"}}, {"_ref": "d"}], "_idx": "e"}
    assert find_ids(value) == {"a", "b", "c"}


@dataclass(frozen=True)
class _Thing:
    title: str


def test_data_hash_stable_and_sensitive() -> None:
    one = {"b": [1, 2, {"y": 1, "x": 2}], "a": "t", "p": Path("/x"), "s": {2, 1}}
    two = {"a": "t", "s": {1, 2}, "p": Path("/x"), "b": [1, 2, {"x": 2, "y": 1}]}
    assert data_hash(one) == data_hash(two)
    assert len(data_hash(one)) == 64
    assert data_hash({"a": 1}) != data_hash({"a": 2})
    assert data_hash({"a": [1, 2]}) != data_hash({"a": [2, 1]})
    assert data_hash({"site": _Thing("x")}) != data_hash({"site": _Thing("y")})
    with pytest.raises(TypeError):
        data_hash({"x": object()})
    assert data_hash({"n": 2**70, "a": 1}) == data_hash({"a": 1, "n": 2**70})


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda children: st.lists(children) | st.dictionaries(st.text(), children),
        max_leaves=20,
    )
)
def test_data_hash_ignores_key_order(value: Any) -> None:
    def reverse_keys(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: reverse_keys(v[k]) for k in reversed(list(v))}
        if isinstance(v, list):
            return [reverse_keys(x) for x in v]
        return v

    assert data_hash(value) == data_hash(reverse_keys(value))


@given(slug=st.text(), year=st.integers(-(10**6), 10**6))
def test_fill_pattern_inserts_values_verbatim(slug: str, year: int) -> None:
    """Tags take values as they are; paths too, then in their canonical encoding."""
    item = {"_id": "x", "slug": {"current": slug}, "year": year}
    assert fill_pattern("{year}:{slug.current}", item, route="r", key="tag") == f"{year}:{slug}"
    path = fill_pattern("/{year}/{slug.current}/", item, route="r")
    assert path == canonical_path(f"/{year}/{slug}/")
    assert canonical_path(path) == path


@given(st.lists(st.sampled_from(["/a/", "/b/", "/c/d/", "/e.html"]), max_size=6))
def test_check_unique_keeps_exactly_the_unshared_paths(paths: list[str]) -> None:
    pages = [PageSpec(p, f"r{i}", "t.html", {}, frozenset()) for i, p in enumerate(paths)]
    kept, clashes = check_unique(pages)
    assert [page.path for page in kept] == [p for p in paths if paths.count(p) == 1]
    assert sorted(clash.path for clash in clashes) == sorted(
        {p for p in paths if paths.count(p) > 1})
    assert all(clash.winner is None for clash in clashes)
