"""Serve rounds hand the sitemap and feed memos their change (issue 14, build/extras/delta):
each round still gives a clean full build's output, byte for byte.

A site with a post route (the feed's, a sitemap lastmod from ``_updatedAt``, a cover image
rendered by the local image pipeline), a paginated list, a feed of the newest three posts
and a sitemap split into parts of five URLs. Through one kept source, as serve runs it,
edits retitle posts, re-date them across the feed's cut, take their date away (undated
posts), change their ``_updatedAt`` (the sitemap's lastmod), give them new slugs, delete
and insert them, and change their cover image or the image file itself; after each round
the output must equal a clean full build's (made in the same process with the memos of
the served site set aside, so the next round still finds them). The rounds after the
first must take the delta (counted), and mutants of it are caught.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sitekit import forget_process
from test_incremental import assert_equals_full_build, full_build_of, snapshot

from ssgen.build import extras, images, sitemapfile
from ssgen.build.extras import delta as extras_delta
from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.render import generated
from ssgen.render.sitemap import memo as sitemap_memo
from ssgen.sources import open_source

TOML = """
[site]
title = "Delta"
base_url = "https://example.com"

[source]
type = "local"
files = ["content/data.ndjson"]

[sitemap]
max_urls = 5

[[routes]]
name = "post"
path = "/blog/{slug}/"
template = "post.html"
query = '''*[_type == "post" && defined(slug.current)] | order(title asc){_id, title,
  "slug": slug.current, publishedAt, _updatedAt, cover{..., asset->}}'''
tags = ["posts", "post:{slug}"]

[[routes]]
name = "blog"
path = "/blog/"
template = "list.html"
query = '*[_type == "post" && defined(slug.current)] | order(title asc){title, "slug": slug.current}'
paginate = 4
tags = ["posts"]

[feed]
route = "post"
date_field = "publishedAt"
limit = 3
"""

TEMPLATES = {
    "post.html": "{{ page.title }}|{{ page.publishedAt }}|{{ prev.title if prev else '' }}"
    "{% if page.cover %}{{ page.cover|responsive_image(width=40, height=30, widths=[40], "
    "sizes='40px') }}{% endif %}",
    "list.html": "{% for p in page %}{{ p.title }},{% endfor %}"
    "{{ paginator.number }}/{{ paginator.pages }}",
}
DATES = ["2023-05-01", "2024-01-03", "2024-01-06", "2025-02-02", "2026-01-01", None]
STAMPS = ["2024-02-02T10:00:00Z", "2025-03-03T11:00:00Z", "2026-04-04T12:00:00Z"]
ASSETS = ["a" * 40, "b" * 40]
POSTS = 14


def _photo(seed: int) -> bytes:
    image = Image.new("RGB", (64, 48), (seed * 40 % 256, 90, 200 - seed * 30 % 200))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _cover(asset: int | None) -> dict[str, Any] | None:
    if asset is None:
        return None
    return {"_type": "image",
            "asset": {"_type": "reference", "_ref": f"image-{ASSETS[asset]}-64x48-png"}}


class Site:
    """The documents, the image files and the templates, written to a folder."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.photos = [0, 1]  # the seed of each asset file's pixels
        self.counter = 0
        for i, sha in enumerate(ASSETS):
            self.docs[f"image-{sha}-64x48-png"] = {
                "_id": f"image-{sha}-64x48-png", "_type": "sanity.imageAsset",
                "assetId": sha, "extension": "png",
                "metadata": {"dimensions": {"width": 64, "height": 48}}}
            del i
        for i in range(POSTS):
            self.docs[f"p{i:02d}"] = self.post(f"p{i:02d}", f"Title {i:02d}",
                                               DATES[i % len(DATES)], i % 3 or None)

    def post(self, ident: str, title: str, date: str | None,
             asset: int | None) -> dict[str, Any]:
        doc: dict[str, Any] = {"_id": ident, "_type": "post", "title": title,
                               "_updatedAt": STAMPS[0],
                               "slug": {"_type": "slug", "current": f"post-{ident}"}}
        if date is not None:
            doc["publishedAt"] = date
        if (cover := _cover(asset - 1 if asset else None)) is not None:
            doc["cover"] = cover
        return doc

    def posts(self) -> list[str]:
        return sorted(k for k, d in self.docs.items() if d["_type"] == "post")

    def write(self, site: Path) -> None:
        (site / "templates").mkdir(parents=True, exist_ok=True)
        (site / "content" / "images").mkdir(parents=True, exist_ok=True)
        (site / "ssgen.toml").write_text(TOML)
        for name, text in TEMPLATES.items():
            (site / "templates" / name).write_text(text)
        for sha, seed in zip(ASSETS, self.photos, strict=True):
            path = site / "content" / "images" / f"{sha}-64x48.png"
            data = _photo(seed)
            if not path.exists() or path.read_bytes() != data:
                path.write_bytes(data)
        lines = "".join(json.dumps(d, sort_keys=True) + "\n" for d in self.docs.values())
        (site / "content" / "data.ndjson").write_text(lines)


