"""Serve's start-up round plans every page, so the first webhook costs what later ones do.

Through serve's ``RebuildWorker`` (its rounds run here, the thread not started) on the
property site of test_kept_pages_property (shaped like the default site: a list route
with neighbours, a paginated list, an ``each`` route with a correlated subquery, a feed).
Each example builds the site, edits it while serve is down, starts a new serve process
(the process memos forgotten), then applies generated edits, each followed by a round:
after the start-up round and after each later one the output equals a clean full build's.
A second property: the first webhook after start-up plans and renders exactly the pages
the same webhook does after another round filled the memos (before, the start-up round
was skipped on an unchanged fingerprint, and a retitle planned every post page).
"""

from __future__ import annotations

import copy
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitekit import forget_process, mutant
from test_incremental import (
    assert_equals_full_build,
    create_post,
    delete_post,
    draft_then_publish,
    rename_slug,
    snapshot,
    update_title,
    words,
)
from test_kept_pages_property import KeptSite, _damage, change_type, damage, edits

import ssgen.build.pipeline as pipeline
from ssgen.build.change import Change, DocChange
from ssgen.build.report import BuildReport
from ssgen.config.load import load_config
from ssgen.serve.warm import Warming
from ssgen.serve.worker import RebuildWorker
from ssgen.serve.worker import run as worker_run

SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@contextmanager
def reports() -> Iterator[list[BuildReport]]:
    """The reports of the builds serve's rounds run (the worker imports ``build`` late)."""
    found: list[BuildReport] = []
    real = pipeline.build

    def noting(*args: Any, **kwargs: Any) -> BuildReport:
        found.append(real(*args, **kwargs))
        return found[-1]

    with mutant(pipeline, "build", noting):
        yield found


def apply(step: Any, model: KeptSite, site: Path) -> None:
    """A generated edit of the model (written to ``site``), or damage to its output."""
    if isinstance(step, tuple):  # damage from outside the build
        _damage(site, step[1], step[2])
    else:
        step(model)
        model.write(site)


def round_of(worker: RebuildWorker, found: list[BuildReport], change: Change) -> BuildReport:
    """One round for ``change`` (as a webhook queues it); the report of its build."""
    found.clear()
    worker.submit(change)
    worker._round()
    assert found, "the round ran no build"
    return found[0]


def serve_rounds(down: list[Any], steps: list[Any], webhook: bool) -> None:
    """Build, apply ``down`` while serve is down, start serve, then each of ``steps``
    with a round; the output equals a clean full build after each round."""
    with tempfile.TemporaryDirectory() as tmp:
        site, scratch = Path(tmp) / "site", Path(tmp) / "scratch"
        model = KeptSite()
        model.write(site)
        forget_process()
        assert pipeline.build(load_config(site), jobs=1).ok
        for step in down:
            apply(step, model, site)
        before = snapshot(site / "public")  # as serve finds it (damage included)
        forget_process()  # serve is a new process
        worker = RebuildWorker(load_config(site), settle=0)
        try:
            with reports() as found:
                worker._round()  # the start-up round
                assert_equals_full_build(found[0], site, scratch, before)
                for step in steps:
                    if not isinstance(step, tuple):
                        before = snapshot(site / "public")
                    apply(step, model, site)
                    if isinstance(step, tuple):  # the damaged files are the build's to mend
                        before = snapshot(site / "public")
                    paths = frozenset({"/blog/"}) if webhook else frozenset()
                    report = round_of(worker, found, Change(paths=paths, reasons=("edit",)))
                    assert_equals_full_build(report, site, scratch, before)
        finally:
            worker.stop()


@SETTINGS
@given(down=st.lists(edits, max_size=3), steps=st.lists(edits, min_size=1, max_size=5),
       webhook=st.booleans())
def test_serve_rounds_from_start_up_equal_full_build(down: list[Any], steps: list[Any],
                                                     webhook: bool) -> None:
    serve_rounds(down, steps, webhook)


