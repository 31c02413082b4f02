"""A Markdown-only site's new process through ``ssgen.sources.lazy``: only the changed files'
cache entries are used, vouched for by the cache's mark (``FileCache.save``) being the
manifest's ``documents_at``. Each new process's output and failures equal a clean full
build's, through edits, type and slug changes, renames, deletions, unparsable files and
every damage to the parse cache and its mark; mutants of the vouching are caught."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitekit import copy_inputs, forget_process, inputs_digest, mutant

from ssgen.build import ahead, damage_ahead, verify
from ssgen.build.pipeline import build
from ssgen.build.progress import Reporter
from ssgen.build.report import BuildReport
from ssgen.config.load import load_config
from ssgen.sources import early, filecache, inputs, lazy, local, parallel, parse_ahead
from ssgen.sources.filecache import shard
from ssgen.sources.lazy import LazyMarkdown

TOML = """
[site]
title = "Lazy"
base_url = "https://example.com"

[source]
type = "local"
files = []
markdown_dir = "content"

[[routes]]
name = "page"
path = "/{slug}/"
template = "page.html"
query = '*[_type == "page"]{title, "slug": slug.current, body}'

[[routes]]
name = "note"
path = "/notes/{slug}/"
template = "page.html"
query = '*[_type == "note"]{title, "slug": slug.current, body}'
"""
# A list of every page: any page edit re-runs its query, so the full source is loaded.
LISTED = """
[[routes]]
name = "all"
path = "/all/"
template = "all.html"
query = '{"titles": *[_type == "page"] | order(title asc).title}'
"""
NAMES = ["a", "b", "c", "sub/d"]
CACHE = Path(".ssgen") / "markdown.cache"


def make_site(root: Path, listed: bool) -> Path:
    (root / "content" / "sub").mkdir(parents=True, exist_ok=True)
    (root / "templates").mkdir(exist_ok=True)
    (root / "ssgen.toml").write_text(TOML + (LISTED if listed else ""))
    (root / "templates" / "page.html").write_text("{{ page.title }}|{{ page.body }}")
    (root / "templates" / "all.html").write_text("{{ page.titles | join(';') }}")
    return root


def page_file(title: str, kind: str = "page", slug: str = "") -> str:
    extra = f"slug: {slug}\n" if slug else ""
    return f"---\ntitle: {title}\n_type: {kind}\n{extra}---\nBody of {title}.\n"


def public(site: Path) -> dict[str, bytes]:
    out = site / "public"
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


def failures(report: BuildReport) -> list[tuple[str, str]]:
    return sorted((f.path, f.message.replace(str(f.path), "")) for f in report.failures)


# A clean full build is a function of the site's input files: the examples of the
# properties here and in test_quick and test_quick_lists ask for the same one again and
# again. Each is made once per process, keyed by a digest of the files; the oldest are
# dropped. The process's memos are forgotten either way, as the build would leave them.
_CLEAN: dict[bytes, tuple[dict[str, bytes], list[tuple[str, str]]]] = {}
_CLEAN_KEEP = 256


def full_build(site: Path, scratch: Path) -> tuple[dict[str, bytes], list[tuple[str, str]]]:
    key = inputs_digest(site).digest()
    forget_process()
    found = _CLEAN.get(key)
    if found is not None:
        return found
    copy_inputs(site, scratch)
    report = build(load_config(scratch), full=True, jobs=1)
    found = _CLEAN[key] = public(scratch), failures(report)
    while len(_CLEAN) > _CLEAN_KEEP:
        del _CLEAN[next(iter(_CLEAN))]
    return found


@contextmanager
def watching() -> Iterator[dict[str, int]]:
    """Counts of lazy sources opened and of full local sources loaded."""
    seen = {"lazy": 0, "full": 0}
    real_open, real_init = LazyMarkdown.open.__func__, local.LocalSource.__init__  # type: ignore[attr-defined]

    def counted_open(cls: Any, *args: Any) -> Any:
        found = real_open(cls, *args)
        seen["lazy"] += found is not None
        return found

    def counted_init(self: Any, *args: Any, **kwargs: Any) -> None:
        seen["full"] += 1
        real_init(self, *args, **kwargs)

    with mock.patch.object(LazyMarkdown, "open", classmethod(counted_open)), \
            mock.patch.object(local.LocalSource, "__init__", counted_init):
        yield seen


def new_process(site: Path, jobs: int = 1, plan: bool = False) -> BuildReport:
    """A build as ``ssgen build`` runs it (``jobs`` > 1: the Markdown files the cache
    does not vouch for are parsed by forked children before the source loads, and the
    owned output is stat'ed by another, ``damage_ahead``; ``plan``: both started before
    the configuration loads, from the plan the last build left, ``ssgen.build.ahead``)."""
    forget_process()
    if plan:
        ahead.start(site, jobs)
    try:
        config = load_config(site)
        early.begin(config, jobs)
        damage_ahead.begin(config, jobs)
        report = build(config, jobs=jobs)
        ahead.remember(config)
        return report
    finally:
        early.discard()
        damage_ahead.discard()


def settle() -> None:
    time.sleep(0.03)  # past the (shortened) racy window: the stamps are trusted


# --- deterministic cases -------------------------------------------------------------------


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Path]:
    with mock.patch.object(filecache, "RACY_NS", 20_000_000):
        root = make_site(tmp_path / "site", listed=False)
        for name in NAMES:
            (root / "content" / f"{name}.md").write_text(page_file(name.upper()))
        settle()  # then read out of their racy window: their entries are trusted
        assert new_process(root).ok
        settle()
        yield root


def test_a_one_file_edit_reads_one_file_and_loads_no_full_source(site: Path) -> None:
    (site / "content" / "b.md").write_text(page_file("Bee"))
    settle()
    with watching() as seen, mock.patch.object(lazy, "cached_markdown",
                                               wraps=lazy.cached_markdown) as parsed:
        report = new_process(site)
    assert report.ok and seen == {"lazy": 1, "full": 0}
    assert [call.args[2] for call in parsed.call_args_list] == ["b.md"]
    assert (site / "public" / "b" / "index.html").read_text() == "Bee|Body of Bee.\n"
    settle()
    (site / "content" / "c.md").write_text(page_file("Sea"))
    settle()
    with watching() as seen:
        assert new_process(site).ok
    assert seen == {"lazy": 1, "full": 0}  # the lazy build's own mark vouches for the next
    assert public(site) == full_build(site, site.parent / "scratch")[0]


_LEAVE_NAMING_MODULES = """
import os, sys
real, me = os._exit, os.getpid()
def leave(code):
    if os.getpid() == me:  # not the forked children's exits
        print(sorted(m for m in sys.modules if m.startswith(("ssgen.sources.local",
                                                               "ssgen.sources.snapshot"))))
        sys.stdout.flush()
    real(code)
