"""A page's record names every document its queries read, even where its data does not
show them: serve rounds through one kept source, and builds from the files with no memo
(as a new process), give a clean full build's output.

Pages whose tags change while their data does not:
- a list route whose items drop ``_id``: the ids its query read that no item holds
  (*unattributed*) go to every page up to ``UNATTRIBUTED_LIMIT`` of them and to the
  first page only past it (the first page changes with a deleted or re-sorted first
  item); also per item of a route paginated by its items (``paginate_by``);
- pages whose queries read documents only in a filter or an ``order()`` (an author's
  ``active`` flag; a sort by the author's name, sliced): a new post by an inactive author
  changes no page's data, yet the author's activation must reach the page.

The site of tests/test_nested_delta_property.py (30 posts, three authors, three
categories) and a fourth author, inactive, of no post at the start.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sitekit import (
    CARDS_HEAD,
    changed_ids,
    command_round,
    forget_process,
    killed_run,
    stray_files,
    webhook_change,
)
from test_crash_property import round_crashes
from test_incremental import assert_equals_full_build, snapshot, words
from test_nested_delta_property import (
    SETTINGS,
    Edit,
    Site,
    delete,
    edits,
    posts_at,
    rename,
    retarget,
    retitle,
)

from ssgen.build import slices
from ssgen.build.memo import datahash
from ssgen.build.pipeline import build
from ssgen.config.load import Config, load_config
from ssgen.memos import forget_sites
from ssgen.routes.spec import expand as expand_module
from ssgen.sources import Source, open_source

TOML = CARDS_HEAD + """
[[routes]]
name = "card"
path = "/cards/{slug}/"
template = "card.html"
query = '''*[_type == "post" && defined(slug.current)] | order(publishedAt desc){title,
  "slug": slug.current, "author": author->{name}}'''

[[routes]]
name = "by"
path = "/by/{slug}/"
template = "by.html"
query = '''*[_type == "author"] | order(name asc){"slug": slug.current, name,
  "posts": *[_type == "post" && references(^._id)] | order(title asc){title,
    "category": categories[0]->{title}}}'''
paginate = 2
paginate_by = "posts"

[[routes]]
name = "home"
path = "/"
template = "home.html"
query = '''*[_type == "post" && author->active == true] | order(title asc)[0...4]{title}'''

[[routes]]
name = "sorted"
path = "/sorted/"
template = "sorted.html"
query = '''*[_type == "post"] | order(author->name asc, title asc)[0...6]{title}'''
paginate = 3
"""


class Cards(Site):
    """The nested property's documents and an inactive fourth author, with this
    site's routes."""

    def __init__(self) -> None:
        super().__init__()
        for doc in self.docs.values():
            if doc["_type"] == "author":
                doc["active"] = True
        self.docs["a4"] = {"_id": "a4", "_type": "author", "name": "Zoe", "active": False,
                           "slug": {"_type": "slug", "current": "author-4"}}

    def write(self, site: Path) -> None:
        super().write(site)
        (site / "ssgen.toml").write_text(TOML)
        texts = {
            "card.html": "{{ page.title }}|{{ page.author.name if page.author else '' }}",
            "by.html": "{{ page.name }}:{% for p in page.posts %}{{ p.title }}"
                       "({{ p.category.title if p.category else '' }});{% endfor %}",
            "home.html": "{% for p in page %}{{ p.title }};{% endfor %}",
            "sorted.html": "{% for p in page %}{{ p.title }};{% endfor %}"
                           "{{ paginator.number }}",
        }
        for name, text in texts.items():
            (site / "templates" / name).write_text(text)


def toggle(author: str) -> Edit:
    def apply(site: Site) -> str:
        site.docs[author]["active"] = not site.docs[author]["active"]
        return "toggle"
    return apply


def rename_author(author: str, name: str) -> Edit:
    def apply(site: Site) -> str:
        site.docs[author]["name"] = name
        return "rename"
    return apply


EVERY_AUTHOR = ["a1", "a2", "a3", "a4"]
more_edits = st.one_of(
    edits,
    st.builds(retarget, posts_at, st.sampled_from(EVERY_AUTHOR)),
    st.builds(toggle, st.sampled_from(EVERY_AUTHOR)),
    st.builds(rename_author, st.sampled_from(EVERY_AUTHOR), words),
)


@dataclass(frozen=True)
class Killed:
    """``edit``, whose round first runs in a child killed ``how`` (``killed_run``: the
    crash property's kinds, ``round_crashes``); then the round again, as serve restarted
    (a new process: a new kept source, no memo) finishes its queued change, or as the
    user's next command runs."""

    edit: Edit
    how: tuple[str, str]

    def __call__(self, site: Site) -> str:
        return self.edit(site)


def killing(edits: st.SearchStrategy[Edit]) -> st.SearchStrategy[Edit]:
    """``edits``, one round in four killed."""
    return st.one_of(edits, edits, edits, st.builds(Killed, edits, round_crashes))


