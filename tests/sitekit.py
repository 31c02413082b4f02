"""Helpers for tests that build small sites in a temporary folder."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st
from typer.testing import CliRunner

from ssgen.cli.app import app
from ssgen.manifest.connect import open_state
from ssgen.manifest.store import Manifest

BASE_TEMPLATE = (
    "<!doctype html><title>{% block title %}{{ site.title }}{% endblock %}</title>"
    "<main>{% block content %}{% endblock %}</main>\n"
)

# [site] and [source] of every test site: add its routes (and other tables) after it.
SITE_TOML = """
[site]
title = "Test"
base_url = "https://example.com"

[source]
type = "local"
files = ["content/data.ndjson"]
"""

DEFAULT_TOML = SITE_TOML + """
[[routes]]
name = "post"
path = "/blog/{slug}/"
template = "post.html"
query = '*[_type == "post"]{_id, title, "slug": slug.current, "author": author->name}'
tags = ["post:{slug}"]

[[routes]]
name = "index"
path = "/blog/"
template = "list.html"
query = '*[_type == "post"] | order(title asc){title, "slug": slug.current}'
"""

DEFAULT_TEMPLATES = {
    "base.html": BASE_TEMPLATE,
    "post.html": (
        '{% extends "base.html" %}{% block content %}<h1>{{ page.title }}</h1>'
        "<p>by {{ page.author }}</p>{% endblock %}"
    ),
    "list.html": (
        '{% extends "base.html" %}{% block content %}<ul>{% for p in page %}'
        '<li><a href="/blog/{{ p.slug }}/">{{ p.title }}</a></li>{% endfor %}</ul>{% endblock %}'
    ),
}


def post(n: int, author: str = "a1", **extra: Any) -> dict[str, Any]:
    """A post document."""
    doc = {
        "_id": f"p{n}",
        "_type": "post",
        "title": f"Post {n}",
        "slug": {"_type": "slug", "current": f"post-{n}"},
        "author": {"_type": "reference", "_ref": author},
    }
    doc.update(extra)
    return doc


def author(ident: str, name: str) -> dict[str, Any]:
    """An author document."""
    return {"_id": ident, "_type": "author", "name": name}


def write_docs(site: Path, docs: list[dict[str, Any]]) -> None:
    """Write the site's dataset as NDJSON."""
    (site / "content").mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(doc) + "\n" for doc in docs)
    (site / "content" / "data.ndjson").write_text(lines, encoding="utf-8")


def make_site(
    root: Path,
    docs: list[dict[str, Any]] | None = None,
    toml: str = DEFAULT_TOML,
    templates: dict[str, str] | None = None,
) -> Path:
    """Create a small site under ``root`` and return its folder."""
    site = root / "site"
    (site / "templates").mkdir(parents=True, exist_ok=True)
    (site / "ssgen.toml").write_text(toml, encoding="utf-8")
    for name, text in (templates or DEFAULT_TEMPLATES).items():
        path = site / "templates" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    write_docs(site, docs if docs is not None else [author("a1", "Ada"), post(1), post(2)])
    return site


def run_cli(*args: str) -> Any:
    """Run the ssgen CLI in-process; returns the click Result."""
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def copy_history(site: Path, clean: Path, state_url: str | None = None) -> None:
    """Give ``clean``'s manifest the path history of ``site``'s (in ``state_url`` when
    given): redirects are state, so a clean full build equals an incremental one only
    with the same history."""
    if state_url is None and not (site / ".ssgen" / "manifest.sqlite").exists():
        return
    with open_state(site / ".ssgen", state_url) as source, \
            Manifest.open(clean / ".ssgen" / "manifest.sqlite") as fresh:
        fresh.set_history(source.history())


def output_files(site: Path) -> dict[str, bytes]:
    """Every file under public/ by relative path."""
    out = site / "public"
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def no_temp_files(site: Path) -> bool:
    """True when no atomic-write temp file was left behind."""
    for _, _, files in os.walk(site / "public"):
        if any(name.startswith(".ssgen-tmp") or name.startswith(".") for name in files):
            return False
    return True