Edit = Callable[[Site], str]  # applies itself; says what kind of edit it was


def _on_post(kind: str, at: int, change: Callable[[dict[str, Any]], None]) -> Edit:
    def apply(site: Site) -> str:
        posts = site.posts()
        if posts:
            change(site.docs[posts[at % len(posts)]])
        return kind
    return apply


def retitle(at: int, title: str) -> Edit:
    return _on_post("retitle", at, lambda doc: doc.__setitem__("title", title))


def _set_or_drop(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change that sets ``key`` to ``value``, or removes it when ``value`` is None."""
    def change(doc: dict[str, Any]) -> None:
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return change


def redate(at: int, date: str | None) -> Edit:
    return _on_post("redate", at, _set_or_drop("publishedAt", date))


def restamp(at: int, stamp: str) -> Edit:
    return _on_post("restamp", at, lambda doc: doc.__setitem__("_updatedAt", stamp))


def reslug(at: int, slug: str) -> Edit:
    return _on_post("reslug", at, lambda doc: doc["slug"].__setitem__(
        "current", f"{slug}-{doc['_id']}"))  # one post's: no two pages want one path


def recover(at: int, asset: int | None) -> Edit:
    return _on_post("recover", at, _set_or_drop("cover", _cover(asset)))


def repaint(asset: int, seed: int) -> Edit:
    def apply(site: Site) -> str:
        site.photos[asset] = seed
        return "repaint"
    return apply


def delete(at: int) -> Edit:
    def apply(site: Site) -> str:
        posts = site.posts()
        if posts:
            del site.docs[posts[at % len(posts)]]
        return "delete"
    return apply


def insert(title: str, date: str | None, asset: int | None) -> Edit:
    def apply(site: Site) -> str:
        site.counter += 1
        ident = f"n{site.counter}"
        site.docs[ident] = site.post(ident, title, date, None if asset is None else asset + 1)
        return "insert"
    return apply


at = st.integers(0, 40)
titles = st.sampled_from(["Alpha", "Omega", "Middle", "Title 05x", "Zed"])
edits = st.one_of(
    st.builds(retitle, at, titles),
    st.builds(redate, at, st.sampled_from(DATES)),
    st.builds(restamp, at, st.sampled_from(STAMPS)),
    st.builds(reslug, at, st.sampled_from(["x", "y", "post"])),
    st.builds(recover, at, st.sampled_from([0, 1, None])),
    st.builds(repaint, st.integers(0, 1), st.integers(2, 5)),
    st.builds(delete, at),
    st.builds(insert, titles, st.sampled_from(DATES), st.sampled_from([0, 1, None])),
)


class Taken:
    """How many calls of each memo took the delta."""

    def __init__(self) -> None:
        self.sitemap = 0
        self.feed = 0
        self.listed = 0  # the sitemap's whole page set listed
        self.made = 0  # the sitemap memo made from the whole page set


def _counting(monkeypatch: pytest.MonkeyPatch, taken: Taken) -> None:
    sitemap_changed = sitemap_memo.SitemapMemo.changed
    feed_changed = generated._FeedMemo.changed
    still_kept, listed = extras.still_kept, extras.sitemap_paths
    made = sitemap_memo.SitemapMemo.files

    def count_sitemap(self: Any, *args: Any) -> Any:
        taken.sitemap += 1
        return sitemap_changed(self, *args)

    def count_kept(*args: Any) -> Any:
        found = still_kept(*args)
        taken.sitemap += found is not None
        return found

    def count_listed(plan: Any) -> Any:
        taken.listed += 1
        return listed(plan)

    def count_made(self: Any, *args: Any, **kwargs: Any) -> Any:
        taken.made += 1
        return made(self, *args, **kwargs)

    def count_feed(self: Any, *args: Any) -> Any:
        rows = feed_changed(self, *args)
        taken.feed += rows is not None
        return rows

    monkeypatch.setattr(sitemap_memo.SitemapMemo, "changed", count_sitemap)
    monkeypatch.setattr(extras, "still_kept", count_kept)
    monkeypatch.setattr(extras, "sitemap_paths", count_listed)
    monkeypatch.setattr(sitemap_memo.SitemapMemo, "files", count_made)
    monkeypatch.setattr(generated._FeedMemo, "changed", count_feed)


@contextmanager
def _memos_kept() -> Iterator[None]:
    """A clean build of another folder in this process, leaving the served site's feed
    memo as it was (the one memo shared by sites of one feed config and base URL)."""
    feeds = dict(generated._FEEDS)
    generated._FEEDS.clear()  # else the clean build takes the served site's memo over
    try:
        yield
    finally:
        generated._FEEDS.clear()
        generated._FEEDS.update(feeds)


def run(steps: list[Edit], monkeypatch: pytest.MonkeyPatch, *,
        fresh: bool = False) -> list[tuple[str, Taken]]:
    """Build, then one round per step through one kept source; each round's output must
    equal a clean full build's. Per step: its kind and the deltas taken (a round that
    planned no page, its inputs unchanged but an image file, takes none: its delta
    counts are set to -1 when they are not 0). ``fresh``: the first build is a new
    process's (it records the sitemap's key), so serve's rounds start by keeping the
    recorded sitemap files (``sitemapfile.still_kept``) until a URL or lastmod changes."""
    monkeypatch.delenv("SSGEN_IMAGE_CACHE", raising=False)
    rounds: list[tuple[str, Taken]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder, scratch = Path(tmp) / "site", Path(tmp) / "scratch"
        site = Site()
        site.write(folder)
        config = load_config(folder)
        if fresh:
            assert build(config, jobs=1).ok
            forget_process()
        source = open_source(config, kept=True)
        assert build(config, jobs=1, source=source).ok
        for step in [retitle(3, "Warm"), *steps]:
            before = snapshot(folder / "public")
            kind = step(site)
            site.write(folder)
            source.reload()
            taken = Taken()
            with monkeypatch.context() as patch:
                _counting(patch, taken)
                report = build(config, jobs=1, source=source)
            with _memos_kept():
                assert_equals_full_build(report, folder, scratch, before)
            if not report.planned and (taken.sitemap or taken.feed):
                taken.sitemap = taken.feed = -1
            rounds.append((kind, taken) if report.planned else ("no-op", taken))
    return rounds


SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@SETTINGS
@given(steps=st.lists(edits, min_size=1, max_size=6), fresh=st.booleans())
def test_rounds_with_site_file_deltas_equal_full_build(steps: list[Edit], fresh: bool) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        rounds = run([*steps, retitle(5, "Last")], monkeypatch, fresh=fresh)
    _check_taken(rounds, fresh)


def _check_taken(rounds: list[tuple[str, Taken]], fresh: bool = False) -> None:
    """Every round after the first that planned pages takes both deltas (it follows the
    last one with no other build of the site between); one that planned none, neither.
    After a new process (``fresh``) the sitemap memo is made once, by the first round
    that changes a URL or a lastmod (the recorded files no longer serve): that round
    takes no sitemap delta. (A round that planned nothing compares the page set.)"""
    made = [taken.made for kind, taken in rounds[1:] if kind != "no-op"]
    assert all((taken.sitemap, taken.feed) == ((0, 0) if kind == "no-op" else (
        (0, 1) if fresh and taken.made else (1, 1))) for kind, taken in rounds[1:]) \
        and sum(made) <= (1 if fresh else sum(made)), \
        [(kind, vars(taken)) for kind, taken in rounds]


EVERY_KIND = [retitle(2, "Alpha"), redate(4, "2027-06-01"), redate(4, None),
              restamp(6, STAMPS[2]), reslug(1, "x"), delete(0), insert("Zed", "2027-01-01", 0),
              recover(3, 1), repaint(0, 4), retitle(9, "Last")]


@pytest.mark.parametrize("fresh", [False, True])
def test_every_kind_of_edit_in_turn(monkeypatch: pytest.MonkeyPatch, fresh: bool) -> None:
    rounds = run(EVERY_KIND, monkeypatch, fresh=fresh)
    _check_taken(rounds, fresh)
    assert [kind for kind, _ in rounds].count("no-op") == 1  # the repaint


def test_rounds_after_a_new_process_keep_the_recorded_sitemap(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Retitles change no URL and no lastmod: serve's rounds keep the files a new process
    recorded, looking at their own pages only (the page set is never listed)."""
    rounds = run([retitle(2, "Alpha"), retitle(7, "Zed")], monkeypatch, fresh=True)
    assert all(taken.sitemap == 1 and taken.listed == 0 for _, taken in rounds[1:]), \
        [vars(taken) for _, taken in rounds]


