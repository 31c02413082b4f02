"""The feed's memo carried by the source snapshot (``ssgen.build.memo.carry``) to a new
process never makes the feed differ from a clean full build's.

A small NDJSON blog with a post route and an Atom feed of it (limit 3). Generated
sequences of edits (retitles, new dates, dates removed and given back, posts created
and deleted) each run in a new process: no renderer, route memos or feed memo survive
in memory, so the feed rows that carry over come from ``.ssgen/source.snapshot``. The
snapshot is re-saved every process or only when the diff is large (``RESAVE``), so later
steps resume stale memos whose specs the edits replaced. After each process the output
(feed included) must equal a full build's. A new process after a one-post edit makes
one feed row, not one per post; a mutant that adopts the rows by path (so a retitled
post keeps its old row) is caught.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitekit import SITE_TOML, forget_process, mutant, new_process, output_files

from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.render import generated
from ssgen.sources import snapshot as snap

TOML = SITE_TOML + """
[[routes]]
name = "post"
path = "/blog/{slug}/"
template = "post.html"
query = '*[_type == "post"] | order(publishedAt desc){title, "slug": slug.current, publishedAt, excerpt}'

[feed]
route = "post"
path = "/feed.xml"
limit = 3
"""

TEMPLATES = {"post.html": "<h1>{{ page.title }}</h1><p>{{ page.excerpt }}</p>"}
DATES = [None, "2024-01-01", "2024-01-02T10:00:00Z", "2023-12-31", "2024-02-01"]

Docs = dict[str, dict[str, Any]]
Edit = Callable[[Docs], None]


def post(i: int, title: str, date: str | None) -> dict[str, Any]:
    doc: dict[str, Any] = {"_id": f"p{i}", "_type": "post", "title": title,
                           "slug": {"current": f"p{i}"}, "excerpt": f"about {title}"}
    if date is not None:
        doc["publishedAt"] = date
    return doc


def write(root: Path, docs: Docs) -> None:
    (root / "templates").mkdir(parents=True, exist_ok=True)
    (root / "content").mkdir(parents=True, exist_ok=True)
    (root / "ssgen.toml").write_text(TOML)
    for name, text in TEMPLATES.items():
        (root / "templates" / name).write_text(text)
    (root / "content" / "data.ndjson").write_text(
        "".join(json.dumps(doc) + "\n" for doc in docs.values()))


def _nth(docs: Docs, i: int) -> dict[str, Any] | None:
    ids = sorted(docs)
    return docs[ids[i % len(ids)]] if ids else None


def retitle(i: int, title: str) -> Edit:
    def apply(docs: Docs) -> None:
        if (doc := _nth(docs, i)) is not None:
            doc["title"] = doc["excerpt"] = title
    return apply


def redate(i: int, date: str | None) -> Edit:
    def apply(docs: Docs) -> None:
        if (doc := _nth(docs, i)) is not None:
            doc.pop("publishedAt", None)
            if date is not None:
                doc["publishedAt"] = date
    return apply


def create(n: int, title: str, date: str | None) -> Edit:
    def apply(docs: Docs) -> None:
        docs[f"p{100 + n}"] = post(100 + n, title, date)
    return apply


def delete(i: int) -> Edit:
    def apply(docs: Docs) -> None:
        if (doc := _nth(docs, i)) is not None:
            del docs[doc["_id"]]
    return apply


words = st.sampled_from(["a", "b", "c d", "new"])
pick = st.integers(0, 9)
edits = st.one_of(st.builds(retitle, pick, words), st.builds(redate, pick, st.sampled_from(DATES)),
                  st.builds(create, st.integers(0, 3), words, st.sampled_from(DATES)),
                  st.builds(delete, pick))


def start_docs() -> Docs:
    return {f"p{i}": post(i, f"T{i}", DATES[1 + i % 4] if i != 2 else None) for i in range(6)}


def full_build(docs: Docs, scratch: Path) -> dict[str, bytes]:
    shutil.rmtree(scratch, ignore_errors=True)
    write(scratch, docs)
    forget_process()
    assert build(load_config(scratch), full=True, jobs=1).ok
    return output_files(scratch)


def run(steps: list[Edit], resave: int = snap.RESAVE) -> None:
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        patch.setattr(snap, "RESAVE", resave)
        root, scratch = Path(tmp) / "site", Path(tmp) / "scratch"
        docs = start_docs()
        write(root, docs)
        new_process(root)  # full: no manifest yet
        for step in [retitle(0, "setup"), *steps]:
            step(docs)
            write(root, docs)
            new_process(root)
            built, full = output_files(root), full_build(docs, scratch)
            stale = sorted(f for f in built.keys() | full.keys() if built.get(f) != full.get(f))
            assert not stale, f"differs from a full build: {stale}"


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(edits, min_size=1, max_size=6), resave=st.sampled_from([0, 64]))
def test_new_processes_with_the_carried_feed_equal_a_full_build(steps: list[Edit],
                                                                resave: int) -> None:
    run(steps, resave)


def test_a_one_post_edit_makes_one_feed_row(tmp_path: Path) -> None:
    docs = start_docs()
    write(tmp_path, docs)
    new_process(tmp_path)  # full: leaves the snapshot, with the feed's memo
    assert (tmp_path / ".ssgen" / snap.FILE).exists()
    made: list[str] = []
    real = generated._feed_entry

    def counting(feed: Any, site: Any, spec: Any) -> Any:
        made.append(spec.path)
        return real(feed, site, spec)

    retitle(3, "edited")(docs)
    write(tmp_path, docs)
    with mutant(generated, "_feed_entry", counting):
        new_process(tmp_path)
    assert made == ["/blog/p3/"]
    assert b"edited" in (tmp_path / "public" / "feed.xml").read_bytes()


def test_mutant_adopting_rows_by_path_is_caught() -> None:
    """Rows matched to this process's specs by path, not by the spec objects the
    snapshot's route memo hands back: a retitled post would keep its old row."""
    real = generated.adopt_feed

    def by_path(feed: Any, base_url: str, state: object) -> None:
        real(feed, base_url, state)
        memo = generated._FEEDS.get((feed, base_url))
        if memo is None:
            return
        kept = {spec.path: spec for spec, _ in memo.specs.values()}
        update = memo.update

        def stale(feed: Any, site: Any, entries: list[Any]) -> Any:
            return update(feed, site, [kept.get(spec.path, spec) for spec in entries])

        memo.update = stale  # type: ignore[method-assign]

    with mutant(generated, "adopt_feed", by_path), pytest.raises(AssertionError):
        run([retitle(1, "renamed")], resave=64)
