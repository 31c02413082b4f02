"""A cold build's tail work done beside its render (``render_pages``' ``beside``).

While the render's workers render, the build process works out what the sitemap will
take (each page's lastmod, the memo's rows: ``ssgen.build.extras.ahead``) and the
fragment store's key (``ssgen.build.fragfile.key_ahead``). The build must leave exactly
what it leaves without that: the same output and manifest, sitemap key included; the
memo ``prepare``d with any page set still gives a fresh sitemap of the real one; the
values worked out ahead are taken only for the very plan, renderer and texts they were
worked out of.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitekit import manifest_tables, markdown_site, mutant, output_files

from ssgen import memos
from ssgen.build import extras, fragfile, lastmod, workers
from ssgen.build.pipeline import build
from ssgen.build.pipeline import pages as pipeline
from ssgen.build.plan import RenderPlan
from ssgen.config.load import load_config
from ssgen.errors import SsgenError
from ssgen.render import environment
from ssgen.render.sitemap import absolute, sitemap_files
from ssgen.render.sitemap.memo import SitemapMemo
from ssgen.routes.page import PageSpec

PATHS = [f"/p{i}/" for i in range(10)] + ["/", "/a&b/"]
STAMPS = st.one_of(st.none(), st.sampled_from(["2024-01-01T00:00:00Z", "2025-06-01T10:00:00Z"]))
states = st.dictionaries(st.sampled_from(PATHS), STAMPS, max_size=len(PATHS))
BASE = "https://ex.com"


def _stamps(state: dict[str, str | None]) -> dict[str, str]:
    return {path: stamp for path, stamp in state.items() if stamp is not None}


def _fresh(state: dict[str, str | None], max_urls: int) -> dict[str, bytes]:
    return sitemap_files({absolute(BASE, p): s for p, s in state.items()}, BASE,
                         max_urls=max_urls)


@settings(max_examples=150, deadline=None)
@given(before=st.none() | states, guessed=states, real=states, max_urls=st.integers(1, 6))
def test_files_after_prepare_equal_a_fresh_sitemap(before: dict[str, str | None] | None,
                                                   guessed: dict[str, str | None],
                                                   real: dict[str, str | None],
                                                   max_urls: int) -> None:
    """``prepare`` with a guessed page set (the plan's, before pages fail), then ``files``
    of the real one: a fresh sitemap of the real one; a memo made warm by an earlier
    ``files`` call is left as it was (its next ``files`` as without the ``prepare``)."""
    memo = SitemapMemo()
    if before is not None:
        memo.files(set(before), _stamps(before), BASE, max_urls=max_urls)
    memo.prepare(set(guessed), _stamps(guessed), BASE, max_urls=max_urls)
    assert memo.warm == (before is not None and bool(before))
    assert memo.files(set(real), _stamps(real), BASE, max_urls=max_urls) \
        == _fresh(real, max_urls)


def test_a_prepared_memo_is_not_warm_and_a_warm_one_is_untouched() -> None:
    memo = SitemapMemo()
    memo.prepare({"/a/"}, {}, BASE, max_urls=10)
    assert not memo.warm  # so a new process's sitemap is still recorded under its key
    made = memo.files({"/a/"}, {}, BASE, max_urls=10)
    memo.prepare({"/b/"}, {}, BASE, max_urls=10)
    assert memo.changed([], [], [], {}) == made  # the rows are still those of the files


def _spec(path: str, stamp: str | None) -> PageSpec:
    page = {"title": path} if stamp is None else {"title": path, "_updatedAt": stamp}
    return PageSpec(path, "page", "page.html", {"page": page}, frozenset())


def test_lastmods_worked_out_ahead_are_taken_for_their_own_plan_only(tmp_path: Path) -> None:
    """``page_lastmods`` takes ``lastmods_ahead``'s values for the very list of specs
    they were worked out of, else works them out afresh."""
    config = load_config(markdown_site(tmp_path))
    first = RenderPlan({}, to_render=[_spec("/a/", "2024-01-01T00:00:00Z")])
    other = RenderPlan({}, to_render=[_spec("/a/", "2025-06-01T10:00:00Z")])
    assert lastmod.lastmods_ahead(config, first) == {"/a/": "2024-01-01T00:00:00Z"}
    assert lastmod._taken(other.to_render, config.sitemap.lastmod_field) is None
    lastmod.lastmods_ahead(config, first)
    assert lastmod._taken(first.to_render, "date") is None  # another field
    lastmod.lastmods_ahead(config, first)
    first.to_render.append(_spec("/b/", None))  # the planner appended to it since
    assert lastmod._taken(first.to_render, config.sitemap.lastmod_field) is None


def test_a_key_worked_out_ahead_is_taken_for_its_renderer_and_texts_only(
        tmp_path: Path) -> None:
    config = load_config(markdown_site(tmp_path))
    renderer = environment.Renderer(config)
    texts = fragfile._template_texts(renderer)
    fragfile.key_ahead(config, renderer)
    assert fragfile._key_taken(config, renderer, [("page.html", "other")]) is None
    fragfile.key_ahead(config, renderer)
    assert fragfile._key_taken(config, environment.Renderer(config), texts) is None
    fragfile.key_ahead(config, renderer)
    assert fragfile._key_taken(config, renderer, texts) == fragfile.store_key(config, renderer)
    assert fragfile._key_taken(config, renderer, texts) is None  # taken once


_TABLES = ("pages", "page_tags", "files", "failures", "journal", "templates", "template_deps",
           "globals", "path_history", "page_lastmod")
# Meta rows that differ between any two builds (generations, clocks, random marks).
_VOLATILE = ("files_checked_ns", "last_success", "pages_generation", "doclists", "documents_at",
             "lastmods")
_TEMPLATE = ("<h1>{{ page.title }}</h1>{% if page.title.startswith('boom') %}"
             "{{ page.nope.deeper }}{% endif %}{{ page.body | markdown }}")
_PAGE = st.tuples(st.sampled_from([f"p{i}" for i in range(30)]),
                  st.sampled_from(["one", "two", "boom", "three"]),
                  st.sampled_from(["", "date: 2024-01-02\n", "date: 2025-03-04\n", "date: x\n"]))
_PAGES = st.lists(_PAGE, min_size=1, max_size=24, unique_by=lambda page: page[0])


def _tables(site: Path) -> dict[str, list[Any]]:
    return manifest_tables(site, _TABLES, _VOLATILE)


def _cold_build(root: Path, pages: list[tuple[str, str, str]], *, beside: bool,
                jobs: int = 2) -> tuple[dict[str, Any], dict[str, bytes]]:
    """A new process's cold full build (no memos kept), rendered by forked workers."""
    site = markdown_site(root)
    (site / "ssgen.toml").write_text((site / "ssgen.toml").read_text().replace(
        "{title, ", "{title, date, ") + '[sitemap]\nlastmod_field = "date"\n')
    (site / "templates" / "page.html").write_text(_TEMPLATE)
    for name, title, extra in pages:
        (site / "content" / f"{name}.md").write_text(f"---\ntitle: {title}\n{extra}---\n\n*{name}*\n")
    memos.forget_sites()
    environment._SHARED.clear()
    with mutant(workers, "_PARALLEL_THRESHOLD", 0), pytest.MonkeyPatch.context() as patch:
        if not beside:
            patch.setattr(pipeline, "_beside_render", lambda *args: None)
        build(load_config(site), full=True, jobs=jobs)
    return _tables(site), output_files(site)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pages=_PAGES)