def test_mutant_kept_sitemap_ignoring_new_lastmods_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = sitemapfile.still_kept

    def stamps_unread(memo: Any, manifest: Any, output: Any, owned: Any, racy: Any,
                      named: Any, listed: Any, lastmods: Any) -> Any:
        last = sitemapfile._KEPT.get(id(memo))
        stamps = last[2] if last is not None else lastmods
        return real(memo, manifest, output, owned, racy, named, listed, stamps)

    monkeypatch.setattr(extras, "still_kept", stamps_unread)
    with pytest.raises(AssertionError):
        run([restamp(2, STAMPS[1])], monkeypatch, fresh=True)


def test_mutant_kept_sitemap_not_looking_at_the_planned_pages_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = sitemapfile.still_kept

    def none_named(memo: Any, manifest: Any, output: Any, owned: Any, racy: Any,
                   named: Any, listed: Any, lastmods: Any) -> Any:
        return real(memo, manifest, output, owned, racy, (), listed, lastmods)

    monkeypatch.setattr(extras, "still_kept", none_named)
    with pytest.raises(AssertionError):
        run([delete(2)], monkeypatch, fresh=True)


def _mutant_fails(monkeypatch: pytest.MonkeyPatch, steps: list[Edit]) -> None:
    with pytest.raises(AssertionError):
        run(steps, monkeypatch)


