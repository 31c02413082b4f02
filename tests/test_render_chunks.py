"""How the render stage splits its pages among processes (``ssgen.build.workers._chunks``).

Generated page lists (ordinary pages, pages listing hundreds or thousands of items, more
pages than the pipe takes chunk numbers for): every page is in exactly one chunk, the
others in their order, then each heavy page alone, largest first,
and never more chunks than ``fan_out`` accepts. The output of a build that renders heavy
pages in parallel equals a one-process build's byte for byte.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sitekit import DEFAULT_TEMPLATES, SITE_TOML, make_site, output_files

from ssgen.build import workers
from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.routes.page import PageSpec
from ssgen.sources.fanout import MAX_CHUNKS


def page(i: int, items: int, shape: str) -> PageSpec:
    data: Any = {"posts": list(range(items)), "title": "t"} if shape == "dict" \
        else list(range(items)) if shape == "list" else "text"
    return PageSpec(f"/p{i}/", "r", "t.html", {"page": data}, frozenset())


sizes = st.one_of(st.integers(0, 20), st.integers(250, 3000))
lists = st.lists(st.tuples(sizes, st.sampled_from(["dict", "list", "none"])), max_size=300)


@settings(max_examples=200, deadline=None)
@given(pages=lists, heavy=st.integers(1, 300), most=st.integers(1, 50))
def test_every_page_once_heavy_ones_alone_and_last(pages: list[tuple[int, str]], heavy: int,
                                                    most: int) -> None:
    specs = [page(i, n, shape) for i, (n, shape) in enumerate(pages)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(workers, "_HEAVY_ITEMS", heavy)
        patch.setattr(workers, "_MOST_HEAVY", most)
        chunks = workers._chunks(specs)
    flat = [spec for chunk in chunks for spec in chunk]
    assert sorted(s.path for s in flat) == sorted(s.path for s in specs)
    assert len(flat) == len(specs) and all(chunks)
    weight = {s.path: workers._items(s) for s in specs}
    expected = sorted((weight[s.path] for s in specs if weight[s.path] >= heavy),
                      reverse=True)[:most]
    tail = chunks[len(chunks) - len(expected):] if expected else []
    assert all(len(chunk) == 1 for chunk in tail)
    assert [weight[c[0].path] for c in tail] == expected
    rest = flat[:len(flat) - len(expected)]
    order = {s.path: i for i, s in enumerate(specs)}
    assert [order[s.path] for s in rest] == sorted(order[s.path] for s in rest)
    assert len(chunks) <= MAX_CHUNKS


@pytest.mark.parametrize("count", [1, 63, 64, 65, 255, 256, 257, 1000, 16000])
def test_the_last_chunks_are_finer(count: int) -> None:
    """Ordinary pages: chunks of 64, then the last 256 pages in chunks of 16, so that the
    process that takes the last chunk does not keep the others waiting long."""
    chunks = workers._chunks([page(i, 1, "list") for i in range(count)])
    sizes = [len(chunk) for chunk in chunks]
    assert sum(sizes) == count
    assert max(sizes) <= (64 if count > 256 else 16)
    if count >= 256:
        assert sizes[-16:] == [16] * 16


def test_more_pages_than_chunk_numbers_fit() -> None:
    specs = [page(i, 300 if i % 7 == 0 else 1, "list") for i in range(MAX_CHUNKS * 70)]
    chunks = workers._chunks(specs)
    assert len(chunks) <= MAX_CHUNKS
    assert sum(map(len, chunks)) == len(specs)


TOML = SITE_TOML + """
[[routes]]
name = "post"
path = "/blog/{slug}/"
template = "post.html"
query = '*[_type == "post"]{_id, title, "slug": slug.current, "author": author->name}'

[[routes]]
name = "index"
path = "/blog/"
template = "list.html"
query = '*[_type == "post"] | order(title asc){title, "slug": slug.current}'
paginate = 300
"""


def test_heavy_pages_in_parallel_equal_one_process(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    docs = [{"_id": f"p{i}", "_type": "post", "title": f"T{i % 97}",
             "slug": {"current": f"s{i}"}} for i in range(1000)]
    monkeypatch.setattr(workers, "_PARALLEL_THRESHOLD", 0)
    outputs = []
    for jobs, heavy in ((1, 256), (2, 256), (2, 1)):
        monkeypatch.setattr(workers, "_HEAVY_ITEMS", heavy)
        root = make_site(tmp_path / f"{jobs}-{heavy}", docs, TOML, DEFAULT_TEMPLATES)
        report = build(load_config(root), full=True, jobs=jobs)
        assert report.ok and report.rendered == 1004
        outputs.append(output_files(root))
    assert outputs[0] == outputs[1] == outputs[2]


def test_the_list_pages_are_heavy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The site above does give ``_chunks`` heavy pages (its paginated list's pages)."""
    seen: list[list[list[PageSpec]]] = []
    real = workers._chunks
    monkeypatch.setattr(workers, "_PARALLEL_THRESHOLD", 0)
    monkeypatch.setattr(workers, "_chunks", lambda specs: seen.append(real(specs)) or seen[-1])
    docs = [{"_id": f"p{i}", "_type": "post", "title": "T", "slug": {"current": f"s{i}"}}
            for i in range(700)]
    root = make_site(tmp_path, docs, TOML, DEFAULT_TEMPLATES)
    assert build(load_config(root), full=True, jobs=2).ok
    assert [len(chunk) for chunk in seen[0][-2:]] == [1, 1]
    assert workers._items(seen[0][-2][0]) == 300