def markdown_site(root: Path) -> Path:
    """``root/site``: a local site of Markdown pages (``content/``, subfolder ``deep/``) with
    one route, ``/{slug}/``, rendering each page's title and Markdown body; no files yet."""
    site = root / "site"
    (site / "templates").mkdir(parents=True)
    (site / "content" / "deep").mkdir(parents=True)
    (site / "ssgen.toml").write_text(
        '[site]\ntitle = "T"\nbase_url = "https://e.example"\n[source]\ntype = "local"\n'
        'files = []\nmarkdown_dir = "content"\n[[routes]]\nname = "page"\npath = "/{slug}/"\n'
        'template = "page.html"\n'
        "query = '*[_type == \"page\"]{title, \"slug\": slug.current, body}'\n"
    )
    (site / "templates" / "page.html").write_text(
        "<h1>{{ page.title }}</h1>{{ page.body | markdown }}")
    return site


# --- the cards site ---------------------------------------------------------------------
# The default site's shape in small (test_serve_fragments, test_fragfile,
# test_source_snapshot): author and category pages list their posts through a correlated
# subquery whose cards dereference the author and categories, each card rendered by
# ``{% include %}`` of a partial that imports macros; the blog list shows the same cards.
# ``CardSite`` holds it as data; the edits below change it, ``card_edits`` generates them.

CARD = '{title, "slug": slug.current, "author": author->{name}, "cats": categories[]->{title}}'
# The head of the cards sites' ssgen.toml (this one and test_tags_property's): the site
# and its local source.
CARDS_HEAD = """
[site]
title = "Cards"
base_url = "https://example.com"

[source]
type = "local"
files = ["content/data.ndjson"]
"""
CARDS_TOML = CARDS_HEAD + f"""
[[routes]]
name = "blog"
path = "/blog/"
template = "blog.html"
query = '*[_type == "post"] | order(title asc){CARD}'
paginate = 2

[[routes]]
name = "author"
path = "/authors/{{slug}}/"
template = "list.html"
each = '*[_type == "author"]{{"slug": _id}}'
query = '*[_type == "author" && _id == $slug][0]{{name, "posts": *[_type == "post" && references(^._id)] | order(title asc){CARD}}}'

[[routes]]
name = "category"
path = "/categories/{{slug}}/"
template = "list.html"
each = '*[_type == "category"]{{"slug": _id}}'
query = '*[_type == "category" && _id == $slug][0]{{"name": title, "posts": *[_type == "post" && references(^._id)] | order(title asc){CARD}}}'
"""

CARD_TEMPLATES = {
    "_m.html": "{% macro who(a) %}<i>{{ a.name if a else '-' }}</i>{% endmacro %}",
    "_card.html": '{% import "_m.html" as m %}<li><a href="{{ url(\'/p/\' ~ post.slug) }}">'
    "{{ url if post.title.startswith('a') else '' }}"
    "{{ post.title }}</a> {{ m.who(post.author) }} "
    "{% for c in post.cats if c %}[{{ c.title }}]{% endfor %}</li>",
    "list.html": "<h1>{{ page.name }}</h1><ul>{% for post in page.posts %}"
    '{% include "_card.html" %}{% endfor %}</ul>',
    "blog.html": '<ul>{% for post in page %}{% include "_card.html" %}{% endfor %}</ul>',
}
AUTHORS, CATEGORIES = ["a1", "a2"], ["c1", "c2"]


def card_post(ident: str, title: str, author: str, cats: list[str]) -> dict[str, Any]:
    """A cards-site post: by ``author``, in the categories ``cats``."""
    return {"_id": ident, "_type": "post", "title": title, "slug": {"current": ident},
            "author": {"_ref": author},
            "categories": [{"_ref": c, "_key": c} for c in cats]}


