"""Serve's NDJSON round told which document a webhook named (``ndjson.proof``).

The round takes the file's change to be the named document's line and proves the rest
of the file equal to the kept bytes on a thread while it renders; the reply waits for
the proof. Here the file is also edited elsewhere, or only elsewhere, or the named
document is unchanged, written in place or renamed over: after every round the output
equals a clean full build's and the kept bytes equal the file. Mutants caught (tests
below): a proof that always holds, and a runner that does not wait for the proof.
The round renders its pages while the proof runs (``workers.prerender``) and writes
them once it held: mutants caught, a prerender that writes and one whose bytes are stale.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servekit import kept_bytes
from sitekit import author, make_site, mutant, output_files, post, write_docs
from test_serve import clean_build

from ssgen.build import workers
from ssgen.build.change import Change, DocChange
from ssgen.build.output import Output
from ssgen.build.pipeline import pages
from ssgen.config.load import load_config
from ssgen.serve.worker import RebuildWorker, run
from ssgen.sources.local import LocalSource
from ssgen.sources.ndjson import proof

POSTS = 5


def _write(site: Path, titles: list[str], renamed: bool) -> None:
    docs = [author("a1", "Ada"), *(post(n + 1, title=t) for n, t in enumerate(titles))]
    if not renamed:
        write_docs(site, docs)
        return
    scratch = site.parent / "new"
    write_docs(scratch, docs)
    os.replace(scratch / "content" / "data.ndjson", site / "content" / "data.ndjson")


@contextmanager
def _started() -> Iterator[tuple[Path, Path, list[str], RebuildWorker]]:
    """A site of ``POSTS`` posts and a worker past its start-up round (the kept source
    loaded): the temporary folder, the site, the posts' titles and the worker."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        site = make_site(root)
        titles = [f"Post {n + 1}" for n in range(POSTS)]
        _write(site, titles, False)
        worker = RebuildWorker(load_config(site), settle=0)
        try:
            worker._round()
            yield root, site, titles, worker
        finally:
            worker.stop()


# Each round: the posts retitled (index, title), the post the webhook names, renamed.
ROUND = st.tuples(st.lists(st.tuples(st.integers(0, POSTS - 1), st.text("ab é", max_size=12)),
                           max_size=3),
                  st.integers(0, POSTS - 1), st.booleans())


def run_rounds(rounds: list[tuple[list[tuple[int, str]], int, bool]]) -> int:
    """The rounds, each checked against a clean full build; how many took the hint."""
    taken = 0
    real = proof.hinted_region  # looked up there by ``cached`` at each re-read

    def counted(*args: Any) -> Any:
        nonlocal taken
        found = real(*args)
        taken += found is not None
        return found

    with mutant(proof, "hinted_region", counted), _started() as (root, site, titles, worker):
        for edits, named, renamed in rounds:
            for index, title in edits:
                titles[index] = title
            _write(site, titles, renamed)
            worker.submit(Change(documents=(DocChange(f"p{named + 1}", "post"),)))
            worker._round()
            assert worker.last is not None and worker.last.ok
            assert kept_bytes(worker) == (site / "content" / "data.ndjson").read_bytes()
            assert output_files(site) == clean_build(site, root)
    return taken


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(rounds=st.lists(ROUND, min_size=1, max_size=4))
def test_hinted_rounds_equal_a_full_build(
        rounds: list[tuple[list[tuple[int, str]], int, bool]]) -> None:
    run_rounds(rounds)


# The named post edited alone; then another post edited besides the named one; then
# only another one; then the named one edited, the file renamed over.
FIXED = [([(1, "Named alone")], 1, False), ([(2, "Named"), (4, "Unnamed")], 2, False),
         ([(0, "Only another")], 3, False), ([(3, "Renamed over")], 3, True)]


def test_the_hint_is_taken_and_a_wrong_one_is_refuted() -> None:
    assert run_rounds(FIXED) == len(FIXED)  # the lease and libc were there each round


def test_mutant_proof_that_always_holds_is_caught() -> None:
    with mutant(proof.Proof, "_compare", lambda self, address: True), pytest.raises(AssertionError):
        run_rounds(FIXED)


def test_mutant_runner_that_does_not_wait_for_the_proof_is_caught() -> None:
    with mutant(run, "_reload", lambda source, change: _no_wait(source, change)), \
            pytest.raises(AssertionError):
        run_rounds(FIXED)


def _no_wait(source: Any, change: Change) -> None:
    """The hinted reload with its proof let go unread (as if it held)."""
    source.reload_hinted(change.documents[0].id)
    for entry in source._cache.values():
        entry.__dict__.pop("_proof", None)


def _renders_seen(barrier: bool) -> list[tuple[int, bool]]:
    """A round whose named post and another one changed (the hint refuted): for each
    page render, how many proofs were still outstanding and whether one had failed."""
    seen: list[tuple[int, bool]] = []
    real = pages.render_pages

    def watched(*args: Any, **kwargs: Any) -> Any:
        source = worker._runner.source
        assert isinstance(source, LocalSource)
        seen.append((len(source._proving), source._refuted))
        return real(*args, **kwargs)

    with _started() as (root, site, titles, worker), mutant(pages, "render_pages", watched):
        titles[1], titles[3] = "Named, longer than before", "Unnamed"
        _write(site, titles, False)
        worker.submit(Change(documents=(DocChange("p2", "post"),)))
        if barrier:
            worker._round()
        else:
            with mutant(pages, "_proved", lambda source: None):
                worker._round()
        assert worker.last is not None and worker.last.ok
        assert output_files(site) == clean_build(site, root)
    return seen


