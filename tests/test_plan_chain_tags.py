"""``plan.tags_with_chain``: a page's recorded tags are its own with its template
chain's, whatever the rounds did (a hypothesis property over rounds of the same set, an
equal one, a new one, a page of few tags, chains that change); a page of many tags gets
the very union back while its set is the same object and its chain's tags are equal."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.build.plan import tags_with_chain
from ssgen.memos import forget_sites
from ssgen.routes.page import PageSpec, page_tags


def _spec(route: str, tags: frozenset[str]) -> PageSpec:
    return PageSpec("/a/", route, "a.html", {}, tags)


_CHAINS = [frozenset({"template:a.html", "template:base.html"}),
           frozenset({"template:a.html"})]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["same", "equal", "new", "few"]),
                          st.sampled_from([0, 1]), st.sampled_from(["r", "s"])),
                min_size=1, max_size=8))
def test_a_pages_tags_are_its_own_with_its_chains(rounds: list[tuple[str, int, str]]) -> None:
    forget_sites()
    tags = frozenset(f"doc:{i}" for i in range(100))
    for version, (kind, chain, route) in enumerate(rounds):
        if kind == "equal":
            tags = frozenset(tags)
        elif kind == "new":
            tags = frozenset(f"doc:{i}" for i in range(100 + version))
        elif kind == "few":
            tags = frozenset({f"doc:{version}"})
        # The route's own memo of the same path (``page_tags``) is not this one.
        page_tags(route, "/a/", tags, frozenset({"route:x"}))
        found = tags_with_chain(_spec(route, tags), _CHAINS[chain])
        assert found == tags | _CHAINS[chain]


def test_the_same_tags_and_chain_give_the_very_union() -> None:
    forget_sites()
    tags = frozenset(f"doc:{i}" for i in range(100))
    first = tags_with_chain(_spec("r", tags), _CHAINS[0])
    assert tags_with_chain(_spec("r", tags), frozenset(_CHAINS[0])) is first
    assert tags_with_chain(_spec("r", tags), _CHAINS[1]) is not first
