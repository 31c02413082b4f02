"""Test helpers for the bundled sites: read their NDJSON, walk references, and build the
template contexts their routes' GROQ queries would produce (in plain Python), so templates
can be rendered without the build pipeline."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
SCAFFOLD = ROOT / "ssgen" / "cli" / "scaffold"
Doc = dict[str, Any]


def load_generator() -> ModuleType:
    """bench/gen_dataset.py as a module (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location("gen_dataset", ROOT / "bench" / "gen_dataset.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_ndjson(path: Path) -> list[Doc]:
    """Every document of an NDJSON file; a bad line fails naming file and line."""
    docs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as exc:
            raise AssertionError(f"{path}:{number}: not JSON: {exc}") from exc
        if not isinstance(doc, dict):
            raise AssertionError(f"{path}:{number}: a line must be a JSON object")
        docs.append(doc)
    return docs


def refs(value: Any) -> Iterator[str]:
    """Every ``_ref`` anywhere inside ``value``."""
    if isinstance(value, dict):
        if isinstance(value.get("_ref"), str):
            yield value["_ref"]
        for item in value.values():
            yield from refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from refs(item)


def front_matter(path: Path) -> tuple[dict[str, Any], str]:
    """The YAML front matter and the body of a Markdown file."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        raise AssertionError(f"{path}:1: expected front matter starting with ---")
    head, _, body = text[4:].partition("\n---\n")
    fields = yaml.safe_load(head)
    if not isinstance(fields, dict):
        raise AssertionError(f"{path}: front matter must be a mapping")
    return fields, body


def _url(page: Doc | None) -> str | None:
    return f"/blog/{page['slug']}/" if page else None


class SiteData:
    """The published documents of a site, with the projections its routes ask for."""

    def __init__(self, site: Path) -> None:
        self.docs = read_ndjson(site / "content" / "dataset.ndjson")
        self.published = [d for d in self.docs if not d["_id"].startswith("drafts.")]
        self.by_id = {d["_id"]: d for d in self.published}
        self.posts = sorted(
            (d for d in self.published if d["_type"] == "post"),
            key=lambda d: d["publishedAt"],
            reverse=True,
        )
        self.pages = [
            {**fields, "body": body}
            for fields, body in (front_matter(p) for p in sorted((site / "content").glob("*.md")))
        ]

    def of_type(self, doc_type: str) -> list[Doc]:
        return [d for d in self.published if d["_type"] == doc_type]

    def named(self, ref: Doc | None, *fields: str) -> Doc | None:
        doc = self.by_id.get(ref["_ref"]) if ref else None
        if doc is None:
            return None
        out = {"slug": doc["slug"]["current"]}
        out.update({f: self.image(doc[f]) if f == "image" else doc[f] for f in fields if f in doc})
        return out

    def image(self, image: Doc) -> Doc:
        """An image field with its asset dereferenced, as ``image{..., asset->}`` gives it."""
        return {**image, "asset": self.by_id[image["asset"]["_ref"]]}

    def card(self, post: Doc) -> Doc:
        return {
            "title": post["title"],
            "slug": post["slug"]["current"],
            "publishedAt": post["publishedAt"],
            "excerpt": post["excerpt"],
            "mainImage": self.image(post["mainImage"]),
            "author": self.named(post["author"], "name"),
            "categories": [self.named(c, "title") for c in post["categories"]],
        }

    def post_page(self, index: int) -> Doc:
        post = self.posts[index]
        page = self.card(post)
        page.update(
            _id=post["_id"],
            body=post["body"],
            author=self.named(post["author"], "name", "image"),
        )
        return page

    def neighbours(self, index: int) -> Doc:
        """The ``prev``/``next`` a post page gets: the posts beside it, newest first."""
        newer = self.post_page(index - 1) if index > 0 else None
        older = self.post_page(index + 1) if index + 1 < len(self.posts) else None
        return {"prev": newer, "prev_url": _url(newer), "next": older, "next_url": _url(older)}

    def with_posts(self, doc: Doc, *fields: str) -> Doc:
        page = {f: self.image(doc[f]) if f == "image" else doc[f] for f in fields if f in doc}
        page["slug"] = doc["slug"]["current"]
        page["posts"] = [self.card(p) for p in self.posts if doc["_id"] in set(refs(p))]
        return page

    def data(self) -> Doc:
        categories = sorted(self.of_type("category"), key=lambda c: c["title"])
        return {
            "settings": self.of_type("siteSettings")[0],
            "categories": [
                {"title": c["title"], "slug": c["slug"]["current"], "description": c["description"]}
                for c in categories
            ],
        }