def test_a_refuted_round_writes_no_page_before_its_proof() -> None:
    """The render (which writes) starts only after the proof held: the refuted hinted
    reload renders nothing; the round renders from the file read whole (then serve's
    warming renders a page of each route)."""
    seen = _renders_seen(barrier=True)
    assert seen and all(entry == (0, False) for entry in seen)


def test_mutant_render_before_the_proof_is_caught() -> None:
    assert any(entry != (0, False) for entry in _renders_seen(barrier=False))


def _steps_seen(named_only: bool) -> list[tuple[str, int, bool]]:
    """A hinted round (the named post alone edited, or another one too: refuted): for
    each page rendered (``PageWriter.render``) and each page file written, how many
    proofs were still outstanding and whether one had failed."""
    seen: list[tuple[str, int, bool]] = []
    render, put = workers.PageWriter.render, Output.put_stat

    def state(step: str) -> None:
        source = worker._runner.source
        assert isinstance(source, LocalSource)
        seen.append((step, len(source._proving), source._refuted))

    def rendered(self: Any, spec: Any) -> Any:
        state("render")
        return render(self, spec)

    def written(self: Any, relpath: Any, data: bytes) -> Any:
        state("write")
        return put(self, relpath, data)

    with _started() as (root, site, titles, worker), \
            mutant(workers.PageWriter, "render", rendered), mutant(Output, "put_stat", written):
        titles[1] = "Named, longer than before"
        if not named_only:
            titles[3] = "Unnamed"
        _write(site, titles, False)
        worker.submit(Change(documents=(DocChange("p2", "post"),)))
        worker._round()
        assert worker.last is not None and worker.last.ok
        assert output_files(site) == clean_build(site, root)
    return seen


def test_a_hinted_round_renders_while_its_proof_runs_and_writes_after() -> None:
    seen = _steps_seen(named_only=True)
    first = [entry[0] for entry in seen].index("write")
    # The round's pages, all before its first write (serve's warming renders after).
    assert first and all(entry == ("render", 1, False) for entry in seen[:first])
    assert all(entry == ("write", 0, False) for entry in seen if entry[0] == "write")


def _check_refuted() -> None:
    seen = _steps_seen(named_only=False)
    assert ("render", 1, False) in seen  # rendered from the cut line, then thrown away
    assert all(entry == ("write", 0, False) for entry in seen if entry[0] == "write")


def test_a_refuted_round_writes_nothing_it_rendered_before_its_proof() -> None:
    _check_refuted()


def _writing_prerender(config: Any, plan: Any, renderer: Any) -> dict[str, Any]:
    """A prerender that writes each page as it renders it (before the proof)."""
    writer = workers.PageWriter(config, renderer, plan.data_hashes, plan.tags, None,
                                plan.files)
    for spec in plan.to_render:
        writer.run(spec)
    return {}


def test_mutant_prerender_that_writes_is_caught() -> None:
    with mutant(pages, "prerender", _writing_prerender), pytest.raises(AssertionError):
        _check_refuted()


def _stale_prerender(config: Any, plan: Any, renderer: Any) -> dict[str, Any]:
    """A prerender handing over each page's bytes as they were on disk."""
    ready = workers.prerender(config, plan, renderer)
    for spec in plan.to_render:
        file = config.output_dir / plan.files[spec.path]
        if file.exists():
            ready[spec.path] = ready[spec.path]._replace(data=file.read_bytes())
    return ready


def test_mutant_stale_prerendered_bytes_are_caught() -> None:
    with mutant(pages, "prerender", _stale_prerender), pytest.raises(AssertionError):
        run_rounds(FIXED)


def _round_stages(change: Change, wait: float) -> dict[str, float]:
    """The stages of a round of ``change`` after post p2's title was edited, each proof
    made to take ``wait`` seconds more."""
    real = proof.Proof.wait

    def slow(self: proof.Proof) -> bool:
        time.sleep(wait)
        return real(self)

    with _started() as (_, site, titles, worker), mutant(proof.Proof, "wait", slow):
        titles[1] = "Named, and waited for"
        _write(site, titles, False)
        worker.submit(change)
        worker._round()
        assert worker.last is not None and worker.last.ok
        return worker.last.stages


def test_a_rounds_wait_for_its_proof_is_a_stage_of_its_own() -> None:
    """The round's account says how long it waited for its reload's proof (at 100,000
    posts most of a round), apart from its queries: a slow proof shows as ``proof``."""
    stages = _round_stages(Change(documents=(DocChange("p2", "post"),)), 0.3)
    assert stages["proof"] >= 0.3 and stages["query"] < 0.3
    assert sum(stages.values()) < 5
    # A change that names no one document reloads without a proof: no such stage.
    assert "proof" not in _round_stages(Change(everything=True), 0.3)
