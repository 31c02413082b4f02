"""Render-layer micro-benchmark: µs per page for Renderer.render, expand_route, data_hash.

Run by hand: .venv/bin/python bench/render_bench.py [N]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ssgen.config.load import (
    Config,
    MarkdownConfig,
    RouteConfig,
    SiteConfig,
    SitemapConfig,
    SourceConfig,
)
from ssgen.render.environment import Renderer
from ssgen.routes.spec import data_hash, expand_route

LOREM = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud."
)
SIMPLE = "<title>{{ page.title }}</title><h1>{{ page.title }}</h1>{{ page.body }}"
BASE = (
    "<!doctype html><html><head>{% include 'head.html' %}</head><body>"
    "<nav>{% for c in data.nav %}<a href='{{ c.url }}'>{{ c.title }}</a>{% endfor %}</nav>"
    "{% block body %}{% endblock %}</body></html>"
)
HEAD = "<title>{{ page.title }} | {{ site.title }}</title><link rel=canonical href='{{ url }}'>"
POST = (
    "{% extends 'base.html' %}{% block body %}<article><h1>{{ page.title }}</h1>"
    "<time>{{ page.date | date }}</time>{{ page.body | portable_text }}</article>{% endblock %}"
)


def config(site_dir: Path) -> Config:
    return Config(
        site_dir=site_dir,
        site=SiteConfig(title="Bench", base_url="https://ex.com"),
        source=SourceConfig(),
        data={},
        routes=(),
        markdown=MarkdownConfig(),
        feed=None,
        sitemap=SitemapConfig(),
        hash="bench",
    )


def block(text: str) -> dict[str, Any]:
    span = {"_type": "span", "_key": "s", "text": text, "marks": []}
    return {"_type": "block", "_key": "b", "style": "normal", "markDefs": [], "children": [span]}


def timed(label: str, n: int, fn: Any) -> None:
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    print(f"{label:<48} {elapsed * 1e6 / n:8.1f} µs/page  ({n} pages, {elapsed:.3f} s)")


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp)
        (site / "templates").mkdir()
        for name, text in {
            "simple.html": SIMPLE,
            "base.html": BASE,
            "head.html": HEAD,
            "post.html": POST,
        }.items():
            (site / "templates" / name).write_text(text)
        cfg = config(site)
        items = [
            {
                "_id": f"p{i}",
                "_type": "post",
                "slug": f"post-{i}",
                "title": f"Post {i}",
                "date": "2024-01-02T10:00:00Z",
                "body": [block(LOREM) for _ in range(3)],
                "author": {"_id": "a1", "name": "Ann"},
            }
            for i in range(n)
        ]
        data = {"nav": [{"url": f"/c/{i}/", "title": f"Cat {i}"} for i in range(8)]}
        route = RouteConfig(
            name="post", path="/blog/{slug}/", template="post.html", tags=("posts", "post:{slug}")
        )
        pages: list[Any] = []
        timed(
            "expand_route (list route, tags)",
            n,
            lambda: pages.extend(
                expand_route(
                    route,
                    items,
                    result_ids={f"p{i}" for i in range(n)} | {"a1"},
                    scanned_types=frozenset({"post"}),
                    site=cfg.site,
                    data=data,
                )
            ),
        )
        timed("data_hash(context)", n, lambda: [data_hash(p.context) for p in pages])
        for reload in (True, False):
            renderer = Renderer(cfg, auto_reload=reload)
            html = [
                {
                    "page": {
                        "title": p.context["page"]["title"],
                        "body": ("<p>" + LOREM + "</p>") * 3,
                    }
                }
                for p in pages
            ]
            renderer.render("simple.html", html[0])
            timed(
                f"render simple layout (auto_reload={reload})",
                n,
                lambda r=renderer, h=html: [r.render("simple.html", c) for c in h],
            )
            renderer.render("post.html", pages[0].context)
            timed(
                f"render post: extends+include+PT (auto_reload={reload})",
                n,
                lambda r=renderer: [r.render("post.html", p.context) for p in pages],
            )
        renderer = Renderer(cfg)
        timed(
            "template_chain(post.html), cached",
            n,
            lambda: [renderer.template_chain("post.html") for _ in range(n)],
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4000)
