"""The snapshot serve leaves (``ssgen.sources.snapshot.background``) and the one a full
build leaves: the first new process after either resumes it, and its output equals a
clean full build's.

sitekit's cards site served by serve's round runner on a kept source: generated
sequences of edits, each followed by a round whose settle may save the snapshot in a
forked child (or be throttled, leaving an older one), rounds that raise half-way through
the source's reload, a save killed mid-write (its temporary file left), edits made
while serve is down, serve stopping (its last save, throttle or not); then new
processes, each compared with a clean full build. Mutants caught: a resume that skips
re-reading the files (the snapshot trusted as current), a snapshot whose documents are
from before the round whose file bytes it holds, and a stop that leaves the last
rounds unsaved.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sitekit import (
    CardSite,
    Edit,
    card_edits,
    delete_outer,
    forget_process,
    full_card_build,
    mutant,
    new_process,
    output_files,
    rename,
    retitle,
    snapshot_file,
    unauthor,
)

from ssgen.build.change import Change
from ssgen.build.pipeline import build
from ssgen.build.search import SearchMode
from ssgen.config.load import load_config
from ssgen.errors import SourceError
from ssgen.serve.worker.run import RoundRunner
from ssgen.sources import snapshot as snap
from ssgen.sources.local import LocalSource
from ssgen.sources.local.view import View
from ssgen.sources.snapshot import background, codec


def assert_equals_full(site: CardSite, root: Path, scratch: Path) -> None:
    built, full = output_files(root), full_card_build(site, scratch)
    stale = sorted(f for f in built.keys() | full.keys() if built.get(f) != full.get(f))
    assert not stale, f"differs from a full build: {stale}"


class Served:
    """Serve's round runner on ``root``'s kept source, whose saves can be let through."""

    def __init__(self, root: Path) -> None:
        self.root, self.runner = root, RoundRunner(None, None)

    def round(self, save: bool, fail: bool = False) -> None:
        background._SAVER.started = -background.INTERVAL if save else 1e18
        config = load_config(self.root)
        if fail:  # the reload raises after the files were read, before the view moved
            def broken(view: View, loads: Any, splices: Any) -> None:
                raise SourceError("a reload that fails half-way")
            try:
                with mutant(View, "update", broken):
                    self.runner.build(config, Change(), lambda: SearchMode(), settle=False)
            except SourceError:
                pass  # (a template edit alone changes no document: no reload to fail)
        else:
            report = self.runner.build(config, Change(), lambda: SearchMode(), settle=False)
            assert report.ok, report.failures
        self.runner.settle()
        background.wait()


Step = tuple[str, Any]
steps = st.one_of(
    st.tuples(st.sampled_from(["round", "round-throttled"]), card_edits),
    st.tuples(st.just("failed-round"), card_edits),
    st.tuples(st.just("killed-save"), st.none()),
)


def run(steps: list[Step], after: list[Edit],
        check: Callable[[list[LocalSource]], None] = lambda resumed: None,
        finish: bool = False) -> None:
    """Serve the cards site through ``steps``, stop it (``finish``: as a stopping server
    does, ``RoundRunner.finish``), apply ``after`` (each followed by a new process);
    every new process must equal a clean full build."""
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        root, scratch = Path(tmp) / "site", Path(tmp) / "scratch"
        site = CardSite()
        site.write(root)
        forget_process()
        assert build(load_config(root), jobs=1).ok  # full: the manifest's first build
        served = Served(root)
        served.round(save=False)
        for kind, edit in steps:
            if kind == "killed-save":
                tmp_file = snapshot_file(root).with_name(f".{snap.FILE}.killed.tmp")
                tmp_file.write_bytes(b"half a snapshot")
                continue
            edit(site)
            site.write(root)
            served.round(save=kind == "round", fail=kind == "failed-round")
        if finish:
            served.runner.finish()
        del served
        resumed: list[LocalSource] = []
        real = LocalSource.resume

        def spy(self: LocalSource, config: Any, read: Any) -> None:
            resumed.append(self)
            real(self, config, read)

        patch.setattr(LocalSource, "resume", spy)
        for edit in [lambda site: None, *after]:
            edit(site)
            site.write(root)
            new_process(root)
            assert_equals_full(site, root, scratch)
        check(resumed)


FAILED_THEN_ROUND: list[Step] = [("failed-round", delete_outer("a1")), ("round", unauthor(7))]


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(steps, min_size=1, max_size=5),
       after=st.lists(card_edits, max_size=2), finish=st.booleans())
# Found by this property (round 23): a reload that failed after its re-read had spliced
# the kept parse in place; the next round's splices lacked the author's deletion.
@example(steps=FAILED_THEN_ROUND, after=[], finish=False)
def test_new_processes_after_serve_equal_a_full_build(steps: list[Step],
                                                       after: list[Edit],
                                                       finish: bool) -> None:
    run(steps, after, finish=finish)


def test_the_first_process_after_serve_resumes_its_last_round() -> None:
    """Serve's last saved round is the files as they were: the first new process after
    an edit resumes it and finds that edit alone changed."""
    def check(resumed: list[LocalSource]) -> None:
        assert [source.resumed for source in resumed] == [frozenset({"p2"})]

    run([("round", retitle(0, "x")), ("round", retitle(1, "y"))], [retitle(2, "z")], check)


def _resumes_only_the_edit_after_stop(resumed: list[LocalSource]) -> None:
    assert [source.resumed for source in resumed] == [frozenset({"p2"})]


def test_a_stopping_server_saves_the_rounds_the_throttle_left_unsaved() -> None:
    """Rounds whose saves the throttle refused: the stop saves the last one, so the
    first new process after an edit finds that edit alone changed."""
    run([("round-throttled", retitle(0, "x")), ("round-throttled", retitle(1, "y"))],
        [retitle(2, "z")], _resumes_only_the_edit_after_stop, finish=True)


def test_mutant_stop_without_the_last_save_is_caught() -> None:
    with mutant(RoundRunner, "finish", RoundRunner.flush), pytest.raises(AssertionError):
        run([("round-throttled", retitle(0, "x")), ("round-throttled", retitle(1, "y"))],
            [retitle(2, "z")], _resumes_only_the_edit_after_stop, finish=True)


def _stop_with_a_slow_save(root: Path, patch: pytest.MonkeyPatch) -> bool:
    """Serve ``root`` for a throttled round (its save owed), stop it with a save that
    takes a second, and say whether the stop returned with that save on disk."""
    site = CardSite()
    site.write(root)
    assert build(load_config(root), jobs=1).ok
    served = Served(root)
    served.round(save=False)
    retitle(0, "x")(site)
    site.write(root)
    served.round(save=False)
    before = snapshot_file(root).stat().st_mtime_ns
    real = background.save

    def slow(*args: Any) -> None:
        time.sleep(1.0)
        real(*args)

    patch.setattr(background, "save", slow)
    served.runner.finish()
    saved = snapshot_file(root).stat().st_mtime_ns != before
    background.wait()
    return saved


def test_a_stopping_server_waits_for_a_save_that_takes_seconds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 100,000-post server's last save takes over 10 s: the stop waits for it (a
    service manager would kill a save left behind), up to ``FINAL_WAIT``."""
    assert background.FINAL_WAIT >= 30
    assert _stop_with_a_slow_save(tmp_path, monkeypatch)


