"""Serve's kept caches never go stale: incremental == full with memoised card projections
(groq/memo.py) and rendered include fragments (render/fragments.py) kept across builds.

The site is sitekit's cards site (the default site's shape in small). Generated edit
sequences run through one kept source and one process-wide renderer (as in serve); after
each build the output must equal a clean full build. The mutant tests show the property catching a fragment key that misses what the
partial reads and a projection memo that ignores the documents a card dereferenced.

With ``persisted`` a new process's full build comes first: it saves
``.ssgen/fragments.cache``, which the kept rounds then read (``ssgen.build.memo.fragments``),
with new processes that append to it and damage to it between rounds. A hold that keeps
the file whatever the store key (templates edited since) is caught.
"""

from __future__ import annotations

import hashlib
import itertools
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitekit import (
    CardSite,
    Edit,
    cache_damages,
    card_edits,
    edit_template,
    mutant,
    output_files,
    recategorise,
    rename,
    retitle,
)
from test_fragfile import Damage as Between  # something done to the file between rounds
from test_fragfile import cache_file

from ssgen.build.memo import fragments as held
from ssgen.build.pipeline import build, pages
from ssgen.config.load import load_config
from ssgen.groq import memo
from ssgen.render import environment, fragments, loops
from ssgen.render.environment import Renderer
from ssgen.render.fragments import store as fragment_store
from ssgen.sources import open_source


def new_process(root: Path, saved: list[bytes]) -> None:
    """A new process's incremental build (``ssgen build``): it appends what it renders."""
    shared = dict(environment._SHARED)
    environment._SHARED.clear()  # its own renderer: serve's stays as it was
    try:
        assert build(load_config(root), jobs=1).ok
    finally:
        environment._SHARED.clear()
        environment._SHARED.update(shared)


BETWEEN = [Between(apply) for apply in [new_process, *cache_damages(cache_file)]]


@dataclass(frozen=True)
class During:
    """A template edit saved while a round renders (after it planned, its texts read
    once for the round): that round is not compared, the next one must catch up."""

    edit: Edit


_TITLES = itertools.count()


def _saved_during_render(root: Path, site: CardSite, source: Any, edit: Edit) -> None:
    """A round that renders a retitled card, ``edit`` saved when its render begins."""
    real, saved = pages.render_pages, []

    def then_render(*args: Any, **kwargs: Any) -> Any:
        edit(site)
        site.write(root)
        saved.append(True)
        return real(*args, **kwargs)

    retitle(0, f"during {next(_TITLES)}")(site)  # a new title: the round renders
    site.write(root)
    source.reload()
    with mutant(pages, "render_pages", then_render):
        assert build(load_config(root), jobs=1, source=source).ok
    assert saved  # the round rendered


DURING = [During(edit_template(name, "!")) for name in ("_card.html", "list.html", "_m.html")]


def run(steps: list[Edit | Between | During], *, persisted: bool = False) -> None:
    """Apply ``steps`` through one kept source; after each, assert incremental == full.
    ``persisted``: a new process's full build first, which saves the fragments file."""
    with tempfile.TemporaryDirectory() as tmp:
        root, scratch = Path(tmp) / "site", Path(tmp) / "scratch"
        site = CardSite()
        site.write(root)
        if persisted:
            new_process(root, [])
            assert cache_file(root).exists()
        saved = [cache_file(root).read_bytes()] if persisted else []
        source = open_source(load_config(root), kept=True)
        assert build(load_config(root), jobs=1, source=source).ok
        for step in steps:
            if isinstance(step, Between):
                step.apply(root, saved)
            elif isinstance(step, During):
                _saved_during_render(root, site, source, step.edit)
            else:
                step(site)
                site.write(root)
            if cache_file(root).exists():
                saved.append(cache_file(root).read_bytes())
            source.reload()
            assert build(load_config(root), jobs=1, source=source).ok
            shutil.rmtree(scratch, ignore_errors=True)
            site.write(scratch)
            # The reference renders every include afresh (no fragment cache).
            Renderer.shared(load_config(scratch)).fragments.enabled = False
            assert build(load_config(scratch), full=True, jobs=1).ok
            built, full = output_files(root), output_files(scratch)
            stale = sorted(f for f in built.keys() | full.keys() if built.get(f) != full.get(f))
            assert not stale, f"differs from a full build: {stale}"


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.one_of(card_edits, st.sampled_from(DURING)), min_size=1, max_size=5))
def test_kept_caches_rebuild_equal_full_build(steps: list[Edit | During]) -> None:
    run(steps)