os._exit = leave
sys.argv = ["ssgen", "-q", "build"]
import runpy
runpy.run_module("ssgen", run_name="__main__")
"""


def test_a_new_process_after_a_one_file_edit_imports_no_full_source(site: Path) -> None:
    """``ssgen build`` in a new process after a one-file edit imports neither the full
    local source nor the snapshot (``ssgen.build.loading``): no ``LocalSource`` exists in
    it, so none is kept."""
    (site / "content" / "b.md").write_text(page_file("Bee"))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run([sys.executable, "-c", _LEAVE_NAMING_MODULES], cwd=site, env=env,
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
    assert (site / "public" / "b" / "index.html").read_text() == "Bee|Body of Bee.\n"


def test_a_build_of_a_site_with_a_list_route_loads_the_full_source(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site", listed=True)
    for name in NAMES:
        (root / "content" / f"{name}.md").write_text(page_file(name.upper()))
    assert new_process(root).ok
    (root / "content" / "a.md").write_text(page_file("Zed"))
    with watching() as seen:
        assert new_process(root).ok
    assert seen == {"lazy": 1, "full": 1}
    assert (root / "public" / "all" / "index.html").read_text() == "B;C;SUB/D;Zed"


@pytest.mark.parametrize("damage", ["mark", "drop-shard", "stale-mark"])
def test_a_cache_the_mark_does_not_vouch_for_loads_the_full_source(site: Path,
                                                                     damage: str) -> None:
    cache = site / CACHE
    old_mark = (cache / filecache.MARK_FILE).read_bytes()
    (site / "content" / "a.md").write_text(page_file("Ay"))
    settle()
    assert new_process(site).ok
    settle()
    if damage == "mark":
        (cache / filecache.MARK_FILE).write_bytes((cache / filecache.MARK_FILE).read_bytes()[:-2])
    elif damage == "drop-shard":
        shard = next(p for p in sorted(cache.iterdir()) if p.name != filecache.MARK_FILE)
        shard.unlink()
    else:  # the mark of the build before put back: another source state than recorded
        (cache / filecache.MARK_FILE).write_bytes(old_mark)
    (site / "content" / "b.md").write_text(page_file("Bee"))
    settle()
    with watching() as seen:
        assert new_process(site).ok
    assert seen == {"lazy": 0, "full": 1}
    assert public(site) == full_build(site, site.parent / "scratch")[0]


def test_a_json_file_the_source_does_not_read_is_still_warned_about(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site", listed=False)
    toml = root / "ssgen.toml"
    toml.write_text(toml.read_text().replace("files = []\n", ""))  # content/ discovered
    (root / "content" / "a.md").write_text(page_file("A"))
    assert new_process(root).ok
    (root / "content" / "a.md").write_text(page_file("Ay"))
    settle()
    assert new_process(root).ok
    (root / "content" / "a.md").write_text(page_file("Aye"))
    (root / "content" / "stray.json").write_text("[]")
    settle()
    with watching() as seen, mock.patch.object(Reporter, "warn") as warned:
        assert new_process(root).ok
    assert seen == {"lazy": 0, "full": 1} and "stray.json" in str(warned.call_args_list)


def test_two_files_with_one_id_load_the_full_source(site: Path) -> None:
    (site / "content" / "sub.d.md").write_text(page_file("Twin", slug="twin"))
    settle()
    with watching() as seen:
        report = new_process(site)
    assert seen == {"lazy": 0, "full": 1}
    assert failures(report) == full_build(site, site.parent / "scratch")[1] != []


# --- the property -----------------------------------------------------------------------------

TITLES = st.text("xyz", min_size=1, max_size=3)
STEPS = st.one_of(
    st.tuples(st.just("write"), st.sampled_from(NAMES), TITLES),
    st.tuples(st.just("type"), st.sampled_from(NAMES), st.sampled_from(["page", "note"])),
    st.tuples(st.just("slug"), st.sampled_from(NAMES), st.sampled_from(["s1", "s2", ""])),
    st.tuples(st.just("delete"), st.sampled_from(NAMES), st.just("")),
    st.tuples(st.just("rename"), st.sampled_from(NAMES), st.sampled_from(NAMES)),
    st.tuples(st.just("bad"), st.sampled_from(NAMES), st.just("")),
    st.tuples(st.just("same-stamp"), st.sampled_from(NAMES), TITLES),
    # The Markdown folder moved: the inputs a plan of the last build names are not these.
    st.tuples(st.just("layout"), st.just(""), st.sampled_from(["content", "content/sub"])),
    st.tuples(st.just("cache"), st.sampled_from(
        ["stale", "truncate", "flip", "drop", "stale-mark", "stale-shards", "stale-all",
         "stale-documents"]),
        st.just("")),
    # Outside damage to the output between processes: an owned file deleted, or changed
    # in place with its size kept (only its mtime tells), or the whole folder gone.
    st.tuples(st.just("output"), st.sampled_from(["delete", "change", "all"]),
              st.integers(0, 9).map(str)),
)


def apply(site: Path, step: tuple[str, str, str], saved: dict[str, bytes]) -> None:
    kind, name, arg = step
    page = site / "content" / f"{name}.md"
    cache = site / CACHE
    if kind == "write":
        page.write_text(page_file(arg))
    elif kind in ("type", "slug") and page.exists():
        title = page.read_text().split("\n")[1].removeprefix("title: ")
        page.write_text(page_file(title, *((arg, "") if kind == "type" else ("page", arg))))
    elif kind == "delete":
        page.unlink(missing_ok=True)
    elif kind == "rename" and page.exists():
        page.replace(site / "content" / f"{arg}.md")
    elif kind == "bad":
        page.write_text("---\ntitle: [unclosed\n---\nx\n")
    elif kind == "same-stamp" and page.exists():  # same size, mtime put back
        before = os.stat(page)
        text = page.read_text()
        page.write_text(text.replace("Body", "Bod!"))
        os.utime(page, ns=(before.st_atime_ns, before.st_mtime_ns))
    elif kind == "layout":
        toml = site / "ssgen.toml"
        toml.write_text(re.sub(r'markdown_dir = "[^"]*"', f'markdown_dir = "{arg}"',
                               toml.read_text()))
    elif kind == "cache" and cache.is_dir():
        _damage_cache(cache, name, saved)
    elif kind == "output":
        _damage_output(site / "public", name, int(arg))


def _index_end(data: bytes) -> int:
    head = len(filecache.MAGIC) + 16
    return head + 8 + int.from_bytes(data[head:head + 8], "little")


def _damage_output(out: Path, how: str, pick: int) -> None:
    owned = sorted(p for p in out.rglob("*") if p.is_file())
    if how == "all":
        shutil.rmtree(out, ignore_errors=True)
    elif owned and how == "delete":
        owned[pick % len(owned)].unlink()
    elif owned:
        target = owned[pick % len(owned)]
        target.write_bytes(target.read_bytes()[:-1] + b"#")  # same size: the mtime tells


def _damage_cache(cache: Path, how: str, saved: dict[str, bytes]) -> None:
    files = sorted(cache.iterdir())
    if how == "stale-all":  # the whole cache of an earlier build put back
        for path in files:
            path.unlink()
        for name, data in saved.items():
            (cache / name).write_bytes(data)
        return
    if how == "stale-documents":  # each shard's current index, with its earlier documents
        for path in files:
            old = saved.get(path.name)
            if path.name != filecache.MARK_FILE and old is not None:
                data = path.read_bytes()
                path.write_bytes(data[:_index_end(data)] + old[_index_end(old):])
        return
    for path in files:
        data = path.read_bytes()
        if how == "stale-mark" and path.name == filecache.MARK_FILE:
            path.write_bytes(saved.get(filecache.MARK_FILE, data))
        elif how == "stale-shards" and path.name != filecache.MARK_FILE:  # the mark left as it is
            if path.name in saved:
                path.write_bytes(saved[path.name])
            else:
                path.unlink()
        elif how not in ("stale-mark", "stale-shards"):
            path.write_bytes({"stale": saved.get(path.name, data), "truncate": data[:-3],
                              "flip": data.replace(b"title", b"titlf"), "drop": b""}[how])


class _Forks(list[int]):
    """``filecache._SAVING`` that counts the saves forked."""

    forked = 0

    def append(self, pid: int) -> None:
        type(self).forked += 1
        super().append(pid)


@contextmanager
def _one_thread(background: bool) -> Iterator[None]:
    """The cache's saves see one thread, as in ``ssgen build`` (an earlier test may have
    left one running in this process, which would turn the forked saves off)."""
    if not background:
        yield
        return
    with mock.patch.object(filecache.threading, "active_count", lambda: 1):
        yield


@contextmanager
def _split(split: str) -> Iterator[None]:
    """``split``, however few the input files are: "halves", they are stat'ed and judged
    by the parse cache half here, half in a forked child (``parallel.map_halves``);
    "child", with a warm cache all of them in one forked child while the build imports
    (``parallel.later``, a file a chunk: the build takes those it has not reached when
    ``early.inputs`` asks); "plan": that child, and the output's,
    started before the configuration loads (``ahead``); "": all here."""
    if not split:
        yield
        return
    with mock.patch.object(parallel, "SPLIT_MIN", 1), \
            mock.patch.object(parallel, "LATER_CHUNK", 1), \
            mock.patch.object(parallel.threading, "active_count", lambda: 1), \
            mock.patch.object(inputs, "later", inputs.later if split in ("child", "plan")
                              else lambda *args: None):
        yield


def run_steps(steps: list[tuple[str, str, str]], listed: bool,
              jobs: list[int] | None = None, background: bool = False,
              split: str = "") -> dict[str, int]:
    """Each step then a new process's build (on ``jobs[i]`` cores: 2 parses the changed
    files in children first) of the site and of a twin that never takes the lazy
    source: equal to each other (a failing page keeps its last good version in both),
    and to a clean full build when no page fails; the counts of lazy and full sources
    (and of the lazy source's cache saves forked: ``background`` forks each of them;
    ``split``: the inputs stat'ed and judged half or all in a child, ``_split``)."""
    counts = {"lazy": 0, "full": 0}
    jobs = jobs or [1]
    _Forks.forked = 0
    with tempfile.TemporaryDirectory() as tmp, \
            mock.patch.object(filecache, "RACY_NS", 20_000_000), \
            mock.patch.object(filecache, "_SAVING", _Forks()), \
            mock.patch.object(lazy, "EDIT_BACKGROUND", 0 if background else lazy.EDIT_BACKGROUND), \
            _one_thread(background), _split(split), \
            mock.patch.object(parse_ahead, "MIN_FILES", 1):
        roots = [make_site(Path(tmp) / name, listed) for name in ("site", "twin")]
        saved: list[dict[str, bytes]] = []
        for root in roots:
            for name in NAMES[:2]:
                (root / "content" / f"{name}.md").write_text(page_file(name.upper()))
            settle()
            new_process(root)
            saved.append({p.name: p.read_bytes() for p in sorted((root / CACHE).iterdir())})
        for index, step in enumerate(steps):
            settle()
            for root, old in zip(roots, saved, strict=True):
                apply(root, step, old)
            settle()
            with watching() as seen:
                report = new_process(roots[0], jobs[index % len(jobs)], split == "plan")
            counts = {key: counts[key] + seen[key] for key in counts}
            with mock.patch.object(LazyMarkdown, "open", classmethod(lambda cls, *a: None)):
                twin = new_process(roots[1], jobs[index % len(jobs)], split == "plan")
            got, other = (public(roots[0]), failures(report)), (public(roots[1]), failures(twin))
            assert got == other, f"{step}: a new process differs from its twin's: " \
                f"{_difference(got, other)}"
            expected = full_build(roots[0], Path(tmp) / "scratch")
            assert expected[1] or got == expected, \
                f"{step}: a new process differs from a full build: {_difference(got, expected)}"
    return {**counts, "forked": _Forks.forked}


def _difference(got: Any, expected: Any) -> str:
    files = {name for name in got[0].keys() | expected[0].keys()
             if got[0].get(name) != expected[0].get(name)}
    return f"files {sorted(files)}, failures {got[1]} != {expected[1]}"


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEPS, min_size=1, max_size=6), listed=st.booleans(),
       jobs=st.lists(st.sampled_from([1, 2]), min_size=1, max_size=3),
       background=st.booleans(), split=st.sampled_from(["", "halves", "child", "plan"]))