class CardSite:
    """The cards site as data: its documents and templates, written out by ``write``."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        for i, a in enumerate(AUTHORS):
            self.docs[a] = {"_id": a, "_type": "author", "name": f"Author {i}"}
        for i, c in enumerate(CATEGORIES):
            self.docs[c] = {"_id": c, "_type": "category", "title": f"Cat {i}"}
        for i in range(4):
            self.docs[f"p{i}"] = card_post(f"p{i}", f"T{i}", AUTHORS[i % 2], CATEGORIES[: i % 3])
        self.templates = dict(CARD_TEMPLATES)
        self.counter = 0

    def posts(self) -> list[str]:
        return sorted(k for k, d in self.docs.items() if d["_type"] == "post")

    def write(self, root: Path) -> None:
        (root / "templates").mkdir(parents=True, exist_ok=True)
        (root / "content").mkdir(parents=True, exist_ok=True)
        (root / "ssgen.toml").write_text(CARDS_TOML)
        for name, text in self.templates.items():
            path = root / "templates" / name
            if not path.exists() or path.read_text() != text:
                path.write_text(text)
        (root / "content" / "data.ndjson").write_text(
            "".join(json.dumps(d) + "\n" for d in self.docs.values()))


Edit = Callable[[CardSite], None]  # one generated change to the cards site
words = st.text(alphabet="abc ", min_size=1, max_size=4).map(str.strip).filter(bool)
pick = st.integers(min_value=0, max_value=9)


def _on_post(change: Callable[[dict[str, Any]], None]) -> Callable[[int], Edit]:
    def make(i: int) -> Edit:
        def apply(site: CardSite) -> None:
            posts = site.posts()
            if posts:
                change(site.docs[posts[i % len(posts)]])
        return apply
    return make


def retitle(i: int, title: str) -> Edit:
    return _on_post(lambda d: d.__setitem__("title", title))(i)


def reauthor(i: int, author: str) -> Edit:
    return _on_post(lambda d: d.__setitem__("author", {"_ref": author}))(i)


def recategorise(i: int, cats: list[str]) -> Edit:
    return _on_post(lambda d: d.__setitem__(
        "categories", [{"_ref": c, "_key": c} for c in cats]))(i)


def rename(ident: str, value: str) -> Edit:
    def apply(site: CardSite) -> None:
        if ident in site.docs:
            site.docs[ident]["name" if ident in AUTHORS else "title"] = value
    return apply


def unauthor(i: int) -> Edit:
    """A post loses its author reference (the field removed)."""
    return _on_post(lambda d: d.pop("author", None))(i)


def reid(ident: str) -> Edit:
    """An author's or category's ``_id`` changes (to ``<id>r`` and back): the document
    moves, and the posts that referenced it follow (one edit, many documents)."""
    def apply(site: CardSite) -> None:
        old, new = (ident, ident + "r") if ident in site.docs else (ident + "r", ident)
        if old not in site.docs:
            return
        doc = site.docs.pop(old)
        site.docs[new] = {**doc, "_id": new}
        for post in site.docs.values():
            for ref in [post.get("author"), *(post.get("categories") or [])]:
                if isinstance(ref, dict) and ref.get("_ref") == old:
                    ref["_ref"] = new
    return apply


def delete_outer(ident: str) -> Edit:
    """An author or category deleted; its posts keep their (now dangling) references."""
    def apply(site: CardSite) -> None:
        site.docs.pop(ident, None)
    return apply


def create(author: str, title: str) -> Edit:
    def apply(site: CardSite) -> None:
        site.counter += 1
        ident = f"n{site.counter}"
        site.docs[ident] = card_post(ident, title, author, ["c1"])
    return apply


def delete(i: int) -> Edit:
    def apply(site: CardSite) -> None:
        posts = site.posts()
        if posts:
            del site.docs[posts[i % len(posts)]]
    return apply


def edit_template(name: str, text: str) -> Edit:
    def apply(site: CardSite) -> None:
        site.templates[name] += text
    return apply


# Every kind of edit, for hypothesis.
card_edits = st.one_of(
    st.builds(retitle, pick, words),
    st.builds(reauthor, pick, st.sampled_from([*AUTHORS, "gone"])),
    st.builds(recategorise, pick, st.lists(st.sampled_from(CATEGORIES), max_size=2)),
    st.builds(rename, st.sampled_from([*AUTHORS, *CATEGORIES]), words),
    st.builds(unauthor, pick),
    st.builds(reid, st.sampled_from([*AUTHORS, *CATEGORIES])),
    st.builds(delete_outer, st.sampled_from([*AUTHORS, *CATEGORIES])),
    st.builds(create, st.sampled_from(AUTHORS), words),
    st.builds(delete, pick),
    st.builds(edit_template, st.sampled_from(sorted(CARD_TEMPLATES)), words),
)


# Slugs that percent-encoding and Unicode normalisation change (the properties add
# ``-<id>``), an encoded slash (a folder), a right-to-left override, a long one (200
# bytes: a file name's limit is 255).
HOSTILE_SLUGS = ["x", "why-%77e-moved", "café", "cafe\u0301", "a b", "100%-sure", "ü?q#f",
                 "x%2Fy", "\u202eevil", "\u00e9" * 100]
# Slugs whose paths would leave the output folder (``..`` segments: the page fails, as in
# a clean build, and nothing is written outside), and the hostile ones that build.
PATH_SLUGS = [*HOSTILE_SLUGS, "../../x", "a/../../../b"]
# Texts a page must carry as they are: a script's end tag, NUL, a right-to-left override,
# a long Unicode run; and a string cut inside an emoji (a lone surrogate, escaped in the
# NDJSON and by the Sanity test server), which every build shows as U+FFFD.
HOSTILE_TEXTS = ["</script><script>alert(1)</script>", "nul\x00here", "\u202eright-left",
                 "\u00e9" * 300, "cut \ud83d emoji"]
# What a site folder holds besides its output; and the folders beside it that the
# properties make (clean builds, ``command_round``'s changes file).
SITE_PARTS = frozenset({"public", ".ssgen", "content", "templates", "static", "ssgen.toml"})
BESIDE_SITE = frozenset({"site", "scratch", "changes.json", "drafts", "drafts-scratch"})


def stray_files(site: Path) -> list[str]:
    """Files beside or in ``site`` that are not among what it and the properties write
    there (a page written outside its output folder would be one)."""
    root = site.parent
    return sorted(str(path.relative_to(root)) for path in root.rglob("*")
                  if path.is_file() and (path.relative_to(root).parts[0] not in BESIDE_SITE
                                         or (path.is_relative_to(site) and path.relative_to(
                                             site).parts[0] not in SITE_PARTS)))


def manifest_tables(site: Path, tables: tuple[str, ...], volatile: tuple[str, ...]
                    ) -> dict[str, list[Any]]:
    """The rows of the manifest's ``tables`` (sorted), its meta rows but ``volatile``,
    and its files rows without their stat: what two builds that should agree share."""
    import sqlite3

    with sqlite3.connect(site / ".ssgen" / "manifest.sqlite") as conn:
        found = {table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
                 for table in tables}
        found["meta"] = sorted(row for row in conn.execute("SELECT * FROM meta")
                               if row[0] not in volatile)
    found["files"] = [row[:3] for row in found["files"]]  # not the stat
    return found


def without_dotdot_guards(monkeypatch: pytest.MonkeyPatch) -> None:
    """A mutant: every guard of a page's file against ``..`` gone (the URL path's check,
    the output path's, the real path's), so a page may be written outside the output."""
    from ssgen.build.output import writer
    from ssgen.routes import paths

    monkeypatch.setattr(paths, "_check_segments", lambda segments, where: None)
    monkeypatch.setattr(paths, "_check_not_hidden", lambda segments, where: None)
    monkeypatch.setattr(writer.Output, "_check_inside",
                        lambda self, folder, rel: os.path.realpath(folder))


def no_children() -> bool:
    """Whether this process has no child left (forked work stopped and reaped)."""
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def killed_run(work: Callable[[], int], how: tuple[str, str]) -> int:
    """``work()`` in a forked child (a real process, without an interpreter start) killed
    as a ``kill -9`` would: ``("kill", ms)`` by SIGKILL after ``ms`` milliseconds;
    ``("fault", spec)`` or ``("fault-full", spec)`` by ``SSGEN_FAULT=spec`` (the child
    dies at that point: ``ssgen.build.faults``; or ends when its run never reaches it).
    The child exits with ``work()``'s code (1 when it raised) and never returns into
    pytest; the child's wait status."""
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            if how[0] != "kill":
                os.environ["SSGEN_FAULT"] = how[1]
            code = work()
        except BaseException:
            code = 1
        os._exit(code)
    if how[0] == "kill":
        time.sleep(int(how[1]) / 1000)
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    return status