def test_a_page_deleted_in_a_folder_the_last_round_made_is_rendered_again() -> None:
    # Found by the property: serve's output watch saw the new post's folder only after
    # its page was deleted, and the deletion went unnoticed (build/outwatch.py).
    serve_rounds([rename_slug(9, "zeta"), change_type(9, "note")],
                 [draft_then_publish(9, "bfafbdbh", True), rename_slug(8, "gamma"),
                  delete_post(5), create_post("epsilon", "a3"), damage(22, True)], False)


def retitle_round(site: Path, model: KeptSite, post: int, title: str,
                  warm_up: bool) -> tuple[int, int, list[str]]:
    """A new serve on ``site``: its start-up round, then (``warm_up``) a round for a
    webhook of an unchanged post, then the retitle's round: (pages planned, rendered,
    files written) in that round."""
    forget_process()
    worker = RebuildWorker(load_config(site), settle=0)
    try:
        with reports() as found:
            worker._round()
            posts = sorted(k for k, d in model.docs.items() if d["_type"] == "post")
            if warm_up:
                round_of(worker, found, Change(documents=(DocChange(posts[-1], "post"),)))
            update_title(post, title)(model)
            model.write(site)
            doc = posts[post % len(posts)]
            report = round_of(worker, found, Change(documents=(DocChange(doc, "post"),)))
            assert report.ok, report.failures
            return report.planned, report.rendered, sorted(report.new + report.changed)
    finally:
        worker.stop()


def first_webhook(down: list[Any], post: int, title: str) -> None:
    """Two copies of one site, each a new serve: the first webhook after start-up plans
    and renders what it does after a round that filled the memos."""
    with tempfile.TemporaryDirectory() as tmp:
        model = KeptSite()
        site = Path(tmp) / "first"
        model.write(site)
        forget_process()
        assert pipeline.build(load_config(site), jobs=1).ok
        for step in down:
            apply(step, model, site)
        later = Path(tmp) / "later"
        shutil.copytree(site, later, symlinks=True)
        twin = copy.deepcopy(model)
        first = retitle_round(site, model, post, title, warm_up=False)
        after = retitle_round(later, twin, post, title, warm_up=True)
        assert first == after, f"first webhook {first[:2]}, later {after[:2]}"


@SETTINGS
@given(down=st.lists(edits, max_size=3), post=st.integers(0, 10), title=words)
def test_the_first_webhook_plans_what_later_ones_do(down: list[Any], post: int,
                                                    title: str) -> None:
    first_webhook(down, post, title)


def test_mutant_start_up_without_planning_is_caught() -> None:
    """The start-up round without its planning (skipped on the unchanged fingerprint, as
    before): the first retitle plans every post page, and the property fails. (Without
    the warming too: its page of each route re-queries their routes, whose pages a
    process with no memo then plans, as the start-up round would.)"""
    with mutant(worker_run.RoundRunner, "plans_every_page", property(lambda self: False)), \
            mutant(Warming, "of_site", staticmethod(lambda *_: Warming((), lambda _p: 0))):
        try:
            first_webhook([], 4, "Retitled")
        except AssertionError as exc:
            assert "first webhook" in str(exc)
        else:
            raise AssertionError("the mutant was not caught")


def test_the_start_up_round_shows_warming_and_renders_nothing_unchanged(
        tmp_path: Path) -> None:
    model = KeptSite()
    site = tmp_path / "site"
    model.write(site)
    forget_process()
    assert pipeline.build(load_config(site), jobs=1).ok
    before = snapshot(site / "public")
    forget_process()
    worker = RebuildWorker(load_config(site), settle=0)
    states: list[str] = []
    real = pipeline.build

    def noting(*args: Any, **kwargs: Any) -> BuildReport:
        states.append(worker.status()["state"])
        return real(*args, **kwargs)

    try:
        with mutant(pipeline, "build", noting), reports() as found:
            worker._round()
            report = found[0]
        assert states[:1] == ["warming"]
        assert report.rendered == 0 and report.planned == report.unchanged > 0
        assert snapshot(site / "public") == before
        assert worker.status()["state"] == "idle"
    finally:
        worker.stop()
