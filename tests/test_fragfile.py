"""Include outputs persisted in ``.ssgen/fragments.cache`` (``ssgen.build.fragfile``,
``ssgen.render.fragments.store``) never go stale in a new process.

The site is sitekit's cards site (test_serve_fragments'): author, category and blog pages
listing cards rendered by ``{% include %}`` of a partial that imports macros. Generated
sequences of edits (retitles, reauthoring, renames of dereferenced documents, creations,
deletions, template edits, a template saved just after a process read the templates, kept
or undone before the next) and damage to the cache file (a stale copy from an earlier
step, a flipped byte, truncation, removal, an end torn off or left with bytes after it) run through new processes (a fresh renderer,
no kept source: ``build(load_config(site))``); after each, the output must equal a clean
full build's. The mutant tests show the checks catching a value key that leaves out what
the partial reads, a store key that leaves out the templates, and a load that skips the
checksum; a full build rendered by forked workers fills the cache too.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitekit import (
    CARD_TEMPLATES,
    CardSite,
    Edit,
    cache_damages,
    card_edits,
    edit_template,
    mutant,
    output_files,
    rename,
    retitle,
    words,
)

from ssgen.build import fragfile, workers
from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.render import environment
from ssgen.render.fragments import store as fragment_store


class Damage:
    """Something done to the cache file between processes (given the saved copies)."""

    def __init__(self, apply: Callable[[Path, list[bytes]], None]) -> None:
        self.apply = apply

    def __repr__(self) -> str:
        return self.apply.__name__


class Raced:
    """A template edit ``text`` the next process reads (so it renders), and a second edit
    saved just after its read; ``undone``: that one saved back before the process after
    (A -> B -> A), else kept."""

    def __init__(self, name: str, text: str, undone: bool) -> None:
        self.name, self.text, self.undone = name, text, undone

    def __repr__(self) -> str:
        return f"Raced({self.name!r}, {self.text!r}, undone={self.undone})"

    def apply(self, root: Path, site: CardSite) -> None:
        """The raced process; then the site as the next process finds it."""
        path = root / "templates" / self.name
        read = site.templates[self.name] + self.text
        saved = read + "?"
        path.write_text(read)
        real = environment.Renderer._drop_stale

        def read_then_save(renderer: environment.Renderer) -> None:
            real(renderer)
            path.write_text(saved)

        with mutant(environment.Renderer, "_drop_stale", read_then_save):
            new_process(root)
        if self.undone:
            path.write_text(read)
        site.templates[self.name] = read if self.undone else saved


def cache_file(root: Path) -> Path:
    return root / ".ssgen" / fragfile.FILE


def new_process(root: Path, jobs: int = 1) -> None:
    environment._SHARED.clear()  # no renderer, so no in-memory fragment, survives
    report = build(load_config(root), jobs=jobs)
    assert report.ok, report.failures


def full_build(site: CardSite, scratch: Path) -> dict[str, bytes]:
    shutil.rmtree(scratch, ignore_errors=True)
    site.write(scratch)
    environment._SHARED.clear()
    assert build(load_config(scratch), full=True, jobs=1).ok
    return output_files(scratch)


def run(steps: list[Edit | Damage | Raced]) -> None:
    """Apply ``steps``, each followed by a new process; assert it equals a full build."""
    with tempfile.TemporaryDirectory() as tmp:
        root, scratch = Path(tmp) / "site", Path(tmp) / "scratch"
        site = CardSite()
        site.write(root)
        new_process(root)
        saved = [cache_file(root).read_bytes()]
        for step in steps:
            if isinstance(step, Damage):
                step.apply(root, saved)
            elif isinstance(step, Raced):
                step.apply(root, site)
            else:
                step(site)
                site.write(root)
            new_process(root)
            if cache_file(root).exists():
                saved.append(cache_file(root).read_bytes())
            built, full = output_files(root), full_build(site, scratch)
            stale = sorted(f for f in built.keys() | full.keys() if built.get(f) != full.get(f))
            assert not stale, f"differs from a full build: {stale}"


def torn_end(root: Path, saved: list[bytes]) -> None:
    """The file's last bytes cut off: a save killed while appending."""
    path = cache_file(root)
    if path.exists():
        path.write_bytes(path.read_bytes()[:-7])


def garbage_end(root: Path, saved: list[bytes]) -> None:
    """Bytes after the trailer: an append torn after its first write."""
    path = cache_file(root)
    if path.exists():
        with path.open("ab") as file:
            file.write(b"\x00" * 61)