def test_new_processes_through_the_lazy_source_equal_a_full_build(
        steps: list[tuple[str, str, str]], listed: bool, jobs: list[int],
        background: bool, split: str) -> None:
    run_steps(steps, listed, jobs, background, split)


# --- mutants ----------------------------------------------------------------------------------

EDITS = [("write", "a", "x"), ("delete", "b", ""), ("rename", "a", "c"),
         ("type", "c", "note"), ("cache", "stale-all", ""), ("write", "c", "y")]


def test_the_sequences_the_mutants_fail_pass_and_go_lazy() -> None:
    assert run_steps(EDITS, listed=False)["lazy"] >= 4
    # The cache saved by a forked process: the next process's lazy source reads it.
    went = run_steps(EDITS, listed=False, background=True)
    assert went["lazy"] >= 4 and went["forked"] >= 4
    assert run_steps([("delete", "b", "")], listed=False)["lazy"] == 1
    assert run_steps(STALE_SHARDS, listed=False) == {"lazy": 1, "full": 1, "forked": 0}
    assert run_steps([("write", "a", "x"), ("write", "b", "yy")], listed=False,
                     jobs=[2])["lazy"] == 2
    assert run_steps(STALE_DOCUMENTS, listed=True)["full"] == 2
    assert run_steps(TAMPERED, listed=False)["lazy"] >= 3
    assert run_steps(EDITS, listed=False, split="halves")["lazy"] >= 4
    assert run_steps(EDITS, listed=False, jobs=[2], split="child")["lazy"] >= 4
    assert run_steps(EDITS, listed=False, jobs=[2], split="plan")["lazy"] >= 4
    assert run_steps(MOVED, listed=False, jobs=[2], split="plan")["lazy"] >= 1


