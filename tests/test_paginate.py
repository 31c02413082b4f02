"""ssgen.routes.paginate hands back the last build's page only when it equals a fresh expansion."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.config.load import RouteConfig, SiteConfig
from ssgen.routes import paginate
from ssgen.routes.page import PageSpec
from ssgen.routes.spec import expand_route

SITE = SiteConfig(title="Ex", base_url="https://ex.com/")
ROUTE = RouteConfig(name="blog", path="/blog/", template="blog.html", paginate=3)


def expand(items: list[Any], *, site: SiteConfig = SITE, data: Any = None,
           ids: frozenset[str] | None = None) -> list[PageSpec]:
    ids = ids if ids is not None else frozenset(item["_id"] for item in items)
    return expand_route(ROUTE, items, result_ids=ids, scanned_types=frozenset({"post"}),
                        site=site, data=data if data is not None else {"s": 1})


def fresh(items: list[Any], **kwargs: Any) -> list[PageSpec]:
    """The expansion with no memo (as the first build of a process makes it)."""
    saved = dict(paginate._LAST)
    paginate._LAST.clear()
    try:
        return expand(items, **kwargs)
    finally:
        paginate._LAST.clear()
        paginate._LAST.update(saved)


def item(n: int, title: str = "") -> dict[str, Any]:
    return {"_id": f"p{n}", "title": title or f"T{n}"}


def test_unchanged_pages_are_the_same_objects_and_changed_ones_are_new() -> None:
    paginate._LAST.clear()
    items = [item(i) for i in range(9)]
    first = expand(items)
    again = expand(list(items))  # a new list of the same item objects
    assert all(a is b for a, b in zip(first, again, strict=True))
    items[4] = item(4, "edited")  # page 2 (items 3-5)
    edited = expand(items)
    assert [a is b for a, b in zip(again, edited, strict=True)] == [True, False, True]
    assert edited[1].context["page"][1]["title"] == "edited"


def test_new_site_settings_globals_or_ids_make_new_pages() -> None:
    paginate._LAST.clear()
    items = [item(i) for i in range(6)]
    base = expand(items)
    other_site = expand(items, site=SiteConfig(title="Other", base_url="https://ex.com/"))
    assert not any(a is b for a, b in zip(base, other_site, strict=True))
    assert other_site[0].context["site"].title == "Other"
    expand(items)
    globals_changed = expand(items, data={"s": 2})
    assert all(p.context["data"] == {"s": 2} for p in globals_changed)
    expand(items)
    more_ids = expand(items, ids=frozenset({"p0", "a1"}))
    assert "doc:a1" in more_ids[0].tags


edits = st.lists(st.tuples(
    st.sampled_from(["keep", "replace", "replace-many", "insert", "delete", "globals", "site",
                     "ids"]),
    st.integers(0, 30)), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(start=st.integers(0, 12), steps=edits)
def test_memoised_expansion_equals_a_fresh_one(start: int, steps: list[tuple[str, int]]) -> None:
    paginate._LAST.clear()
    items = [item(i) for i in range(start)]
    data: dict[str, Any] = {"s": 0}
    site, extra_ids = SITE, frozenset[str]()
    serial = start
    for op, at in steps:
        serial += 1
        if op == "replace" and items:
            items[at % len(items)] = item(at, f"v{serial}")
        elif op == "replace-many" and items:  # several pages change in one build
            for n in range(at % 4 + 1):
                items[(at * (n + 1) + n) % len(items)] = item(at + n, f"v{serial}")
        elif op == "insert":
            items.insert(at % (len(items) + 1), item(serial))
        elif op == "delete" and items:
            del items[at % len(items)]
        elif op == "globals":
            data = {"s": at % 2}  # equal values may come back as new objects
        elif op == "site":
            site = SiteConfig(title=f"Ex{at % 2}", base_url="https://ex.com/")
        elif op == "ids":
            extra_ids = frozenset({f"a{at % 3}"})
        ids = frozenset(i["_id"] for i in items) | extra_ids
        got = expand(list(items), site=site, data=data, ids=ids)
        want = fresh(list(items), site=site, data=data, ids=ids)
        assert [(p.path, p.tags, p.params, p.context) for p in got] == \
            [(p.path, p.tags, p.params, p.context) for p in want]
