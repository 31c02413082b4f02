"""A post edit re-queries only the author and category pages it reaches (issue 14).

The default site's author and category pages list their posts through
``*[_type == "post" && ... && references(^._id)]``. Such a scan, keyed by
``references()`` (``ssgen.groq.refkeyed``), no longer gives the pages the tag of its
whole type: each page gets ``ref:<id>`` for the ids its lookups took, and an edit
reaches the pages of the ids the document referenced before or after it
(``ssgen.build.scope``). Here: which scans count as keyed, which param sets a new
process re-queries after one post's edit on the default site (and that its output
equals a full build's), and that the pages carry the narrow tags.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sitekit import copy_history, forget_process, mutant, output_files

from ssgen.build.inspect import inspect_page
from ssgen.build.pipeline import build, reach
from ssgen.config.load import load_config
from ssgen.groq import parse
from ssgen.groq.refkeyed import ref_keyed_types
from ssgen.sources.local import LocalSource

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("query", "types"), [
    ('*[_type == "post" && defined(slug.current) && references(^._id)]', {"post"}),
    ('*[references($id)]', None),
    ('*[_type in ["a", "b"] && references(^.^._id, "x")]', {"a", "b"}),
    # The planner would look these up by the field instead, or scan: not keyed.
    ('*[_type == "post" && slug.current == ^.slug && references(^._id)]', set()),
    ('*[_type == "post" && _id in ^.ids && references(^._id)]', set()),
    ('(*)[_type == "post" && references(^._id)]', set()),
    ('*[_type == "post" && references(_id)]', set()),
    ('*[_type == "post" && references(^._id || @._id)]', set()),
    ('*[_type == "post" || references(^._id)]', set()),
    # Only the filter applied to ``*`` itself is planned: a later one narrows it.
    ('*[references(^._id)][_type == "post"]', None),
])
def test_which_scans_are_keyed_by_references(query: str, types: set[str] | None) -> None:
    found = ref_keyed_types(parse(query))
    assert found == (None if types is None else frozenset(types))


def _copy_default_site(site: Path) -> None:
    site.mkdir()
    for name in ("ssgen.toml", "content", "templates", "static"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, site / name)
        else:
            shutil.copy(src, site / name)


def _docs(site: Path) -> list[dict[str, Any]]:
    lines = (site / "content" / "dataset.ndjson").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _write(site: Path, docs: list[dict[str, Any]]) -> None:
    """The documents one a line, each line as the last write gave it when unchanged."""
    (site / "content" / "dataset.ndjson").write_text("".join(
        json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n" for doc in docs))


@pytest.fixture
def default_site(tmp_path: Path) -> Iterator[Path]:
    site = tmp_path / "site"
    _copy_default_site(site)
    _write(site, _docs(site))
    forget_process()
    assert build(load_config(site), jobs=1).ok
    yield site
    forget_process()


def _spied_build(site: Path) -> dict[str, set[str]]:
    """A new process's incremental build; the ``$slug`` of each author and category page
    query it ran, by route."""
    config = load_config(site)
    texts = {route.query: route.name for route in config.routes
             if route.name in ("author", "category")}
    ran: dict[str, set[str]] = {"author": set(), "category": set()}
    real = LocalSource.query

    def query(self: LocalSource, q: Any, params: Any = None, **kw: Any) -> Any:
        if q.text in texts and params:
            ran[texts[q.text]].add(params["slug"])
        return real(self, q, params, **kw)

    forget_process()
    with mutant(LocalSource, "query", query):
        assert build(config, jobs=1).ok
    return ran


def _full(site: Path, scratch: Path) -> dict[str, bytes]:
    """A clean full build of the site's files, with its path history (redirects)."""
    _copy_default_site(scratch)
    _write(scratch, _docs(site))
    (scratch / ".ssgen").mkdir()
    copy_history(site, scratch)
    forget_process()
    assert build(load_config(scratch), full=True, jobs=1).ok
    return output_files(scratch)


def _slugs(docs: list[dict[str, Any]], ids: set[str]) -> set[str]:
    return {doc["slug"]["current"] for doc in docs if doc["_id"] in ids}


def _refs(post: dict[str, Any]) -> tuple[str, set[str]]:
    return post["author"]["_ref"], {c["_ref"] for c in post.get("categories") or []}


def test_a_retitle_requeries_its_own_author_and_categories_only(
        default_site: Path, tmp_path: Path) -> None:
    docs = _docs(default_site)
    post = next(doc for doc in docs if doc["_type"] == "post" and doc.get("categories"))
    post["title"] = "A title of its own"
    _write(default_site, docs)
    ran = _spied_build(default_site)
    author, cats = _refs(post)
    assert ran == {"author": _slugs(docs, {author}), "category": _slugs(docs, cats)}
    assert output_files(default_site) == _full(default_site, tmp_path / "full")