def run(steps: list[Edit], *, kept: bool = True, site: Cards | None = None,
        command: str | None = None, check: Callable[[Path], None] | None = None) -> None:
    """Build ``site`` (``Cards()``), then one round per step, each compared with a clean
    full build; ``kept``: through one kept source, as serve runs; else a new source and
    no memo per round, or (``command``: ``build`` or ``revalidate``) that command line
    run as a new process runs it (``revalidate --doc`` with the documents the step
    changed); ``command="webhook"`` with ``kept``: serve's round of a webhook naming
    those documents. A ``Killed`` step's round is killed, serve restarted (a new kept
    source, no memo), and the next step's round (the last step's: the same round again)
    must give what a full build does. ``check(folder)`` after every build that was not
    killed, the first too."""
    site = site if site is not None else Cards()
    with tempfile.TemporaryDirectory() as tmp:
        folder, scratch = Path(tmp) / "site", Path(tmp) / "scratch"
        site.write(folder)
        config = load_config(folder)
        source = open_source(config, kept=True) if kept else None
        assert build(config, jobs=1, source=source).ok
        if check is not None:
            check(folder)
        queued: dict[str, dict[str, Any]] | None = None  # before a killed round
        for index, step in enumerate(steps):
            before, docs = snapshot(folder / "public"), copy.deepcopy(site.docs)
            step(site)
            site.write(folder)
            if isinstance(step, Killed):
                killed_run(partial(_round_code, folder, config, source, command, docs, site),
                           step.how)
                forget_sites()
                forget_process()
                source = open_source(config, kept=True) if kept else None  # restarted
                queued = docs if queued is None else queued
                if index + 1 < len(steps):  # the next edit comes before the next round
                    continue
            # Serve's durable queue still holds a killed round's change; a command line
            # names the last edit's documents only.
            named = docs if queued is None or command == "revalidate" else queued
            report = _round(folder, config, source, command, named, site)
            assert stray_files(folder) == []
            # The files a killed round wrote and never recorded go unreported.
            assert_equals_full_build(report, folder, scratch,
                                     before if queued is None else None, as_clean=True)
            queued = None
            if check is not None:
                check(folder)
    slices.forget()


def _round_code(*args: Any) -> int:
    """``_round``'s exit code (run by a child that is killed)."""
    return 0 if _round(*args).ok else 2


def _round(folder: Path, config: Config, source: Source | None, command: str | None,
           docs: dict[str, dict[str, Any]], site: Site) -> Any:
    """One round after ``site`` changed from ``docs`` (see ``run``): its report."""
    if command in ("build", "revalidate"):
        return command_round(folder, command, changed_ids(docs, site.docs))
    if source is not None:
        source.reload()
    else:
        forget_sites()
    change = webhook_change(docs, site.docs) if command == "webhook" else None
    return build(config, jobs=1, source=source, change=change)


@SETTINGS
@given(limit=st.sampled_from([0, 30, 31, 32, 33, 256]), kept=st.booleans(),
       steps=st.lists(more_edits, min_size=1, max_size=6))
@example(limit=32, kept=True,
         steps=[delete(0), rename("a1", "Ann"), delete(1), rename("a2", "Bo")])
# A post given to the inactive author and a title that would lead home, not shown;
# the author activated: the post leads home.
@example(limit=32, kept=True, steps=[retarget(5, "a4"), retitle(5, "A"), toggle("a4")])
@example(limit=32, kept=False, steps=[retarget(5, "a4"), retitle(5, "A"), toggle("a4")])
# An author renamed to the front of the order: their post leads the sorted list.
@example(limit=32, kept=True, steps=[retarget(5, "a4"), rename_author("a4", "Aaron")])
def test_rounds_equal_full_build_when_tags_change_without_data(
        limit: int, kept: bool, steps: list[Edit]) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(expand_module, "UNATTRIBUTED_LIMIT", limit)
        run([*steps, rename("a3", "Last"), retitle(5, "Last")], kept=kept)


def test_mutant_the_first_page_without_the_unattributed_ids_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the limit no page carries the authors' ids: a renamed author's cards stay
    stale, which the comparison with a clean full build must see."""
    real = expand_module._finish

    def first_page_like_the_rest(*args: object, **kwargs: object) -> object:
        _, shared, neighbours = args[4]  # type: ignore[misc]
        return real(*args[:4], (shared, shared, neighbours), *args[5:], **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(expand_module, "_finish", first_page_like_the_rest)
    with pytest.raises(AssertionError):
        run([rename("a1", "Renamed")])


@pytest.mark.parametrize(("kept", "steps"), [
    # The newest post deleted: the next one is the first card page, its data unchanged,
    # its tags now the authors' (the bug round 22 found past the limit).
    (True, [delete(23), rename("a3", "Last")]),
    # Author 0 renamed to the end: Author 1's first page now carries the ids.
    (True, [rename("a1", "Zed"), rename("c2", "Renamed")]),
    # A post of the inactive author's changes no page; its activation must reach home.
    (True, [retarget(5, "a4"), retitle(5, "A"), toggle("a4")]),
    (False, [retarget(5, "a4"), retitle(5, "A"), toggle("a4")]),
])
def test_mutant_tags_left_out_of_the_recorded_hash_is_caught(
        monkeypatch: pytest.MonkeyPatch, kept: bool, steps: list[Edit]) -> None:
    monkeypatch.setattr(datahash, "tagged", lambda digest, tags, key=None: digest)
    with pytest.raises(AssertionError):
        run(steps, kept=kept)