DAMAGES = [Damage(damage) for damage in [*cache_damages(cache_file), torn_end, garbage_end]]
raced = st.builds(Raced, st.sampled_from(sorted(CARD_TEMPLATES)), words, st.booleans())
steps = st.one_of(card_edits, st.sampled_from(DAMAGES), raced)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(steps, min_size=1, max_size=5))
def test_new_processes_through_persisted_fragments_equal_a_full_build(
        steps: list[Edit | Damage | Raced]) -> None:
    run(steps)


# Reaches every key part: a retitle (a card's own value), a rename of a dereferenced
# author, a template edit (the store's key), and a stale older copy of the file.
SEQUENCE: list[Edit | Damage | Raced] = [retitle(0, "x"), rename("a1", "y"), DAMAGES[0],
                                         edit_template("_m.html", "!"), retitle(1, "ab")]
# Templates saved just after a process's read: kept (the key), then undone (the compile).
RACES: list[Edit | Damage | Raced] = [Raced("_card.html", "b", False),
                                      Raced("list.html", "b", True), retitle(2, "c")]


def test_templates_saved_after_the_read_equal_a_full_build() -> None:
    run(RACES)


def test_the_sequence_passes_and_reuses_fragments() -> None:
    run(SEQUENCE)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        site = CardSite()
        site.write(root)
        new_process(root)
        retitle(0, "new")(site)
        site.write(root)
        hits = []
        real = fragment_store.activate

        def spy(store: Any) -> None:
            if store is not None:
                hits.append(store)
            real(store)

        with mutant(fragment_store, "activate", spy):
            new_process(root)
        # The retitled card is rendered again (and those that moved to another blog page,
        # whose ``url`` differs); unchanged cards come from the file.
        store = hits[0]
        assert store.hits > 0 and store.used
        assert any(">new<" in text for text, _, _ in store.added.values())


def test_mutant_value_key_of_the_template_alone_is_caught() -> None:
    real = fragment_store.value_key

    def key(template: Any, names: Any, called: Any, context: Any, local: Any) -> Any:
        return real(template, (), frozenset(), context, local)

    with mutant(fragment_store, "value_key", key), pytest.raises(
            AssertionError, match="differs from a full build"):
        run(SEQUENCE)


def test_mutant_store_key_without_templates_is_caught() -> None:
    def key(config: Any, renderer: Any) -> bytes:
        return config.hash.encode()[:16]

    with mutant(fragfile, "store_key", key), pytest.raises(
            AssertionError, match="differs from a full build"):
        run([edit_template("_card.html", "!")])


def test_a_flipped_output_byte_is_caught_by_the_checksum() -> None:
    def flip_text(root: Path, saved: list[bytes]) -> None:
        path = cache_file(root)
        path.write_bytes(path.read_bytes().replace(b"</li>", b"</lX>"))  # same length

    run([Damage(flip_text), retitle(0, "x")])
    with mutant(fragfile, "_intact", lambda record, crc: True), pytest.raises(
            AssertionError, match="differs from a full build"):
        run([Damage(flip_text), retitle(0, "x")])


def test_a_full_build_in_forked_workers_fills_the_cache(tmp_path: Path) -> None:
    site = CardSite()
    site.write(tmp_path)
    environment._SHARED.clear()
    with mutant(workers, "_PARALLEL_THRESHOLD", 0):
        assert build(load_config(tmp_path), full=True, jobs=2).ok
    entries, generation = fragfile.load(cache_file(tmp_path),
                                        fragfile.store_key(load_config(tmp_path),
                                                           environment.Renderer(
                                                               load_config(tmp_path))))
    assert generation == 1 and len(entries) >= len(site.posts())
    retitle(0, "zz")(site)
    site.write(tmp_path)
    with mutant(workers, "_PARALLEL_THRESHOLD", 0):
        new_process(tmp_path, jobs=2)
    full = full_build(site, tmp_path.parent / f"{tmp_path.name}-full")
    assert output_files(tmp_path) == full


def test_a_template_edited_during_a_full_build_keys_the_cards_by_the_text_rendered(
        tmp_path: Path) -> None:
    """A full build takes the store's key when it saves, after rendering: of the texts
    it rendered (read as it began), not of a template edited meanwhile, so the next
    process (with the edited text) finds no cards under its key and renders afresh."""
    from ssgen.build.pipeline import pages as pipeline

    site, root = CardSite(), tmp_path / "site"
    site.write(root)
    real = pipeline.render_pages

    def then_edit(*args: Any, **kwargs: Any) -> Any:
        outcomes = real(*args, **kwargs)
        edit_template("_card.html", "!")(site)
        site.write(root)
        return outcomes

    environment._SHARED.clear()
    with mutant(pipeline, "render_pages", then_edit):
        assert build(load_config(root), full=True, jobs=1).ok
    config = load_config(root)
    assert cache_file(root).exists()
    assert fragfile.load(cache_file(root),
                         fragfile.store_key(config, environment.Renderer(config)))[0] is None
    new_process(root)
    assert output_files(root) == full_build(site, tmp_path / "scratch")