@contextmanager
def mutant(target: Any, name: str, replacement: Any) -> Iterator[None]:
    """``target.name`` replaced by ``replacement`` inside the block (a mutant test)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(target, name, replacement)
        yield


CacheDamage = Callable[[Path, list[bytes]], None]


def cache_damages(locate: Callable[[Path], Path]) -> list[CacheDamage]:
    """What can happen to the cache file ``locate(site)`` between processes, given its
    ``saved`` earlier copies: the oldest put back, a flipped byte, truncation, removal."""

    def restore_older(root: Path, saved: list[bytes]) -> None:
        if saved:
            locate(root).write_bytes(saved[0])

    def flip(root: Path, saved: list[bytes]) -> None:
        path = locate(root)
        if path.exists():
            data = bytearray(path.read_bytes())
            data[len(data) * 2 // 3] ^= 0x20
            path.write_bytes(bytes(data))

    def truncate(root: Path, saved: list[bytes]) -> None:
        path = locate(root)
        if path.exists():
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    def remove(root: Path, saved: list[bytes]) -> None:
        locate(root).unlink(missing_ok=True)

    return [restore_older, flip, truncate, remove]


def forget_process() -> None:
    """What a new process does not have: the renderer, kept pages, route memos, the
    sitemaps last written or kept, the feed's rows, the documents whose strings it
    shared, the fragments file serve holds."""
    from ssgen import shells
    from ssgen.build import ahead, extras, sitemapfile, slices
    from ssgen.build.extras import delta as extras_delta
    from ssgen.build.memo import datahash, each, fragments, kept
    from ssgen.build.output import temps
    from ssgen.render import environment, generated
    from ssgen.routes import paginate, reuse
    from ssgen.sources.snapshot import share

    environment._SHARED.clear()
    ahead._READ.clear()
    generated._FEEDS.clear()
    kept.forget()
    reuse._LAST.clear()
    paginate._LAST.clear()
    each._EACH_MEMO.clear()
    shells.abandon()  # the last process's lazily resumed snapshot: done with
    slices.forget()
    datahash._KNOWN.clear()
    extras._SITEMAPS.clear()
    sitemapfile._KEPT.clear()
    extras_delta.forget()
    fragments.forget()
    temps.SWEPT.clear()
    share.walked([])


def new_process(root: Path) -> None:
    """An incremental build of ``root`` as a new process would run it (one core)."""
    from ssgen.build.pipeline import build
    from ssgen.config.load import load_config

    forget_process()
    report = build(load_config(root), jobs=1)
    assert report.ok, report.failures


def full_card_build(site: CardSite, scratch: Path) -> dict[str, bytes]:
    """The output files of a clean full build of ``site`` written to ``scratch``."""
    import shutil

    from ssgen.build.pipeline import build
    from ssgen.config.load import load_config

    shutil.rmtree(scratch, ignore_errors=True)
    site.write(scratch)
    forget_process()
    assert build(load_config(scratch), full=True, jobs=1).ok
    return output_files(scratch)


def snapshot_file(root: Path) -> Path:
    """Where a build of ``root`` leaves its source snapshot."""
    from ssgen.sources import snapshot

    return root / ".ssgen" / snapshot.FILE


# What a copy of a site's inputs leaves out: its output and its build state.
NOT_INPUTS = frozenset({"public", ".ssgen"})


def inputs_digest(site: Path) -> Any:
    """A BLAKE2b of the site's input files, names and bytes (the key of a clean full
    build made from them); the caller may add to it before taking ``digest()``."""
    digest = hashlib.blake2b(digest_size=20)
    for path in sorted(site.rglob("*")):
        relative = path.relative_to(site)
        if path.is_file() and not NOT_INPUTS.intersection(relative.parts):
            digest.update(relative.as_posix().encode() + b"\0")
            digest.update(hashlib.blake2b(path.read_bytes(), digest_size=20).digest())
    return digest


def copy_inputs(site: Path, scratch: Path) -> None:
    """``scratch`` made a copy of the site's inputs (see ``NOT_INPUTS``)."""
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(site, scratch, ignore=shutil.ignore_patterns(*NOT_INPUTS))