def test_a_post_moving_requeries_the_old_and_the_new_pages(
        default_site: Path, tmp_path: Path) -> None:
    docs = _docs(default_site)
    posts = [doc for doc in docs if doc["_type"] == "post"]
    authors = sorted(doc["_id"] for doc in docs if doc["_type"] == "author")
    categories = sorted(doc["_id"] for doc in docs if doc["_type"] == "category")
    post = posts[3]
    old_author, old_cats = _refs(post)
    new_author = next(a for a in authors if a != old_author)
    new_cat = next(c for c in categories if c not in old_cats)
    post["author"]["_ref"] = new_author
    post["categories"] = [{"_type": "reference", "_ref": new_cat, "_key": "k1"}]
    _write(default_site, docs)
    ran = _spied_build(default_site)
    assert ran == {"author": _slugs(docs, {old_author, new_author}),
                   "category": _slugs(docs, old_cats | {new_cat})}
    assert output_files(default_site) == _full(default_site, tmp_path / "full")


def test_author_and_category_pages_carry_ref_tags_not_the_post_type(
        default_site: Path) -> None:
    docs = _docs(default_site)
    config = load_config(default_site)
    for doc in docs:
        if doc["_type"] not in ("author", "category"):
            continue
        folder = "authors" if doc["_type"] == "author" else "categories"
        tags = set(inspect_page(config, f"/{folder}/{doc['slug']['current']}/")["tags"])
        assert f"ref:{doc['_id']}" in tags
        assert "type:post" not in tags
        assert not {tag for tag in tags if tag.startswith("ref:")} - {f"ref:{doc['_id']}"}


def test_unknown_former_references_requery_the_routes_in_full(
        default_site: Path, tmp_path: Path) -> None:
    """A change whose former references the source cannot vouch for (here: none known)
    re-queries every author and category page, and still equals a full build."""
    docs = _docs(default_site)
    post = next(doc for doc in docs if doc["_type"] == "post")
    post["title"] = "Another title"
    _write(default_site, docs)
    with mutant(reach, "reference_change", lambda *args: None):
        ran = _spied_build(default_site)
    assert ran["author"] == _slugs(docs, {d["_id"] for d in docs if d["_type"] == "author"})
    assert output_files(default_site) == _full(default_site, tmp_path / "full")


def _edit_author_slug(docs: list[dict[str, Any]]) -> None:
    author = next(doc for doc in docs if doc["_type"] == "author")
    author["slug"]["current"] = "a-new-slug"


def _delete_author(docs: list[dict[str, Any]]) -> None:
    docs.remove(next(doc for doc in docs if doc["_type"] == "author"))


def _new_post(docs: list[dict[str, Any]]) -> None:
    post = dict(next(doc for doc in docs if doc["_type"] == "post"))
    author = [doc["_id"] for doc in docs if doc["_type"] == "author"][-1]
    docs.append({**post, "_id": "a-new-post", "slug": {"_type": "slug", "current": "new"},
                 "title": "New", "author": {"_type": "reference", "_ref": author}})


def _uncategorise(docs: list[dict[str, Any]]) -> None:
    post = next(doc for doc in docs if doc["_type"] == "post" and doc.get("categories"))
    post["categories"] = []


def _new_category(docs: list[dict[str, Any]]) -> None:
    post = next(doc for doc in docs if doc["_type"] == "post")
    cat = [doc["_id"] for doc in docs if doc["_type"] == "category"][-1]
    post["categories"] = [*(post.get("categories") or []),
                          {"_type": "reference", "_ref": cat, "_key": "added"}]


@pytest.mark.parametrize("edit", [_edit_author_slug, _delete_author, _new_post,
                                  _uncategorise, _new_category])
def test_edits_of_the_outer_documents_and_references_equal_a_full_build(
        default_site: Path, tmp_path: Path, edit: Any) -> None:
    docs = _docs(default_site)
    edit(docs)
    _write(default_site, docs)
    forget_process()
    assert build(load_config(default_site), jobs=1).ok
    assert output_files(default_site) == _full(default_site, tmp_path / "full")


def test_mutant_results_without_their_lookups_is_caught(tmp_path: Path) -> None:
    """Pages whose results do not report the ids their ``references()`` lookups took
    carry no ``ref:`` tag: a new post does not reach its author's page."""
    from ssgen.sources import query_cache  # where ``LocalSource.query`` looks it up too

    site = tmp_path / "site"
    _copy_default_site(site)
    _write(site, _docs(site))
    with mutant(query_cache, "looked_up", lambda keys: frozenset()):
        forget_process()
        assert build(load_config(site), jobs=1).ok
        docs = _docs(site)
        _new_post(docs)
        _write(site, docs)
        forget_process()
        assert build(load_config(site), jobs=1).ok
    assert output_files(site) != _full(site, tmp_path / "full")
