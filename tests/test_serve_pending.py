"""Serve's kept NDJSON bytes are patched after a round's replies (``Cached.settle``).

A round re-reads the edited file against the bytes the kept source holds, parses the
changed lines from the old bytes around the change, and replies; moving the kept bytes
after the change waits for the round's ``settle``. Between the reply and the settle the
source is read (queries, the fingerprint that reads the bytes), the file is edited
again (written in place, truncating it, or as a new file renamed over it) and that
second change is queued; after every round the output must equal a clean full build's.
Mutants caught (each a test below): a settle that does not patch the kept bytes, a
re-read that patches them before the reply, and a settle that patches only in place
(a view of the kept bytes still held elsewhere makes it raise ``BufferError``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servekit import kept_bytes
from sitekit import author, make_site, mutant, output_files, post, write_docs
from test_serve import clean_build

from ssgen.build.change import Change, DocChange
from ssgen.config.load import load_config
from ssgen.serve.worker import RebuildWorker
from ssgen.sources.local import LocalSource, cached
from ssgen.sources.ndjson import parse_ndjson
from ssgen.sources.ndjson.diff import Pending
from ssgen.sources.ndjson.patching import patch_in_place

POSTS = 6


def _docs(titles: list[str]) -> list[dict[str, Any]]:
    return [author("a1", "Ada"), *(post(n + 1, title=title) for n, title in enumerate(titles))]


def _write(site: Path, titles: list[str], renamed: bool) -> None:
    """The dataset written in place (truncated first) or renamed over the old file."""
    if not renamed:
        write_docs(site, _docs(titles))
        return
    scratch = site.parent / "new"
    write_docs(scratch, _docs(titles))
    os.replace(scratch / "content" / "data.ndjson", site / "content" / "data.ndjson")


def _pending(worker: RebuildWorker) -> bool:
    """Whether the kept source holds a patch of its bytes not applied yet."""
    source = worker._runner.source
    assert isinstance(source, LocalSource)
    return any(entry.__dict__.get("_pending") is not None for entry in source._cache.values())


edits = st.tuples(st.integers(0, POSTS - 1), st.text("abcé ", min_size=1, max_size=30),
                  st.booleans())
between = st.sampled_from(["nothing", "read", "edit"])


def run(steps: list[tuple[tuple[int, str, bool], str, tuple[int, str, bool]]]) -> list[bool]:
    """Each step: an edit and its round; between that round's reply and its settle,
    ``nothing``, reads of the source, or a second edit written and queued (then built
    by the next round). The output equals a clean full build's after each step; returns
    whether each round's patch was still pending when its reply resolved."""
    pending_at_reply: list[bool] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        site = make_site(root)
        titles = [f"Post {n + 1}" for n in range(POSTS)]
        _write(site, titles, False)
        worker = RebuildWorker(load_config(site), settle=0)  # rounds run here
        real_settle = worker._runner.settle
        todo: list[str] = []

        def settle(save: bool = True) -> None:
            action, second = todo.pop() if todo else ("nothing", (0, "", False))
            source = worker._runner.source
            assert isinstance(source, LocalSource)
            if action == "read":
                assert source.documents and source.fingerprint()
            elif action == "edit":
                titles[second[0]] = second[1]
                _write(site, titles, second[2])
                worker.submit(Change(documents=(DocChange(f"p{second[0] + 1}", "post"),)))
            real_settle(save=save)

        worker._runner.settle = settle  # type: ignore[method-assign]
        try:
            worker._round()  # start-up: loads the kept source
            for (index, title, renamed), action, second in steps:
                titles[index] = title
                _write(site, titles, renamed)
                job = worker.submit(Change(documents=(DocChange(f"p{index + 1}", "post"),)))
                worker.future(job.job).add_done_callback(
                    lambda _: pending_at_reply.append(_pending(worker)))
                todo.append((action, second))
                worker._round()
                assert not _pending(worker)  # settled before the round returned
                if action == "edit":
                    worker._round()  # the second edit, queued before the settle
                assert worker.last is not None and worker.last.ok
                assert kept_bytes(worker) == (site / "content" / "data.ndjson").read_bytes()
                assert output_files(site) == clean_build(site, root)
        finally:
            worker.stop()
    return pending_at_reply


STEPS = st.lists(st.tuples(edits, between, edits), min_size=1, max_size=4)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=STEPS)
def test_rounds_with_the_patch_left_for_the_settle_equal_a_full_build(
        steps: list[tuple[tuple[int, str, bool], str, tuple[int, str, bool]]]) -> None:
    run(steps)


FIXED = [((2, "A longer title than before", False), "read", (0, "", False)),
         ((4, "x", True), "edit", (1, "Edited again, before the settle", False)),
         ((1, "Back", False), "edit", (5, "Renamed over", True)),
         ((3, "Last", True), "nothing", (0, "", False))]


def test_each_reply_goes_out_before_the_kept_bytes_are_patched() -> None:
    assert run(FIXED) == [True] * len(FIXED)


def test_mutant_settle_that_does_not_patch_is_caught() -> None:
    with mutant(LocalSource, "settle", lambda self: None), pytest.raises(AssertionError):
        run(FIXED)


def test_mutant_patch_applied_before_the_reply_is_caught() -> None:
    real = cached.splice_around

    def at_once(previous: Any, data: Any, prefix: int, suffix: int, middle: bytes,
                **options: Any) -> Any:
        found = real(previous, data, prefix, suffix, middle, **options)
        if found is not None:
            patch_in_place(data, *found[1])
            found = (found[0], None)  # nothing left pending
        return found

    # The hinted path (one document named) keeps the bytes exported until its proof is
    # waited for: the early patch raises there instead of leaving a wrong view.
    with mutant(cached, "splice_around", at_once), \
            pytest.raises((AssertionError, BufferError)):
        test_each_reply_goes_out_before_the_kept_bytes_are_patched()


@settings(max_examples=60, deadline=None)
@given(old=st.binary(max_size=40), cut=st.tuples(st.integers(0, 40), st.integers(0, 40)),
       middle=st.binary(max_size=12), held=st.booleans())
def test_a_settle_patches_the_kept_bytes_also_while_a_view_of_them_is_held(
        old: bytes, cut: tuple[int, int], middle: bytes, held: bool) -> None:
    """A view of the kept bytes still exported (a reader's, a leaked one) when the round's
    settle comes: the settle cannot resize them in place (``BufferError``), so the entry
    takes a patched copy and the view keeps the bytes it saw (a patch of the same size
    is made in place, as ever)."""
    start, stop = sorted(min(at, len(old)) for at in cut)
    kept = bytearray(old)
    entry = cached.Cached((0, len(old), 0, 0), parse_ndjson(b"", "data.ndjson"), kept,
                          pending=Pending(start, stop, middle))
    view = memoryview(kept) if held else None
    assert entry.data == old[:start] + middle + old[stop:]
    if view is not None:
        resized = len(middle) != stop - start
        assert view.tobytes() == (old if resized else old[:start] + middle + old[stop:])
        view.release()


def test_mutant_settle_that_patches_only_in_place_is_caught() -> None:
    def in_place(self: Pending, data: bytearray) -> bytearray:
        return patch_in_place(data, self.start, self.stop, self.middle)

    with mutant(Pending, "applied", in_place), pytest.raises(BufferError):
        test_a_settle_patches_the_kept_bytes_also_while_a_view_of_them_is_held()
