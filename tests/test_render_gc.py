"""The cyclic collector while a build renders (``ssgen.build.heap.young_only``).

With the collector's thresholds made tiny (so that every stage would start passes of
every generation), a build's render starts young passes but no full one, the thresholds
are the caller's again after it, and a command's cold build leaves the render's
survivors frozen for its record stage (the build unfreezes them at its end), while a
build given its source (serve's) does not.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sitekit import DEFAULT_TEMPLATES, make_site

from ssgen.build.pipeline import build
from ssgen.build.pipeline import pages as pipeline_pages
from ssgen.config.load import load_config
from ssgen.sources.local import LocalSource

TINY = (10, 1, 1)


@pytest.fixture
def tiny_thresholds() -> Iterator[None]:
    saved = gc.get_threshold()
    enabled = gc.isenabled()
    gc.enable()
    # A full pass over nothing (all frozen): the collector then counts no long-lived
    # objects, so a full pass may start after any young ones (its 25% rule).
    gc.freeze()
    gc.collect()
    gc.set_threshold(*TINY)
    try:
        yield
    finally:
        gc.set_threshold(*saved)
        gc.unfreeze()
        if not enabled:
            gc.disable()


def _site(root: Path) -> Path:
    docs = [{"_id": f"p{i}", "_type": "post", "title": f"T{i}", "slug": {"current": f"s{i}"}}
            for i in range(120)]
    return make_site(root, docs, templates=DEFAULT_TEMPLATES)


def _watch(monkeypatch: pytest.MonkeyPatch, name: str,
           seen: Callable[[str], None]) -> None:
    real = getattr(pipeline_pages, name)

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen(f"> {name}")
        try:
            return real(*args, **kwargs)
        finally:
            seen(f"< {name}")
    monkeypatch.setattr(pipeline_pages, name, watched)


def test_no_full_collection_while_the_pages_render(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_thresholds: None) -> None:
    passes: dict[str, list[int]] = {"render": [], "other": []}
    where = ["other"]

    def seen(event: str) -> None:
        where[0] = "render" if event == "> render_pages" else "other"

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            passes[where[0]].append(info["generation"])

    _watch(monkeypatch, "render_pages", seen)
    gc.callbacks.append(callback)
    try:
        report = build(load_config(_site(tmp_path)), full=True, jobs=1)
    finally:
        gc.callbacks.remove(callback)
    assert report.ok and report.rendered >= 120
    assert 0 in passes["render"]  # the collector ran while the pages rendered
    assert 2 not in passes["render"]
    assert gc.get_threshold() == TINY


@pytest.mark.parametrize("given_source", [False, True])
def test_a_cold_builds_render_survivors_frozen_for_the_record(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_thresholds: None,
        given_source: bool) -> None:
    frozen: dict[str, int] = {}

    def seen(event: str) -> None:
        if event in ("> render_pages", "> record_build"):
            frozen[event[2:]] = gc.get_freeze_count()

    _watch(monkeypatch, "render_pages", seen)
    _watch(monkeypatch, "record_build", seen)
    config = load_config(_site(tmp_path))
    source = LocalSource(config) if given_source else None
    report = build(config, full=True, jobs=1, source=source)
    assert report.ok
    if given_source:  # serve's builds: its heap is its own to freeze (frozen objects freed)
        assert frozen["record_build"] <= frozen["render_pages"]
    else:  # at least each page's outcome
        assert frozen["record_build"] >= frozen["render_pages"] + report.rendered
    assert gc.get_threshold() == TINY
