"""Serve starts from the snapshot a build left (``ssgen.serve.worker.opening``).

On test_kept_pages_property's site (NDJSON, shaped like the default one), through
test_serve_startup's ``serve_rounds``: a build leaves ``.ssgen/source.snapshot``, the
dataset is edited while serve is down (the snapshot is then stale), serve's start-up
round resumes the snapshot, and its output and each later round's equal a clean full
build's. A damaged snapshot is ignored: the files are loaded whole. The property of
test_serve_startup runs the same way (its sites keep a snapshot too) over generated
edits; here the resume itself is asserted, and the mutant of a resume that trusts the
snapshot as current (no re-read of the files) is caught.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
from sitekit import mutant
from test_incremental import create_post, delete_post, rename_slug, update_title
from test_serve_startup import serve_rounds

from ssgen.build.memo import carry
from ssgen.serve.worker import opening
from ssgen.sources import snapshot
from ssgen.sources.local import LocalSource

DOWN = [update_title(3, "Edited while down"), delete_post(5), create_post("omega", "a2")]
STEPS = [update_title(4, "After the start"), rename_slug(2, "renamed")]


def _opened(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The sources serve opens (each ``open_kept`` call's), and whether each resumed."""
    opened: list[Any] = []
    real = opening.open_kept

    def noting(config: Any) -> Any:
        resumes = len(resumed)
        source = real(config)
        opened.append((source, len(resumed) > resumes and resumed[-1] is not None))
        return source

    resumed: list[Any] = []
    real_resume = carry.resume

    def resume(*args: Any) -> Any:
        resumed.append(real_resume(*args))
        return resumed[-1]

    monkeypatch.setattr(carry, "resume", resume)
    monkeypatch.setattr(opening, "open_kept", noting)
    from ssgen.serve.worker import run

    monkeypatch.setattr(run, "open_kept", noting)
    return opened


def test_serve_resumes_a_stale_snapshot_and_equals_a_full_build(
        monkeypatch: pytest.MonkeyPatch) -> None:
    opened = _opened(monkeypatch)
    serve_rounds(DOWN, STEPS, webhook=False)
    assert len(opened) == 1
    source, resumed = opened[0]
    assert resumed and isinstance(source, LocalSource)
    assert not source.maintains  # kept (serve's), not a snapshot's maintaining source
    assert source.resumed, "the edits made while serve was down were diffed in"


def test_a_damaged_snapshot_is_loaded_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    opened = _opened(monkeypatch)
    real = snapshot._load

    def damaged(path: Path, key: bytes, leave: Any = None) -> Any:
        data = path.read_bytes()
        path.write_bytes(data[:len(data) // 2])
        return real(path, key, leave)

    monkeypatch.setattr(snapshot, "_load", damaged)
    serve_rounds(DOWN, STEPS[:1], webhook=True)
    assert len(opened) == 1 and not opened[0][1]
    assert opened[0][0].resumed is None  # opened from the files


def test_mutant_resume_that_trusts_the_snapshot_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A resume that does not re-read the files (the snapshot taken as current): the
    edits made while serve was down are missing from its pages."""
    opened = _opened(monkeypatch)

    def trusting(self: LocalSource, config: Any, preread: Any) -> None:
        self._config, self._kept = config, False
        self._files = None
        self.resumed = frozenset()

    with mutant(LocalSource, "resume", trusting), \
            pytest.raises(AssertionError, match="=="):
        serve_rounds(DOWN, STEPS[:1], webhook=False)
    assert opened and opened[0][1], "the mutant's source was resumed"



def _collector_at_adopt(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether the cyclic collector was on at each adoption of a snapshot's memos in
    serve's opening (serve resumed, asserted)."""
    opened = _opened(monkeypatch)
    enabled: list[bool] = []
    real_adopt = carry.adopt

    def adopt(*args: Any) -> None:
        enabled.append(gc.isenabled())
        real_adopt(*args)

    monkeypatch.setattr(carry, "adopt", adopt)
    serve_rounds(DOWN, STEPS[:1], webhook=False)
    assert opened and opened[0][1], "serve resumed the snapshot"
    return enabled


def test_the_opening_adopts_the_memos_with_the_collector_off(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A resume adopts the snapshot's memos after its decode: with the collector on,
    their allocations started full collections of the decoded heap (42 s of serve's
    56 s start at 100,000 posts)."""
    enabled = _collector_at_adopt(monkeypatch)
    assert enabled and not any(enabled)


def test_mutant_opening_with_the_collector_on_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from contextlib import nullcontext

    monkeypatch.setattr(opening, "frozen_after", nullcontext)
    assert any(_collector_at_adopt(monkeypatch))