def test_mutant_sitemap_keeping_pages_that_left_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = sitemap_memo.SitemapMemo.changed
    monkeypatch.setattr(sitemap_memo.SitemapMemo, "changed",
                        lambda self, entered, left, restamped, lastmods:
                        real(self, entered, [], restamped, lastmods))
    _mutant_fails(monkeypatch, [delete(2)])


def test_mutant_sitemap_ignoring_new_lastmods_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = sitemap_memo.SitemapMemo.changed
    monkeypatch.setattr(sitemap_memo.SitemapMemo, "changed",
                        lambda self, entered, left, restamped, lastmods:
                        real(self, entered, left, [], lastmods))
    _mutant_fails(monkeypatch, [restamp(2, STAMPS[1])])


def test_mutant_feed_keeping_replaced_entries_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def keeping(self: Any, feed: Any, site: Any, delta: generated.FeedDelta) -> Any:
        rows = [generated._feed_entry(feed, site, spec) for spec in delta.fresh]
        return self._apply(feed, set(), delta.fresh, rows)  # nothing dropped, no count

    monkeypatch.setattr(generated._FeedMemo, "changed", keeping)
    _mutant_fails(monkeypatch, [redate(5, "2027-01-01")])


def test_mutant_count_check_alone_lets_nothing_stale_through(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the dropped paths the count check refuses the delta: still correct."""
    real = extras_delta.feed_delta

    def no_dropped(*args: Any) -> generated.FeedDelta:
        delta = real(*args)
        return generated.FeedDelta(delta.fresh, delta.kept, frozenset(), delta.since,
                                   delta.then)

    monkeypatch.setattr("ssgen.build.extras.feed_delta", no_dropped)
    rounds = run([redate(5, "2027-01-01"), reslug(2, "y")], monkeypatch)
    assert all(taken.feed == 0 for _, taken in rounds[1:])


def _other_process_deletes(folder: Path, site: Site) -> None:
    """Another process builds the site after a post is deleted (its pages recorded)."""
    delete(0)(site)
    site.write(folder)
    done = subprocess.run([sys.executable, "-m", "ssgen", "build"], cwd=folder,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@contextmanager
def _served_two_rounds() -> Iterator[tuple[Path, Path, Site, Any, Any]]:
    """A site built, then served two retitles through one kept source: its folder, a
    scratch folder for the clean build, the site, its config and the kept source."""
    with tempfile.TemporaryDirectory() as tmp:
        folder, scratch = Path(tmp) / "site", Path(tmp) / "scratch"
        site = Site()
        site.write(folder)
        config = load_config(folder)
        source = open_source(config, kept=True)
        assert build(config, jobs=1, source=source).ok
        for step in (retitle(1, "One"), retitle(2, "Two")):
            step(site)
            site.write(folder)
            source.reload()
            assert build(config, jobs=1, source=source).ok
        yield folder, scratch, site, config, source


@pytest.mark.parametrize("vouched", [True, False])
def test_a_build_by_another_process_between_rounds(monkeypatch: pytest.MonkeyPatch,
                                                   vouched: bool) -> None:
    """The pages generation vouches for the memos: another process that removed a page
    between two rounds leaves a generation the memos were not marked with (mutant: the
    sitemap's delta taken whatever the generation, caught)."""
    monkeypatch.delenv("SSGEN_IMAGE_CACHE", raising=False)
    if not vouched:
        real = extras_delta.sitemap_change

        def unvouched(memo: Any, config: Any, manifest: Any, plan: Any, lastmods: Any,
                      since: Any) -> Any:
            for where, seen in extras_delta._SEEN.items():
                extras_delta._SEEN[where] = (since, *seen[1:])
            return real(memo, config, manifest, plan, lastmods, since)

        monkeypatch.setattr("ssgen.build.extras.sitemap_change", unvouched)
    with _served_two_rounds() as (folder, scratch, site, config, source):
        _other_process_deletes(folder, site)
        retitle(3, "Three")(site)
        site.write(folder)
        source.reload()
        before = snapshot(folder / "public")
        report = build(config, jobs=1, source=source)
        with _memos_kept():
            if vouched:
                assert_equals_full_build(report, folder, scratch, before)
            else:
                with pytest.raises(AssertionError):
                    assert_equals_full_build(report, folder, scratch, before)


@pytest.mark.parametrize("checked", [True, False])
def test_a_generated_file_deleted_between_rounds_is_written_again(
        monkeypatch: pytest.MonkeyPatch, checked: bool) -> None:
    """The skip of unchanged generated files looks at the file on disk, not only at the
    bytes this process recorded (mutant: no stat, caught)."""
    monkeypatch.delenv("SSGEN_IMAGE_CACHE", raising=False)
    if not checked:
        def trusting(output: Any, owned: Any, files: Any, racy: int) -> set[str]:
            written = extras_delta._WRITTEN.get(str(output.root), {})
            return {rel for rel, data in files.items()
                    if rel in written and written[rel][0] is data and rel in owned}

        monkeypatch.setattr("ssgen.build.extras.unchanged_files", trusting)
    with _served_two_rounds() as (folder, scratch, site, config, source):
        (folder / "public" / "sitemap-1.xml").unlink()
        retitle(3, "Three")(site)
        site.write(folder)
        source.reload()
        report = build(config, jobs=1, source=source)
        after = snapshot(folder / "public")
        with _memos_kept():
            full = full_build_of(folder, scratch)
        assert report.ok
        assert (after == full) is checked


def test_mutant_image_stage_skipped_without_the_disk_stamp_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An asset file repainted in place keeps its tags and records: only its stat tells
    the image stage to run (mutant: the stamp without the stats, caught)."""
    monkeypatch.setattr(images, "_disk", lambda config, used: ())
    _mutant_fails(monkeypatch, [repaint(0, 4)])


def test_the_image_stage_is_skipped_when_nothing_it_reads_changed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real = images._sync

    def counting(config: Any, *args: Any) -> None:
        if config.output_dir.parent.name == "site":  # the served site, not a clean build
            synced.append("sync")
        real(config, *args)

    monkeypatch.setattr(images, "_sync", counting)
    run([retitle(1, "Plain"), repaint(1, 3), retitle(2, "Plainer")], monkeypatch)
    # The first build and the repaint sync; the three retitles skip the stage.
    assert len(synced) == 2, synced