def _start(root: Path) -> CardSite:
    site = CardSite()
    site.write(root)
    environment._SHARED.clear()
    assert build(load_config(root), full=True, jobs=1).ok
    return site


def _loaded(root: Path) -> fragfile.FragmentFile:
    config = load_config(root)
    loaded, _ = fragfile.load(cache_file(root),
                              fragfile.store_key(config, environment.Renderer(config)))
    assert loaded is not None
    return loaded


def test_a_save_appends_to_the_file_it_loaded_and_every_row_decodes(tmp_path: Path) -> None:
    """A new process's save writes only what it rendered, a new index and a trailer
    after the bytes it loaded (the same file, those bytes untouched); every row of the
    index names a whole record, and the next process reuses them."""
    site = _start(tmp_path)
    before, inode = cache_file(tmp_path).read_bytes(), cache_file(tmp_path).stat().st_ino
    for step, title in enumerate(["x", "yy", "zzz"]):
        retitle(step, title)(site)
        site.write(tmp_path)
        new_process(tmp_path)
        after = cache_file(tmp_path).read_bytes()
        assert after.startswith(before) and len(after) > len(before)
        assert cache_file(tmp_path).stat().st_ino == inode
        before = after
    loaded = _loaded(tmp_path)
    rows = list(loaded.rows())
    assert len(rows) == len(loaded) >= len(site.posts())
    assert all(loaded.get(row[0]) is not None for row in rows)
    assert any(">zzz<" in entry[0] for entry in map(loaded.get, (row[0] for row in rows))
               if entry is not None)
    assert output_files(tmp_path) == full_build(site, tmp_path.parent / "scratch")


def test_a_load_reads_the_index_only(tmp_path: Path) -> None:
    """Records are checked and decoded when asked for, one at a time."""
    _start(tmp_path)
    checked: list[int] = []
    real = fragfile._intact

    def spy(record: bytes, crc: int) -> bool:
        checked.append(crc)
        return real(record, crc)

    with mutant(fragfile, "_intact", spy):
        loaded = _loaded(tmp_path)
        assert checked == []
        first = next(iter(loaded.rows()))
        assert loaded.get(first[0]) is not None and checked == [first[3]]


def test_a_file_mostly_garbage_is_written_anew(tmp_path: Path) -> None:
    """With no slack, and entries dropped after one unused save, the appended garbage
    soon outweighs the live records: the file is rewritten whole (another inode, smaller)
    and still gives a full build's output."""
    site = _start(tmp_path)
    inodes, sizes = set(), []
    with mutant(fragfile, "_SLACK", 0), mutant(fragfile, "KEEP", 1):
        for step in range(4):
            retitle(step % 3, "t" * (step + 1))(site)
            site.write(tmp_path)
            new_process(tmp_path)
            inodes.add(cache_file(tmp_path).stat().st_ino)
            sizes.append(cache_file(tmp_path).stat().st_size)
            assert output_files(tmp_path) == full_build(site, tmp_path.parent / "scratch")
    assert len(inodes) > 1 and sizes[-1] < max(sizes)
    _loaded(tmp_path)


def test_mutant_load_taking_the_files_own_key_is_caught() -> None:
    """The store key in the file's head is what ties its entries to the templates: a
    load that takes whatever key the file has serves cards of the old template."""
    real = fragfile._index

    def any_key(data: Any, key: bytes) -> Any:
        head = len(fragfile.MAGIC)
        return real(data, bytes(data[head:head + 16]))

    with mutant(fragfile, "_index", any_key), pytest.raises(
            AssertionError, match="differs from a full build"):
        run([edit_template("_card.html", "!")])


def test_a_template_saved_after_the_read_keys_no_cards_of_the_text_read(tmp_path: Path) -> None:
    """A new process renders the template texts its renderer read (``Renderer.shared``):
    a partial saved just after that read must not give its key to the cards rendered
    from the text read, or the next process (with the saved text) would reuse them."""
    site, root = CardSite(), tmp_path / "site"
    site.write(root)
    new_process(root)
    edit_template("_card.html", "!")(site)  # A, read by the next process
    site.write(root)
    real = environment.Renderer._drop_stale
    saved = root / "templates" / "_card.html"

    def read_then_save(renderer: environment.Renderer) -> None:
        real(renderer)
        saved.write_text(saved.read_text() + "?")  # B, saved just after the read

    with mutant(environment.Renderer, "_drop_stale", read_then_save):
        new_process(root)
    edit_template("_card.html", "?")(site)
    assert saved.read_text() == site.templates["_card.html"]
    new_process(root)
    assert output_files(root) == full_build(site, tmp_path / "scratch")
