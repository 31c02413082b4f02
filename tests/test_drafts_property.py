"""Drafts created, edited, published and discarded in random order: the published site
and the preview each equal a clean build of their perspective, and no draft leaks.

The tags property's site (every page shows its whole data, ``tojson``; two pages
``[data]`` globals of the active authors and the first titles) gets generated
sequences of draft edits (a draft of a post made or edited, a post's slug changed in its
draft, a post's draft retyped out of every route and back, a new post that exists only
as a draft, an author renamed or made active in a draft, a draft published or
discarded) mixed with edits of published documents. After each round (a kept source as
serve runs it, with or without a webhook naming the documents, a new process, ``ssgen
build`` or ``ssgen revalidate --doc``):

- a site in the ``published`` perspective equals a clean full build of the published
  documents alone (the drafts taken out of the files by the test: a draft never
  leaks), and a site in the ``drafts`` perspective one of the documents as the test
  overlays them (each draft under its published ``_id``, with ``_originalId``);
- serve's preview (``DraftPages``, kept for the whole sequence as serve keeps it)
  renders every page of that drafts build as the build wrote it, and no other page.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sitekit import HOSTILE_SLUGS, HOSTILE_TEXTS
from test_globals_property import MODES
from test_incremental import full_build_of, snapshot, words
from test_nested_delta_property import SETTINGS, Edit, Site, posts_at
from test_tags_property import TOML, Cards, Killed, killing, more_edits
from test_tags_property import run as run_site

from ssgen.config.load import load_config
from ssgen.serve.preview import DraftPages
from ssgen.sources.local import view as view_module

DRAFT = "drafts."
titles = st.one_of(words, st.sampled_from(HOSTILE_TEXTS))
ROUTES = ["card.html", "by.html", "home.html", "sorted.html"]
# Globals that drafts move: the active authors (a draft toggles one) and the first titles.
DATA = """
[data]
active = '''*[_type == "author" && active == true] | order(name asc, _id asc){name}'''
first = '''*[_type == "post"] | order(title asc, _id asc)[0...3]{title, "a": author->name}'''
"""


def overlay(docs: dict[str, dict[str, Any]], perspective: str) -> list[dict[str, Any]]:
    """The documents a query sees in ``perspective``, worked out by the test: published
    ones only, or each draft in its published document's place (a draft alone where it
    stands) under the published ``_id``, the draft's in ``_originalId``."""
    if perspective == "published":
        return [d for d in docs.values() if not d["_id"].startswith(DRAFT)]
    seen: list[dict[str, Any]] = []
    for ident, doc in docs.items():
        base = ident.removeprefix(DRAFT)
        if ident.startswith(DRAFT) and base in docs:
            continue
        chosen = docs.get(DRAFT + base, doc)
        seen.append({**chosen, "_id": base, "_originalId": chosen["_id"]}
                    if chosen["_id"].startswith(DRAFT) else chosen)
    return seen


class Drafted(Cards):
    """The tags property's site, every page its data as JSON, in ``perspective``."""

    def __init__(self, perspective: str = "published") -> None:
        super().__init__()
        self.perspective = perspective

    def write(self, site: Path) -> None:
        super().write(site)
        toml = TOML.replace('type = "local"\n',
                            f'type = "local"\nperspective = "{self.perspective}"\n')
        (site / "ssgen.toml").write_text(toml + DATA)
        for name in ROUTES:
            (site / "templates" / name).write_text(
                "{{ page | tojson }}|{{ paginator.number if paginator is defined else '' }}"
                + ("{{ data.active | tojson }}" if name == "home.html" else "")
                + ("{{ data.first | tojson }}" if name == "card.html" else ""))

    def seen(self, perspective: str) -> Drafted:
        """A published-perspective copy holding what ``perspective`` sees of this site."""
        copied = Drafted()
        copied.docs = {d["_id"]: d for d in overlay(self.docs, perspective)}
        return copied


# --- edits ---------------------------------------------------------------------------


def _published(site: Site, type_: str = "post") -> list[str]:
    return sorted(i for i, d in site.docs.items()
                  if d["_type"] == type_ and not i.startswith(DRAFT))


def _drafts(site: Site) -> list[str]:
    return sorted(i for i in site.docs if i.startswith(DRAFT))


def _draft_of(site: Site, ident: str) -> dict[str, Any]:
    """The draft of ``ident``, made from the published document when there is none."""
    key = DRAFT + ident
    if key not in site.docs:
        site.docs[key] = {**copy.deepcopy(site.docs[ident]), "_id": key}
    return site.docs[key]


def draft(at: int, title: str) -> Edit:
    def apply(site: Site) -> str:
        posts = _published(site)
        if posts:
            _draft_of(site, posts[at % len(posts)])["title"] = f"DRAFT {title}"
        return "draft"
    return apply


def draft_slug(at: int, slug: str) -> Edit:
    def apply(site: Site) -> str:
        posts = _published(site)
        if posts:
            ident = posts[at % len(posts)]
            _draft_of(site, ident)["slug"] = {"_type": "slug", "current": f"{slug}-{ident}"}
        return "draft_slug"
    return apply


def draft_author(at: int, name: str) -> Edit:
    def apply(site: Site) -> str:
        authors = _published(site, "author")
        doc = _draft_of(site, authors[at % len(authors)])
        doc["name"], doc["active"] = f"DRAFT {name}", not doc.get("active")
        return "draft_author"
    return apply


