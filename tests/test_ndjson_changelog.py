"""A dataset writer's change log (``ndjson.changelog``) read by serve's kept source.

Serve's rounds over a file edited by a writer that logs the bytes it changed, and by
hand besides (unlogged: written in place, or renamed over) before or after it: after
every round the output equals a clean full build's and the kept bytes equal the file;
the log is taken in the rounds where it vouches for the change. Mutants caught: a
reader that takes the record naming the file's stamp whatever it was written against,
and one that trusts a log whose chain starts at a stamp read within its write's tick.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servekit import kept_bytes
from sitekit import author, make_site, mutant, output_files, post
from test_serve import clean_build

from ssgen.build.change import Change, DocChange
from ssgen.config.load import load_config
from ssgen.serve.worker import RebuildWorker
from ssgen.sources.ndjson import changelog

POSTS = 5


def _bytes(titles: list[str]) -> bytes:
    docs = [author("a1", "Ada"), *(post(n + 1, title=t) for n, t in enumerate(titles))]
    return "".join(json.dumps(doc) + "\n" for doc in docs).encode()


def _common(old: bytes, new: bytes) -> tuple[int, int]:
    """The equal head and tail of two files (never overlapping in either)."""
    limit = min(len(old), len(new))
    prefix = 0
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    return prefix, suffix


def _logged_write(path: Path, titles: list[str]) -> bool:
    new = _bytes(titles)
    return changelog.write(str(path), new, *_common(path.read_bytes(), new))


def _hand_write(path: Path, titles: list[str], renamed: bool) -> None:
    if not renamed:
        path.write_bytes(_bytes(titles))
        return
    scratch = path.with_name("scratch.tmp")
    scratch.write_bytes(_bytes(titles))
    os.replace(scratch, path)


@contextmanager
def _started() -> Iterator[tuple[Path, Path, list[str], RebuildWorker]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        site = make_site(root)
        titles = [f"Post {n + 1}" for n in range(POSTS)]
        (site / "content").mkdir(parents=True, exist_ok=True)
        (site / "content" / "data.ndjson").write_bytes(_bytes(titles))
        worker = RebuildWorker(load_config(site), settle=0)
        try:
            worker._round()
            yield root, site, titles, worker
        finally:
            worker.stop()


EDITS = st.lists(st.tuples(st.integers(0, POSTS - 1), st.text("ab é", max_size=12)),
                 min_size=1, max_size=2)
# Each round: the logged edits; a hand edit (its edits, renamed over, after the logged
# write) or none; the post the webhook names.
ROUND = st.tuples(EDITS, st.none() | st.tuples(EDITS, st.booleans(), st.booleans()),
                  st.integers(0, POSTS - 1))
Round = tuple[list[tuple[int, str]], "tuple[list[tuple[int, str]], bool, bool] | None", int]


def run_rounds(rounds: list[Any]) -> int:
    """The rounds, each checked against a clean full build; how many took the log."""
    taken = 0
    real = changelog.logged_region

    def counted(*args: Any) -> Any:
        nonlocal taken
        found = real(*args)
        taken += found is not None
        return found

    with mutant(changelog, "logged_region", counted), _started() as (root, site, titles,
                                                                      worker):
        path = site / "content" / "data.ndjson"
        for logged, hand, named in rounds:
            if hand is not None and not hand[2]:  # the hand edit before the logged write
                for index, title in hand[0]:
                    titles[index] = title
                _hand_write(path, titles, hand[1])
            for index, title in logged:
                titles[index] = title
            _logged_write(path, titles)
            if hand is not None and hand[2]:  # after it
                for index, title in hand[0]:
                    titles[index] = title
                _hand_write(path, titles, hand[1])
            worker.submit(Change(documents=(DocChange(f"p{named + 1}", "post"),)))
            worker._round()
            assert worker.last is not None and worker.last.ok
            assert kept_bytes(worker) == path.read_bytes()
            assert output_files(site) == clean_build(site, root)
    return taken


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(rounds=st.lists(ROUND, min_size=1, max_size=4))
def test_logged_rounds_equal_a_full_build(rounds: list[Any]) -> None:
    run_rounds(rounds)


# Logged alone twice (the first starts from a file just written by hand: no chain; the
# second from the first's logged stamp); a hand edit of another post before the logged
# write (in place), then after it (renamed over); logged alone twice again; a
# same-length hand edit right after the logged write.
FIXED: list[Any] = [
    ([(1, "Logged")], None, 1),
    ([(1, "Logged, chained")], None, 1),
    ([(2, "Logged too")], ([(4, "By hand")], False, False), 2),
    ([(0, "Logged again")], ([(3, "Renamed")], True, True), 0),
    ([(1, "Logged, alone")], None, 1),
    ([(3, "Logged, chained again")], None, 3),
    ([(2, "Same")], ([(2, "Sane")], False, True), 2),
]


def test_the_log_is_taken_only_where_it_vouches() -> None:
    assert run_rounds(FIXED) == 2  # rounds 2 and 6: each other change was by hand, or
    # started from a file read within a tick of a hand edit


def test_mutant_record_taken_whatever_it_was_written_against_is_caught() -> None:
    def by_stamp(path: str, kept: Any, trusted: bool, stamp: Any) -> Any:
        records = changelog._records(changelog.log_path(path))
        found = [r for r in records if r.after == stamp]
        return (found[-1].prefix, found[-1].suffix) if found else None

    with mutant(changelog, "logged_region", by_stamp), pytest.raises(AssertionError):
        run_rounds(FIXED)


def test_a_chain_starts_only_at_a_logged_or_settled_stamp() -> None:
    """A stamp neither logged as a write's result nor read over a tick after its write
    (a hand edit followed at once by another of the same size could keep it) starts
    no chain."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.ndjson"
        path.write_bytes(_bytes(["a", "b"]))
        kept = changelog.stamp_of_path(str(path))
        assert _logged_write(path, ["a", "c"])
        now = changelog.stamp_of_path(str(path))
        assert changelog.logged_region(str(path), kept, True, now) is not None
        assert changelog.logged_region(str(path), kept, False, now) is None
        assert _logged_write(path, ["d", "c"])
        later = changelog.stamp_of_path(str(path))
        # ``now`` was logged as a write's result: it starts a chain, racy or not.
        assert changelog.logged_region(str(path), now, False, later) is not None
        assert changelog.logged_region(str(path), kept, True, later) is not None


def test_the_writer_lets_go_only_after_its_tick() -> None:
    """Once ``write`` returns, the clock file times come from is past the file's ctime:
    a write after it cannot keep the logged stamp."""
    import time

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.ndjson"
        path.write_bytes(_bytes(["a"]))
        for title in ("b", "c", "d"):
            assert _logged_write(path, [title])
            assert time.clock_gettime_ns(changelog._COARSE) > os.stat(path).st_ctime_ns


def test_an_open_reader_leaves_the_write_unlogged() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.ndjson"
        path.write_bytes(_bytes(["a"]))
        with mutant(changelog, "LEASE_WAIT", 0.05), path.open("rb"):
            assert not _logged_write(path, ["b"])
        assert path.read_bytes() == _bytes(["b"])
        assert changelog._records(changelog.log_path(str(path))) == []