STALE_SHARDS = [("write", "c", "x"), ("cache", "stale-shards", ""), ("delete", "c", "")]
# a's entry keeps its index but gets its first documents back (same length: "A" -> "x"),
# then b's edit loads the full source, which takes a's documents from the cache.
STALE_DOCUMENTS = [("write", "a", "x"), ("cache", "stale-documents", ""), ("write", "b", "y")]
TAMPERED = [("write", "a", "x"), ("output", "change", "0"), ("output", "delete", "1"),
            ("write", "b", "y"), ("output", "all", "0")]


def test_mutant_mark_not_compared_is_caught() -> None:
    def any_mark(path: Path, key: str, checks: list[bytes | None]) -> str:
        import marshal

        try:  # the shard files saved with the mark not compared
            return str(marshal.loads(path.read_bytes()[len(filecache.MARK_MAGIC) + 16:])[1])
        except (OSError, ValueError, EOFError, IndexError):
            return ""

    with mutant(filecache, "_read_mark", any_mark), \
            pytest.raises(AssertionError, match="differs from"):
        run_steps(STALE_SHARDS, listed=False)


def test_mutant_halves_judged_against_the_other_halfs_stamps_is_caught() -> None:
    """The child's verdicts go with the child's stamps: a mutant that pairs each half's
    stamps with the other half's verdicts trusts an edited file's old parse."""
    real = inputs.map_halves

    def swapped(*args: Any, **kwargs: Any) -> Any:
        halves = real(*args, **kwargs)
        if len(halves) == 2 and len(halves[0][1]) == len(halves[1][1]):
            (first, one), (second, other) = halves
            return [(first, other), (second, one)]
        return halves

    with mutant(inputs, "map_halves", swapped), \
            pytest.raises(AssertionError, match="differs from"):
        run_steps(EDITS, listed=False, split="halves")


