"""serve/warm.py: warming the fragment cache gives way to changes and warms every page once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sitekit import AUTHORS, CATEGORIES, CardSite, card_post, output_files

from ssgen.build.change import Change
from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.errors import SsgenError
from ssgen.serve import warm
from ssgen.serve.warm import Warming
from ssgen.serve.worker import RebuildWorker


@settings(max_examples=200, deadline=None)
@given(sizes=st.dictionaries(st.from_regex(r"/[a-z]{1,6}/", fullmatch=True),
                             st.integers(0, 10**8), max_size=300),
       stops=st.lists(st.booleans(), max_size=40), chunk=st.integers(1, 50),
       min_bytes=st.sampled_from([0, 1, 10**4, 10**7, 2 * 10**8]))
def test_every_page_is_warmed_once_largest_first(sizes: dict[str, int], stops: list[bool],
                                                 chunk: int, min_bytes: int) -> None:
    """Every page of at least ``min_bytes`` is warmed once, the longest first; no page
    shorter than that is warmed."""
    warming = Warming(sizes, sizes.__getitem__, min_bytes)
    wanted = [path for path in sizes if sizes[path] >= min_bytes]
    built: list[str] = []
    answers = iter(stops)

    def build(change: Change) -> None:
        built.extend(sorted(change.paths, key=lambda p: (-sizes[p], p)))

    rounds = 0
    while not warming.finished:
        rounds += 1
        assert rounds < 10_000
        done = warming.run(build, lambda: next(answers, False), chunk)
        assert done == warming.finished
    assert sorted(built) == sorted(wanted)  # each long enough page once, no other
    assert built == sorted(wanted, key=lambda p: (-sizes[p], p))  # the long lists first


def test_a_change_stops_warming_after_the_chunk_in_progress() -> None:
    warming = Warming([f"/p{n}/" for n in range(100)], lambda _path: 1)
    calls: list[int] = []
    pending = {"dirty": False}

    def build(change: Change) -> None:
        calls.append(len(change.paths))
        pending["dirty"] = True  # a webhook arrives while this chunk renders

    assert not warming.run(build, lambda: pending["dirty"], 10)
    assert calls == [10] and len(warming.left) == 90
    pending["dirty"] = False
    assert warming.run(build, lambda: False, 10)  # the next round finishes it
    assert sum(calls) == 100 and warming.finished


def test_chunks_grow_toward_half_a_second_and_stay_bounded() -> None:
    assert warm._next_chunk(32, 0.01) == 128  # at most 4x at a time
    assert warm._next_chunk(1, 0.001) == 4
    assert warm._next_chunk(1000, 2.0) == 250
    assert warm._next_chunk(10, 5.0) == warm.FIRST_CHUNK
    assert warm._next_chunk(warm.MAX_CHUNK, 0.0) == warm.MAX_CHUNK
    # A round's fixed cost of 5 s: a budget of twice that lets chunks grow past one page.
    assert warm._next_chunk(2, 6.0, budget=10.0) == 3


def test_chunks_outgrow_a_rounds_fixed_cost() -> None:
    # Each chunk costs 5 s whatever its size, plus 1 ms a page: sized to 0.5 s, every
    # chunk would stay one page (110,000 rounds at 100k). With the budget at twice the
    # cheapest chunk, they grow until the fixed cost is at most about half of each.
    warming = Warming([f"/p{n}/" for n in range(100_000)], lambda _path: 1)
    sizes: list[int] = []
    clock = {"now": 0.0}

    def build(change: Change) -> None:
        sizes.append(len(change.paths))
        clock["now"] += 5.0 + 0.001 * len(change.paths)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(warm.time, "perf_counter", lambda: clock["now"])
        assert warming.run(build, lambda: False)
    assert sum(sizes) == 100_000
    assert len(sizes) < 40, sizes
    assert max(sizes) <= warm.MAX_CHUNK


def test_a_failing_warm_round_ends_warming_without_raising() -> None:
    warming = Warming(["/a/", "/b/"], lambda _path: 0)

    def build(_change: Change) -> None:
        raise SsgenError("templates/post.html:3: boom")

    assert warming.run(build, lambda: False)
    assert warming.finished


def test_warming_never_reads_a_content_file_its_writer_is_still_writing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # At 100,000 posts the bench rewrote the NDJSON in place while serve warmed; a warm
    # chunk reloaded the half-written file and removed the pages of the posts not yet
    # written. Warming renders from the source the last round left.
    cards = CardSite()
    for i in range(4, 24):
        cards.docs[f"p{i}"] = card_post(f"p{i}", f"T{i}", AUTHORS[i % 2], CATEGORIES[: i % 3])
    site = tmp_path / "site"
    cards.write(site)
    build(load_config(site), full=True)
    before = output_files(site)
    data = site / "content" / "data.ndjson"
    whole = data.read_bytes()
    monkeypatch.setattr(warm, "FIRST_CHUNK", 1)
    of_site = Warming.of_site

    def writer_midway(config: Any, manifest: Any) -> Warming:
        warming = of_site(config, manifest)
        lines = whole.splitlines(keepends=True)
        data.write_bytes(b"".join(lines[: len(lines) // 3]))  # a writer a third of the way
        return warming

    monkeypatch.setattr(Warming, "of_site", staticmethod(writer_midway))
    worker = RebuildWorker(load_config(site), settle=0)  # rounds run here, not started
    worker._round()
    assert worker._warming is not None and worker._warming.finished
    assert output_files(site) == before
    data.write_bytes(whole)  # the writer finishes, then says so
    worker.submit(Change(reasons=("the file is written",)))
    worker._round()
    assert output_files(site) == before


def test_the_pages_of_each_route_are_warmed_first_together() -> None:
    """``first`` (a page of each route) in one build before the long pages; an
    interruption before it leaves it for the next call; a failing build ends it only."""
    warming = Warming(["/big/", "/bigger/"], {"/big/": 5, "/bigger/": 9}.__getitem__, 1,
                      first=["/b/", "/a/", "/b/"])
    built: list[list[str]] = []

    def build(change: Change) -> None:
        built.append(sorted(change.paths))

    assert not warming.finished
    assert not warming.run(build, lambda: True) and built == [] and not warming.finished
    assert warming.run(build, lambda: False, 1)
    assert built == [["/a/", "/b/"], ["/bigger/"], ["/big/"]] and warming.finished

    failing = Warming([], lambda _path: 0, first=["/a/"])

    def boom(_change: Change) -> None:
        raise SsgenError("templates/post.html:3: boom")

    assert failing.run(boom, lambda: False) and failing.finished


def _first_webhook_compiles(tmp_path: Path) -> list[str]:
    """A new serve on the cards site: its start-up round (and warming), then a retitle's
    round; the templates Jinja2 compiled in that round."""
    import jinja2
    from sitekit import forget_process, mutant

    cards = CardSite()
    site = tmp_path / "site"
    cards.write(site)
    build(load_config(site), full=True)
    forget_process()  # serve is a new process: no template compiled yet
    worker = RebuildWorker(load_config(site), settle=0)  # rounds run here, not started
    compiled: list[str] = []
    real = jinja2.Environment.compile

    def noting(self: Any, source: Any, name: Any = None, *args: Any, **kwargs: Any) -> Any:
        compiled.append(str(name))
        return real(self, source, name, *args, **kwargs)

    try:
        worker._round()
        assert worker.status()["state"] == "idle"
        cards.docs["p1"]["title"] = "Retitled"
        cards.write(site)
        with mutant(jinja2.Environment, "compile", noting):
            worker.submit(Change(reasons=("a webhook",)))
            worker._round()
        assert worker.last is not None and worker.last.ok
        assert "Retitled" in (site / "public" / "blog" / "index.html").read_text()
    finally:
        worker.stop()
    return compiled


def test_the_first_webhook_after_a_start_compiles_no_template(tmp_path: Path) -> None:
    assert _first_webhook_compiles(tmp_path) == []


def test_mutant_no_template_compiled_in_warming_is_caught(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``compile_all`` the page of each route still compiles its templates, but
    not ``_m.html``: ``_card.html`` imports it, and the warm render took the cards from
    the fragments the full build saved."""
    from ssgen.render.environment import Renderer

    monkeypatch.setattr(Renderer, "compile_all", lambda self: 0)
    assert _first_webhook_compiles(tmp_path) == ["_m.html"]


def test_the_warming_renders_a_page_of_each_route_first(tmp_path: Path) -> None:
    cards = CardSite()
    site = tmp_path / "site"
    cards.write(site)
    config = load_config(site)
    build(config, full=True)
    worker = RebuildWorker(config, settle=0)
    try:
        warming = Warming.of_site(config, worker._manifest)
    finally:
        worker.stop()
    assert warming.first == ["/authors/a1/", "/blog/", "/categories/c1/"]
