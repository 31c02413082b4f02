"""A command's re-save of the snapshot it resumed, made by a child forked at its exit
(``ssgen.sources.snapshot.background.defer``/``run_deferred``, ``build(release=False)``).

The build returns with the older snapshot in place; the child saves the state the build
left; a new process resuming either one equals a clean full build (the snapshot
properties of tests/test_source_snapshot.py, here with every re-save deferred). Mutant
caught: the deferred save dropped (the snapshot never re-saved).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from sitekit import (
    CardSite,
    forget_process,
    full_card_build,
    mutant,
    output_files,
    retitle,
    snapshot_file,
)

from ssgen.build.pipeline import build, release_left
from ssgen.config.load import load_config
from ssgen.sources import snapshot as snap
from ssgen.sources.snapshot import background


def command(root: Path) -> None:
    """A new process's ``ssgen build`` as the command line runs it: ``release=False``,
    then the deferred save at its exit (waited for here)."""
    forget_process()
    report = build(load_config(root), jobs=1, release=False)
    assert report.ok, report.failures
    release_left()
    pid = background.run_deferred()
    if pid:
        _, status = os.waitpid(pid, 0)
        assert status == 0


def test_the_resave_waits_for_the_exit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snap, "RESAVE", -1)  # every resumed snapshot is due again
    site = CardSite()
    site.write(tmp_path)
    command(tmp_path)
    before = snapshot_file(tmp_path).read_bytes()
    retitle(0, "deferred")(site)
    site.write(tmp_path)
    forget_process()
    assert build(load_config(tmp_path), jobs=1, release=False).ok
    assert snapshot_file(tmp_path).read_bytes() == before  # not saved by the build
    release_left()
    pid = background.run_deferred()
    assert pid > 0
    os.waitpid(pid, 0)
    assert snapshot_file(tmp_path).read_bytes() != before
    found = snap.resume(load_config(tmp_path), "published", None)
    assert found is not None and found[0].resumed == frozenset()  # the files as built
    assert background.run_deferred() == 0  # one save per exit


def test_no_resave_is_deferred_when_none_is_due(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snap, "RESAVE", 10**6)
    site = CardSite()
    site.write(tmp_path)
    command(tmp_path)
    retitle(0, "again")(site)
    site.write(tmp_path)
    forget_process()
    assert build(load_config(tmp_path), jobs=1, release=False).ok
    release_left()
    assert background.run_deferred() == 0


STEPS = [retitle(0, "a"), retitle(1, "b"), retitle(0, "c"), retitle(2, "d")]


def _deferred_sequence() -> None:
    """Each step a command whose re-save is deferred; the output a full build's."""
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        patch.setattr(snap, "RESAVE", -1)
        root, scratch = Path(tmp) / "site", Path(tmp) / "scratch"
        site = CardSite()
        site.write(root)
        command(root)
        for step in STEPS:
            step(site)
            site.write(root)
            command(root)
            built, full = output_files(root), full_card_build(site, scratch)
            stale = sorted(f for f in built.keys() | full.keys() if built.get(f) != full.get(f))
            assert not stale, f"differs from a full build: {stale}"


def test_deferred_resaves_equal_a_full_build() -> None:
    _deferred_sequence()


def test_mutant_deferred_save_dropped_is_caught(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    with mutant(background, "defer", lambda save: None), pytest.raises(AssertionError):
        test_the_resave_waits_for_the_exit(tmp_path, monkeypatch)


def test_a_command_leaves_the_decoder_for_its_exit(tmp_path: Path) -> None:
    """A resumed snapshot's decoder (its memo holds every object decoded: ~0.3 s to free
    at 100,000 posts) is left with the build's data by ``release=False`` only, and its
    build equals a full one; ``release_left`` lets go of it."""
    import pickle

    from ssgen.build import pipeline

    site = CardSite()
    site.write(tmp_path)
    command(tmp_path)
    retitle(1, "left")(site)
    site.write(tmp_path)
    forget_process()
    assert build(load_config(tmp_path), jobs=1, release=False).ok
    left = [item for item in pipeline._LEFT_FOR_EXIT if isinstance(item, pickle.Unpickler)]
    assert len(left) == 1
    assert output_files(tmp_path) == full_card_build(site, tmp_path.parent / "scratch-left")
    release_left()
    assert not pipeline.left_for_exit()
    retitle(2, "kept")(site)
    site.write(tmp_path)
    forget_process()
    assert build(load_config(tmp_path), jobs=1).ok  # serve's and tests' default
    assert not pipeline.left_for_exit()