def test_mutant_recording_templates_as_saved_after_the_render_is_caught() -> None:
    # A round records the template hashes it planned with: recording them as the files
    # are after the render vouches for pages rendered from the text before the edit.
    real = pages.record_build

    def as_on_disk(config: Any, key: str, manifest: Any, renderer: Renderer, plan: Any,
                   *args: Any, **kwargs: Any) -> Any:
        plan.template_hashes = {name: hashlib.sha256(text.encode()).hexdigest()
                                for name in plan.template_hashes
                                if (text := renderer.disk_source(name)) is not None}
        return real(config, key, manifest, renderer, plan, *args, **kwargs)

    with mutant(pages, "record_build", as_on_disk), pytest.raises(
            AssertionError, match="differs from a full build"):
        run([DURING[0]])


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.one_of(card_edits, st.sampled_from(BETWEEN)), min_size=1, max_size=5))
def test_kept_rounds_reading_persisted_fragments_equal_full_build(
        steps: list[Edit | Between]) -> None:
    run(steps, persisted=True)


# A card retitled (its page's other cards come from the file), the card template edited
# (the file's key no longer this process's), a new process's save between rounds (the
# file written again: opened again), then another retitle.
PERSISTED = [retitle(0, "x"), edit_template("_card.html", "!"), BETWEEN[0], retitle(1, "ab")]


def test_kept_rounds_take_unchanged_cards_from_the_file() -> None:
    hits: list[int] = []
    real = held.kept_fragments

    @contextmanager
    def counting(config: Any, renderer: Any) -> Iterator[None]:
        with real(config, renderer):
            store = fragment_store.active()
            yield
            hits.append(0 if store is None else store.hits)

    with mutant(pages, "kept_fragments", counting):
        run(PERSISTED[:1], persisted=True)
    assert hits[-1] > 0, hits


def test_mutant_hold_ignoring_the_store_key_is_caught() -> None:
    # Serve holds the file across rounds: one loaded under an older key (the templates
    # before an edit) must be let go, or its cards come back stale.
    real, seen = held.key_of, []

    def first_key(config: Any, code: bytes, texts: Any) -> bytes:
        seen.append(real(config, code, texts))
        return seen[0]  # the key of the templates as the first round found them

    with mutant(held, "key_of", first_key), pytest.raises(
            AssertionError, match="differs from a full build"):
        run(PERSISTED, persisted=True)


# A fixed sequence that reaches both caches: a retitle (a card's own document), an
# author rename (a document the cards dereference), and a card that prints its page's
# ``url`` (a global the page context shadows), each shown on several pages.
SEQUENCE = [retitle(0, "x"), rename("a1", "y"), retitle(1, "z"), retitle(2, "ab")]


def test_the_sequence_passes() -> None:
    run(SEQUENCE)


def test_mutant_fragment_key_without_variables_is_caught() -> None:
    real = fragments.fragment_key

    def key(template: Any, spec: Any, context: Any, local: Any) -> Any:
        parts, refs = real(template, spec, context, local)
        return (None if parts is None else parts[:1]), refs  # the template alone

    with mutant(fragments, "fragment_key", key), pytest.raises(AssertionError, match="differs from a full build"):
        run(SEQUENCE)


def test_mutant_fragment_key_without_shadowed_globals_is_caught() -> None:
    real = fragments._free_names

    def names(ast: Any, env: Any) -> set[str]:
        return {name for name in real(ast, env) if name not in env.globals}  # jinja2.meta's

    with mutant(fragments, "_free_names", names), pytest.raises(
            AssertionError, match="differs from a full build"):
        run(SEQUENCE)


def test_mutant_memo_ignoring_dereferenced_documents_is_caught() -> None:
    def valid(found: Any, item: Any, by_id: Any) -> bool:
        return found[0] is item  # the card's own document only

    with mutant(memo, "_valid", valid), pytest.raises(AssertionError, match="differs from a full build"):
        run(SEQUENCE)


def test_mutant_renderer_that_never_rereads_templates_is_caught() -> None:
    # The shared renderer compares template texts once per use instead of Jinja2's stat
    # per include: without that comparison an edited partial would stay stale.
    with mutant(Renderer, "_drop_stale", lambda self: None), pytest.raises(
            AssertionError, match="differs from a full build"):
        run([edit_template("_card.html", "edited")])


def test_mutant_loop_splice_by_position_is_caught() -> None:
    # The author and category pages' loops are spliced (render/loops.py): a splice that
    # keeps equal positions instead of identical items would keep a retitled card stale.
    def by_length(old: list[Any], new: list[Any]) -> tuple[int, int]:
        return (min(len(old), len(new)), 0) if len(old) == len(new) else (0, 0)

    with mutant(loops, "_common", by_length), pytest.raises(
            AssertionError, match="differs from a full build"):
        run(SEQUENCE)


def test_mutant_loop_splice_ignoring_the_rest_is_caught() -> None:
    # The card also reads the page's ``url``: a run kept for one page must not serve
    # another whose list starts with the same items.
    real = fragments.fragment_key

    def item_only(template: Any, spec: Any, context: Any, local: Any) -> Any:
        parts, refs = real(template, spec, context, local)
        return (None if parts is None else parts[:1]), refs

    with mutant(loops, "fragment_key", item_only), pytest.raises(
            AssertionError, match="differs from a full build"):
        run([*SEQUENCE, recategorise(3, ["c1", "c2"]), retitle(3, "a")])

