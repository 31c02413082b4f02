"""ssgen.sources.query_cache: which queries first maintained in a process make a resumed
snapshot worth saving again (``QueryCache.made``): a list query, and a param set whose
result reads ``RESAVE_IDS`` documents or more (an author's page of a grown site); not a
param set that reads a few (a post's page), nor one that was maintained already."""

from __future__ import annotations

from typing import Any

import pytest

from ssgen.groq import Dataset, parse
from ssgen.sources import query_cache
from ssgen.sources.query_cache import QueryCache

AUTHOR = parse('*[_type == "author" && slug.current == $slug][0]{_id, "posts": '
               '*[_type == "post" && references(^._id)] | order(n desc){n}}')
POST = parse('*[_type == "post" && n == $n][0]{n, "author": author->{_id}}')
LIST = parse('*[_type == "post"] | order(n desc){n}')


def _dataset(posts: int) -> Dataset:
    docs: list[dict[str, Any]] = [
        {"_id": name, "_type": "author", "slug": {"current": name}} for name in ("a", "b")]
    docs += [{"_id": f"p{n}", "_type": "post", "n": n,
              "author": {"_type": "reference", "_ref": "a" if n % 4 else "b"}}
             for n in range(posts)]
    return Dataset(docs)


def _query(cache: QueryCache, query: Any, params: dict[str, Any] | None,
           dataset: Dataset) -> frozenset[str]:
    found = cache.query(query, params, dataset, 1, lambda version: frozenset(), None)
    assert found is not None  # maintained
    return found[1]


def test_a_param_set_reading_many_documents_counts_as_made(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(query_cache, "RESAVE_IDS", 50)
    dataset, cache = _dataset(120), QueryCache()
    assert len(_query(cache, AUTHOR, {"slug": "a"}, dataset)) >= 50  # 90 posts and "a"
    assert cache.made == 1
    assert _query(cache, AUTHOR, {"slug": "a"}, dataset)  # maintained already: not again
    assert cache.made == 1
    assert len(_query(cache, AUTHOR, {"slug": "b"}, dataset)) < 50  # 30 posts and "b"
    assert len(_query(cache, POST, {"n": 7}, dataset)) < 50  # a post's page: a few
    assert cache.made == 1
    _query(cache, LIST, None, dataset)  # a list query counts whatever it reads
    assert cache.made == 2


def test_the_default_threshold_leaves_a_posts_page_out() -> None:
    dataset, cache = _dataset(query_cache.RESAVE_IDS * 2), QueryCache()
    assert len(_query(cache, AUTHOR, {"slug": "a"}, dataset)) >= query_cache.RESAVE_IDS
    _query(cache, POST, {"n": 3}, dataset)
    assert cache.made == 1