def test_mutant_child_stamps_of_an_earlier_process_is_caught() -> None:
    """The stamps and verdicts a new process's child takes are of the files now: a mutant
    that gives a process the answer an earlier one got for the same files (a listing kept
    across processes, not stat'ed again) trusts an edited file's old parse."""
    real, seen = inputs.Listing.finish, {}

    def kept(self: inputs.Listing) -> inputs.Listed:
        found = real(self)
        return seen.setdefault(tuple(item.path for item in self.inputs), found)

    steps = [("write", "b", "z"), ("write", "a", "y")]
    assert run_steps(steps, listed=False, jobs=[2], split="child")["lazy"] == 2
    with mutant(inputs.Listing, "finish", kept), \
            pytest.raises(AssertionError, match="differs from"):
        run_steps(steps, listed=False, jobs=[2], split="child")


# The Markdown folder moved to content/sub and back: the plan names the other folder.
MOVED = [("write", "sub/d", "x"), ("layout", "", "content/sub"), ("layout", "", "content"),
         ("write", "a", "y")]


def test_mutant_plan_of_another_layout_kept_is_caught() -> None:
    """``early.begin`` keeps a listing started from the plan only for the layout the
    configuration has: a mutant keeping it whatever the layout gives the build the
    inputs of the folder the last build read."""
    real = early.begin

    def kept(config: Any, jobs: int | None) -> None:
        if not early._STAMPING:
            real(config, jobs)

    with mutant(early, "begin", kept), pytest.raises(AssertionError, match="differs from"):
        run_steps(MOVED, listed=False, jobs=[2], split="plan")


