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