def draft_retype(at: int) -> Edit:
    """A post's draft made an ``article`` (a type no route reads), or a post again."""
    def apply(site: Site) -> str:
        posts = _published(site)
        if posts:
            doc = _draft_of(site, posts[at % len(posts)])
            doc["_type"] = "article" if doc["_type"] == "post" else "post"
        return "draft_retype"
    return apply


def new_draft(author: str, title: str) -> Edit:
    def apply(site: Site) -> str:
        site.counter += 1
        ident = f"d{site.counter}"
        site.docs[DRAFT + ident] = {
            "_id": DRAFT + ident, "_type": "post", "title": f"DRAFT {title}",
            "publishedAt": f"2024-0{1 + site.counter % 9}-15",
            "slug": {"_type": "slug", "current": f"draft-{ident}"},
            "author": {"_type": "reference", "_ref": author}, "categories": []}
        return "new_draft"
    return apply


def publish(at: int) -> Edit:
    """A draft replaces its published document (in place) or becomes one."""
    def apply(site: Site) -> str:
        drafts = _drafts(site)
        if drafts:
            key = drafts[at % len(drafts)]
            doc = site.docs.pop(key)
            site.docs[key.removeprefix(DRAFT)] = {**doc, "_id": key.removeprefix(DRAFT)}
        return "publish"
    return apply


def discard(at: int) -> Edit:
    def apply(site: Site) -> str:
        drafts = _drafts(site)
        if drafts:
            del site.docs[drafts[at % len(drafts)]]
        return "discard"
    return apply


draft_edits = st.one_of(
    st.builds(draft, posts_at, titles),
    st.builds(draft_slug, posts_at, st.sampled_from(HOSTILE_SLUGS)),
    st.builds(draft_author, posts_at, words),
    st.builds(draft_retype, posts_at),
    st.builds(new_draft, st.sampled_from(["a1", "a2", "a4"]), titles),
    st.builds(publish, posts_at),
    st.builds(discard, posts_at),
)
mixed_edits = st.one_of(draft_edits, draft_edits, more_edits)


# --- the checks ----------------------------------------------------------------------


def checker(site: Drafted, root: Path) -> Any:
    """After each round: the output against a clean build of what the site's perspective
    sees, and the preview's pages against a clean build of the drafts."""
    preview: list[DraftPages] = []

    def clean(perspective: str) -> dict[str, bytes]:
        folder = root / f"seen-{perspective}"
        site.seen(perspective).write(folder)
        return full_build_of(folder, root / "scratch-seen")

    def check(folder: Path) -> None:
        published, drafts = clean("published"), clean("drafts")
        output = snapshot(folder / "public")
        assert output == (drafts if site.perspective == "drafts" else published)
        if not preview:
            preview.append(DraftPages(load_config(folder)))
        assert_preview(preview[0], drafts, published)
    return check


def assert_preview(preview: DraftPages, drafts: dict[str, bytes],
                   others: Iterable[str]) -> None:
    """``preview`` renders every page of ``drafts`` (a clean drafts build's files) as that
    build wrote it, and no page of ``others`` that it lacks."""
    for name in sorted(drafts.keys() | set(others)):
        if name.endswith("index.html"):
            html = preview.render("/" + quote(name.removesuffix("index.html")))
            assert (None if html is None else html.encode()) == drafts.get(name), name


def run(steps: list[Edit], perspective: str, mode: str) -> None:
    site = Drafted(perspective)
    with tempfile.TemporaryDirectory() as tmp:
        command = None if mode in ("kept", "new") else mode
        run_site(steps, kept=mode in ("kept", "webhook"), site=site, command=command,
                 check=checker(site, Path(tmp)))


@SETTINGS
@given(perspective=st.sampled_from(["published", "drafts"]), mode=st.sampled_from(MODES),
       steps=st.lists(killing(mixed_edits), min_size=1, max_size=6))
# A draft made in a round killed after its record, then published; a draft retyped in a
# round killed mid-write, the last.
@example(perspective="drafts", mode="kept",
         steps=[Killed(draft(3, "one"), ("fault", "at:after-record")), publish(0),
                Killed(draft_retype(0), ("fault", "mid-write:1"))])
def test_drafts_in_random_order_equal_clean_builds(perspective: str, mode: str,
                                                    steps: list[Edit]) -> None:
    run(steps, perspective, mode)


# A post's draft retitled, an author's draft renamed and activated, then published; a
# draft-only post made, and a post's draft moved to another slug, then discarded.
SEQUENCE: list[Edit] = [draft(3, "one"), draft_author(3, "zed"), publish(0), draft(5, "two"),
                        new_draft("a4", "new"), draft_slug(7, "x"), discard(1)]


@pytest.mark.parametrize("mode", MODES)
def test_mutant_drafts_in_the_published_site_is_caught(
        monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    monkeypatch.setattr(view_module, "_HIDDEN", ("versions.",))
    with pytest.raises(AssertionError):
        run(SEQUENCE, "published", mode)


def test_mutant_a_draft_edit_not_seen_by_a_kept_drafts_view_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A kept source's view that files a draft's change under the draft's own ``_id``:
    its published document's overlay stays as it was."""
    real = view_module.View._visible_id

    def draft_unmapped(self: view_module.View, raw_id: str) -> str | None:
        return raw_id if raw_id.startswith(DRAFT) else real(self, raw_id)
    monkeypatch.setattr(view_module.View, "_visible_id", draft_unmapped)
    with pytest.raises(AssertionError):
        run(SEQUENCE, "drafts", "kept")


def test_mutant_a_preview_that_does_not_see_new_drafts_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DraftPages, "_stamp", lambda self: (0, 0))
    with pytest.raises(AssertionError):
        run(SEQUENCE, "published", "kept")