def test_a_cold_build_with_work_beside_its_render_leaves_what_one_without_leaves(
        pages: list[tuple[str, str, str]]) -> None:
    """Output and manifest (the sitemap's key and the lastmods included) the same with
    and without the work beside the render, whichever pages fail."""
    folder = Path(tempfile.mkdtemp())
    try:
        assert _cold_build(folder / "beside", pages, beside=True) \
            == _cold_build(folder / "after", pages, beside=False)
    finally:
        shutil.rmtree(folder)


def test_the_work_is_done_beside_a_parallel_render_only(tmp_path: Path) -> None:
    """Once, after the workers forked (they render meanwhile); not in a serial render."""
    calls: list[int] = []
    real = workers.start

    def started(*args: Any) -> Any:
        calls.append(0)
        return real(*args)

    def ahead(config: Any, plan: RenderPlan) -> None:
        assert calls == [0]  # the workers are rendering
        calls.append(len(plan.to_render))

    pages = [(f"p{i}", "one", "") for i in range(5)]
    with mutant(workers, "start", started), mutant(extras, "ahead", ahead):
        _cold_build(tmp_path / "parallel", pages, beside=True)
        assert calls == [0, 5]
        calls.clear()
        _cold_build(tmp_path / "serial", pages, beside=True, jobs=1)
        assert calls == []


def test_a_failure_beside_the_render_is_left_to_the_stage_after(tmp_path: Path) -> None:
    pages = [(f"p{i}", "one", "date: 2024-01-02\n") for i in range(5)]

    def fails(*args: Any) -> None:
        raise SsgenError("cannot")

    with mutant(extras, "ahead", fails):
        failed = _cold_build(tmp_path / "failed", pages, beside=True)
    assert failed == _cold_build(tmp_path / "after", pages, beside=False)