def changed_ids(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> list[str]:
    """The ids of the documents that differ between two ``{_id: document}`` states."""
    return sorted(i for i in before.keys() | after.keys() if before.get(i) != after.get(i))


def webhook_change(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> Any:
    """The ``Change`` a webhook for each document that differs between two states
    carries: its id, its type (the old one for a deletion) and the operation."""
    from ssgen.build.change import Change, DocChange

    docs = []
    for ident in changed_ids(before, after):
        new, old = after.get(ident), before.get(ident)
        operation = "delete" if new is None else "create" if old is None else "update"
        docs.append(DocChange(ident, (new or old or {}).get("_type"), operation))
    return Change(documents=tuple(docs))


def command_round(root: Path, command: str, ids: list[str]) -> Any:
    """``ssgen build`` or ``ssgen revalidate --doc <id>...`` of ``root`` as a new process
    runs it (in this one, its memos forgotten), with ``--changes``: a report with
    ``ok``, ``failures``, ``new``, ``changed`` and ``deleted``. ``revalidate`` with no
    ids runs ``build``."""
    from types import SimpleNamespace

    forget_process()
    changes = root.parent / "changes.json"
    changes.unlink(missing_ok=True)
    args = ["--site", str(root)]
    if command == "revalidate" and ids:
        args += ["revalidate", *(f"--doc={i}" for i in ids)]
    else:
        args += ["build"]
    result = run_cli(*args, "--changes", str(changes))
    written = json.loads(changes.read_text()) if changes.exists() else {}
    return SimpleNamespace(ok=result.exit_code == 0, failures=result.output,
                           new=written.get("new", []), changed=written.get("changed", []),
                           deleted=written.get("deleted", []))
