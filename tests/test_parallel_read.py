"""sources.parallel.map_threaded: the plain loop's results and first error, with threads;
a full build reads its inputs that way and builds the same site."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sitekit import markdown_site

from ssgen.sources import parallel
from ssgen.sources.parallel import _MARKS, MIN_SLICE, later, map_threaded


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 40 * MIN_SLICE), st.lists(st.integers(0, 40 * MIN_SLICE), max_size=3),
       st.integers(1, 16), st.booleans())
def test_results_and_first_error_are_the_loops(size: int, bad: list[int], threads: int,
                                               disk: bool) -> None:
    failing = set(bad)

    def read(item: int) -> int:
        if item in failing:
            raise ValueError(item)
        return item * 2

    items = list(range(size))
    expected: list[int] | int
    try:
        expected = [read(item) for item in items]
    except ValueError as exc:
        expected = exc.args[0]
    # ``disk``: every probe counts as slow, so all but the first slice go to the threads.
    with mock.patch.object(parallel, "WARM_SECONDS", -1.0 if disk else 1.0):
        try:
            got: list[int] | int = map_threaded(read, items, threads)
        except ValueError as exc:
            got = exc.args[0]
    assert got == expected


def test_slow_reads_go_to_several_threads_fast_ones_stay_in_order() -> None:
    names: set[str] = set()

    def read(item: int) -> int:  # as the disk: milliseconds a file
        names.add(threading.current_thread().name)
        time.sleep(0.002)
        return item

    assert map_threaded(read, list(range(8 * MIN_SLICE)), 8) == list(range(8 * MIN_SLICE))
    assert len(names - {threading.main_thread().name}) > 1
    names.clear()
    assert map_threaded(read, list(range(MIN_SLICE)), 8) == list(range(MIN_SLICE))
    assert names == {threading.main_thread().name}  # too few to be worth a thread
    names.clear()

    def cached(item: int) -> int:  # as the page cache: microseconds a file
        names.add(threading.current_thread().name)
        return item

    assert map_threaded(cached, list(range(40 * MIN_SLICE)), 8) == list(range(40 * MIN_SLICE))
    assert names == {threading.main_thread().name}


def test_a_full_build_reads_its_files_threaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ssgen.sources.inputs
    import ssgen.sources.parallel
    from ssgen.build.pipeline import build
    from ssgen.config.load import load_config

    calls: list[int] = []

    def spy(read: Callable[[Any], Any], items: Sequence[Any], threads: int = 16) -> list[Any]:
        calls.append(len(items))
        return map_threaded(read, items, threads)

    monkeypatch.setattr(ssgen.sources.inputs, "map_threaded", spy)
    monkeypatch.setattr(ssgen.sources.parallel, "map_threaded", spy)  # under ``map_split``
    site = markdown_site(tmp_path)
    count = 3 * MIN_SLICE
    for i in range(count):
        (site / "content" / f"p{i}.md").write_text(f"---\ntitle: Page {i}\n---\n\nBody *{i}*.\n")
    report = build(load_config(site), full=True, jobs=1)
    assert report.ok and report.rendered == count
    assert calls == [count, count]  # the stamps, then the reads
    assert (site / "public" / "p7" / "index.html").read_text() == (
        "<h1>Page 7</h1><p>Body <em>7</em>.</p>\n")


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=200_000), st.integers(-1, 200_001))
def test_read_bytes_gives_the_whole_file_whatever_size_it_is_told(data: bytes,
                                                                   told: int) -> None:
    import tempfile

    from ssgen.sources.inputs import Input, read_bytes

    with tempfile.NamedTemporaryFile() as handle:
        handle.write(data)
        handle.flush()
        # a stale size (the file grew or shrank since its stat) still reads every byte
        assert read_bytes(Input(handle.name, "f", "ndjson", "f"), told) == data


# --- the second half on the other core (map_split) --------------------------------------


def test_map_split_gives_the_plain_map_and_forks_for_many_items(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    forks: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(parallel.os, "fork", fork)
    # Threads an earlier test left behind would turn the fork off (as they should).
    monkeypatch.setattr(parallel.threading, "active_count", lambda: 1)
    items = list(range(5000))
    assert parallel.map_split(lambda i: (i, i * i, str(i)), items) == [
        (i, i * i, str(i)) for i in items]
    assert len(forks) == 1  # the second half came from the child
    assert parallel.map_split(lambda i: i + 1, items[:100]) == list(range(1, 101))
    assert len(forks) == 1  # too few: no fork


def test_map_split_raises_the_first_error_in_order_and_takes_no_odd_results(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel.threading, "active_count", lambda: 1)  # forks regardless
    def fail_from(bad: int) -> Callable[[int], int]:
        def read(i: int) -> int:
            if i >= bad:
                raise ValueError(f"item {i}")
            return i
        return read

    items = list(range(5000))
    for bad in (10, 2600, 4999):  # in the first half, the child's half, the last item
        with pytest.raises(ValueError, match=f"item {bad}$"):
            parallel.map_split(fail_from(bad), items, least=1000)
    # Results marshal cannot carry: the child's half is computed here instead.
    odd = parallel.map_split(lambda i: Path(str(i)), items, least=1000)
    assert odd == [Path(str(i)) for i in items]


def test_map_split_does_not_fork_beside_other_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise AssertionError("forked with another thread running")

    monkeypatch.setattr(parallel.os, "fork", no_fork)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert parallel.map_split(lambda i: i, list(range(5000))) == list(range(5000))
    finally:
        stop.set()
        other.join()


def test_map_halves_gives_each_half_and_computes_here_what_does_not_fit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel.threading, "active_count", lambda: 1)  # forks regardless
    items = list(range(5000))

    def work(part: Sequence[int]) -> tuple[list[int], list[int]]:
        return list(part), [i * 2 for i in part]

    def fits(found: Any, count: int) -> bool:
        return type(found) is tuple and len(found[0]) == count

    assert parallel.map_halves(work, items, fits, least=1000) == [
        work(items[:2500]), work(items[2500:])]
    assert parallel.map_halves(work, items[:10], fits, least=1000) == [work(items[:10])]
    here = os.getpid()

    def pids(part: Sequence[int]) -> tuple[list[int], int]:
        return list(part), os.getpid()

    # The child's answer is refused (``fits`` says no): its half is computed here.
    halves = parallel.map_halves(pids, items, lambda found, count: False, least=1000)
    assert halves == [(items[:2500], here), (items[2500:], here)]
    # Accepted: the second half came from another process.
    halves = parallel.map_halves(pids, items, lambda found, count: True, least=1000)
    assert halves[0] == (items[:2500], here) and halves[1][1] != here


def _pairs(found: Any, count: int) -> bool:
    return type(found) is list and len(found) == count


def _one_thread() -> Any:
    """As in the new process ``later`` serves: in the whole suite an earlier test's thread
    may still be alive, and ``later`` then (rightly) declines to fork."""
    return mock.patch.object(parallel.threading, "active_count", return_value=1)


def test_later_gives_every_chunk_in_order_whichever_process_did_it() -> None:
    """The child works from the first chunk, the parent (once it asks) from the last: the
    results are those of one loop, each chunk done by one of them."""
    parent = os.getpid()

    def work(part: Sequence[int]) -> list[tuple[int, bool]]:
        if os.getpid() != parent:
            time.sleep(0.005)  # a slow child: the parent takes what it has not reached
        return [(item, os.getpid() == parent) for item in part]

    items = list(range(60))
    with mock.patch.object(parallel, "SPLIT_MIN", 1), \
            mock.patch.object(parallel, "LATER_CHUNK", 4), _one_thread():
        pending = later(work, items, _pairs)
        assert pending is not None
        deadline = time.monotonic() + 30
        while _MARKS.unpack_from(pending._marks)[0] < 2 and time.monotonic() < deadline:
            time.sleep(0.001)  # the child has done two chunks before the parent asks
        parts = pending.take()
    assert [item for part in parts for item, _ in part] == items
    here = [by_parent for part in parts for _, by_parent in part]
    assert not all(here[:8]) and here[-4:] == [True] * 4
    assert here == sorted(here)  # the child's from the first, the parent's to the last


def test_later_without_the_childs_answer_computes_it_here() -> None:
    def work(part: Sequence[int]) -> list[int]:
        if os.getpid() != parent:
            os._exit(1)  # the child dies: no answer
        return [item * 2 for item in part]

    parent = os.getpid()
    with mock.patch.object(parallel, "SPLIT_MIN", 1), \
            mock.patch.object(parallel, "LATER_CHUNK", 3), _one_thread():
        pending = later(work, list(range(10)), _pairs)
        assert pending is not None
        time.sleep(0.05)
        assert [x for part in pending.take() for x in part] == [x * 2 for x in range(10)]
