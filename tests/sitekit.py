"""Helpers for tests that build small sites in a temporary folder."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

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