def test_mutant_stop_that_waits_less_than_the_save_is_caught(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(background, "FINAL_WAIT", 0.2)
    assert not _stop_with_a_slow_save(tmp_path, monkeypatch)


def test_a_failed_round_saves_nothing(tmp_path: Path) -> None:
    site = CardSite()
    site.write(tmp_path)
    assert build(load_config(tmp_path), jobs=1).ok
    served = Served(tmp_path)
    served.round(save=True)
    before = snapshot_file(tmp_path).read_bytes()
    retitle(0, "x")(site)
    site.write(tmp_path)
    served.round(save=True, fail=True)
    assert snapshot_file(tmp_path).read_bytes() == before


def test_a_killed_saves_temporary_file_is_swept(tmp_path: Path) -> None:
    site = CardSite()
    site.write(tmp_path)
    assert build(load_config(tmp_path), jobs=1).ok
    left = snapshot_file(tmp_path).with_name(f".{snap.FILE}.killed.tmp")
    left.write_bytes(b"half")
    served = Served(tmp_path)
    served.round(save=True)
    assert left.exists()  # it could still be a live save's
    os.utime(left, (0, 0))
    retitle(0, "x")(site)
    site.write(tmp_path)
    served.round(save=True)
    assert not left.exists() and snapshot_file(tmp_path).exists()


def test_mutant_resume_skipping_the_reread_is_caught() -> None:
    """A resume that takes the snapshot as current: an edit made while serve was down
    goes unseen."""
    def trusting(self: LocalSource, config: Any, read: Any) -> None:
        self._config, self._kept = config, False
        self._files, self._preread, self._prelisted = read.cache, {}, None
        self.resumed = frozenset()

    with mutant(LocalSource, "resume", trusting), pytest.raises(
            AssertionError, match="differs from a full build"):
        run([("round", retitle(0, "x"))], [retitle(1, "down")])


def test_mutant_snapshot_older_than_the_round_it_claims_is_caught() -> None:
    """The snapshot holds the round's file bytes but the documents from before it."""
    real_reload, real_state = LocalSource.reload, LocalSource.__getstate__
    before: dict[int, Any] = {}

    def reload(self: LocalSource) -> None:
        if self._kept:  # serve's
            before[id(self)] = codec.decode(codec.encode(self._view))
        real_reload(self)

    def getstate(self: LocalSource) -> dict[str, Any]:
        state = real_state(self)
        state["_view"] = before.get(id(self), state["_view"])
        return state

    with mutant(LocalSource, "reload", reload), \
            mutant(LocalSource, "__getstate__", getstate), \
            pytest.raises(AssertionError, match="differs from a full build"):
        # The rename re-reads p0 (by a1) from the documents: the snapshot's say "T0".
        run([("round", retitle(0, "x"))], [rename("a1", "q")])


def test_a_full_build_leaves_a_snapshot_the_next_process_resumes(tmp_path: Path) -> None:
    site, scratch, tmp_path = CardSite(), tmp_path / "scratch", tmp_path / "site"
    site.write(tmp_path)
    forget_process()
    assert build(load_config(tmp_path), full=True, jobs=1).ok
    assert snapshot_file(tmp_path).exists()
    resumed: list[LocalSource] = []
    real = LocalSource.resume

    def spy(self: LocalSource, config: Any, read: Any) -> None:
        resumed.append(self)
        real(self, config, read)

    retitle(0, "new")(site)
    site.write(tmp_path)
    with mutant(LocalSource, "resume", spy):
        new_process(tmp_path)
    assert [source.resumed for source in resumed] == [frozenset({"p0"})]
    assert_equals_full(site, tmp_path, scratch)


def test_mutant_a_failed_reload_forgotten_by_the_view_is_caught() -> None:
    """After a reload that failed half-way, the view's next update takes only that
    reload's splices: the changes the failed one spliced into the parses are lost."""
    forgetful = property(lambda view: False, lambda view, value: None)
    with mutant(View, "merge_next", forgetful), pytest.raises(AssertionError):
        run(FAILED_THEN_ROUND, [])