def test_the_plan_is_written_once_and_starts_nothing_when_unreadable(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site", listed=False)
    (root / "content" / "a.md").write_text(page_file("A"))
    new_process(root)
    plan = root / ".ssgen" / ahead.PLAN
    stamp = plan.stat().st_mtime_ns
    new_process(root, 2, plan=True)
    assert plan.stat().st_mtime_ns == stamp  # the same plan: not written again
    plan.write_bytes(b"ssgen ahead plan 1\n\x00garbage")
    forget_process()
    ahead.start(root, 2)
    assert not early._STAMPING and not damage_ahead._BEGUN
    new_process(root, 2, plan=True)
    assert ahead._plan(plan.read_bytes()) is not None


def test_mutant_removed_files_ignored_is_caught() -> None:
    with mutant(lazy, "removed_files", lambda entries, current: []), \
            pytest.raises(AssertionError, match="differs from"):
        run_steps([("delete", "b", "")], listed=False)


class _Forgetful(set[str]):
    def add(self, name: str) -> None:
        pass


def test_mutant_entries_put_since_loading_trusted_is_caught() -> None:
    """Two guards keep the entries the parsing children put since loading from being
    taken as the marked ones: the cache's verdicts as stat'ed (``ReadInputs.hits``, from
    before the children ran) and ``FileCache.replaced``. Each alone suffices; both gone
    is caught."""
    real = filecache.FileCache.__init__
    real_read = early.read_listed

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        real(self, *args, **kwargs)
        self.replaced = _Forgetful()  # what the parsing children put is not seen as new

    def unkept(*args: Any, **kwargs: Any) -> Any:
        return real_read(*args, **kwargs)._replace(hits=None)  # asked of the cache again

    steps = [("write", "a", "x"), ("write", "b", "yy")]
    with mutant(filecache.FileCache, "__init__", init):
        run_steps(steps, listed=False, jobs=[2])
    with mutant(early, "read_listed", unkept):
        run_steps(steps, listed=False, jobs=[2])
    with mutant(filecache.FileCache, "__init__", init), mutant(early, "read_listed", unkept), \
            pytest.raises(AssertionError, match="differs from"):
        run_steps(steps, listed=False, jobs=[2])


def test_mutant_documents_not_checked_is_caught() -> None:
    def unchecked(self: shard.Blob) -> bytes | None:
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            return handle.read()

    with mutant(shard.Blob, "data", unchecked), \
            pytest.raises(AssertionError, match="differs from"):
        run_steps(STALE_DOCUMENTS, listed=True)


def test_mutant_output_not_checked_is_caught() -> None:
    with mutant(verify, "suspects", lambda rows, root, racy: []), \
            pytest.raises(AssertionError, match="differs from"):
        run_steps(TAMPERED, listed=False)


def test_the_output_checked_ahead_restores_tampered_files() -> None:
    """On two cores the owned output is stat'ed by the child ``damage_ahead`` forks (its
    answer taken: a mutant of its check that finds nothing is caught)."""
    taken: list[object] = []
    real_take = damage_ahead.take

    def spied(*args: Any) -> Any:
        found = real_take(*args)
        taken.append(found)
        return found

    with mutant(damage_ahead, "take", spied):
        run_steps(TAMPERED, listed=False, jobs=[2])
    assert taken and all(found is not None for found in taken)
    with mutant(damage_ahead, "_check", lambda manifest, output: ([], None)), \
            pytest.raises(AssertionError, match="differs from"):
        run_steps(TAMPERED, listed=False, jobs=[2])
