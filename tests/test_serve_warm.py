"""serve/warm.py: warming the fragment cache gives way to changes and warms every page once."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.build.change import Change
from ssgen.errors import SsgenError
from ssgen.serve import warm
from ssgen.serve.warm import Warming


@settings(max_examples=200, deadline=None)
@given(sizes=st.dictionaries(st.from_regex(r"/[a-z]{1,6}/", fullmatch=True),
                             st.integers(0, 10**8), max_size=300),
       stops=st.lists(st.booleans(), max_size=40), chunk=st.integers(1, 50))
def test_every_page_is_warmed_once_largest_first(sizes: dict[str, int], stops: list[bool],
                                                 chunk: int) -> None:
    warming = Warming(sizes, sizes.__getitem__)
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
    assert sorted(built) == sorted(sizes)  # each page once
    assert built == sorted(sizes, key=lambda p: (-sizes[p], p))  # the long lists first


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
    assert warm._next_chunk(1000, 2.0) == 250
    assert warm._next_chunk(10, 5.0) == warm.FIRST_CHUNK
    assert warm._next_chunk(warm.MAX_CHUNK, 0.0) == warm.MAX_CHUNK


def test_a_failing_warm_round_ends_warming_without_raising() -> None:
    warming = Warming(["/a/", "/b/"], lambda _path: 0)

    def build(_change: Change) -> None:
        raise SsgenError("templates/post.html:3: boom")

    assert warming.run(build, lambda: False)
    assert warming.finished
