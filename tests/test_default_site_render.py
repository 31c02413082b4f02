"""Every template of the default site and the scaffold renders with ssgen's real Renderer
(autoescape, StrictUndefined, the real filters) on contexts shaped like its routes' query
results, and the HTML contains what each page promises."""

from __future__ import annotations

import math
import re
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from default_site_data import ROOT, SCAFFOLD, SiteData
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ssgen.config.load import load_config
from ssgen.render.environment import Renderer

BASE = "https://example.com"


@pytest.fixture(scope="module")
def site() -> SiteData:
    return SiteData(ROOT)


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(load_config(ROOT))


def render(renderer: Renderer, template: str, path: str, page: Any = None,
           **extra: Any) -> str:
    data = SiteData(Path(renderer.config.site_dir)).data()
    context = {"site": renderer.config.site, "data": data, "page": page, "route": template,
               "path": path, "url": BASE + path, **extra}
    html = renderer.render(template, context)
    assert html == renderer.render(template, context), "output must be deterministic"
    assert html.startswith("<!doctype html>") and html.rstrip().endswith("</html>")
    return html


def test_post_page(site: SiteData, renderer: Renderer) -> None:
    index = len(site.posts) // 2
    page = site.post_page(index)
    near = site.neighbours(index)
    html = render(renderer, "post.html", f"/blog/{page['slug']}/", page, **near)
    assert f"<h1>{page['title']}</h1>" in html.replace("&#39;", "'")
    assert f'<link rel="canonical" href="{BASE}/blog/{page["slug"]}/">' in html
    assert 'type="application/atom+xml"' in html and f'{BASE}/feed.xml' in html
    assert f'href="/authors/{page["author"]["slug"]}/"' in html
    # The local image pipeline (the site ships its asset files): variants under /_img/,
    # AVIF and WebP in a <picture>, a JPEG for link previews (absolute).
    assert '<picture><source type="image/avif" srcset="/_img/' in html
    assert re.search(r'<meta property="og:image" content="https://example\.com/_img/[^"]+\.jpg">',
                     html)
    assert "cdn.sanity.io" not in html
    # Newest first, as on the blog list: the older post is rel="next", the newer rel="prev".
    assert f'rel="next" href="/blog/{near["next"]["slug"]}/"><span>Older' in html
    assert f'rel="prev" href="/blog/{near["prev"]["slug"]}/"><span>Newer' in html
    body = html.split('<div class="prose">', 1)[1]
    for fragment in ("<h2>", "<blockquote>", "<ul>", "<ol>", "<strong>", "<em>", "<code>",
                     '<a href="https://', '<figure class="pt-image">', "<figcaption>"):
        assert fragment in body, fragment
    assert re.search(r"<li>[^<]*<ul>", body), "a nested list inside its parent item"
    for category in page["categories"]:
        assert f'href="/categories/{category["slug"]}/"' in html


def test_oldest_and_newest_posts_have_one_neighbour(site: SiteData, renderer: Renderer) -> None:
    last = len(site.posts) - 1
    newest = render(renderer, "post.html", "/blog/x/", site.post_page(0), **site.neighbours(0))
    oldest = render(renderer, "post.html", "/blog/y/", site.post_page(last),
                    **site.neighbours(last))
    assert 'rel="prev"' not in newest and 'rel="next"' in newest
    assert 'rel="next"' not in oldest and 'rel="prev"' in oldest


def test_home_page(site: SiteData, renderer: Renderer) -> None:
    latest = [site.card(p) for p in site.posts[:7]]
    html = render(renderer, "home.html", "/", latest)
    for post in latest:
        assert f'href="/blog/{post["slug"]}/"' in html
    for category in site.data()["categories"]:
        assert f'href="/categories/{category["slug"]}/"' in html
    for item in site.data()["settings"]["navigation"]:
        assert f'<a href="{item["href"]}"' in html


@pytest.mark.parametrize("number", [1, 2, -1], ids=["first", "second", "last"])
def test_blog_archive_pages(site: SiteData, renderer: Renderer, number: int) -> None:
    cards = [site.card(p) for p in site.posts]
    pages = math.ceil(len(cards) / 10)
    number = pages if number == -1 else number
    urls = ["/blog/"] + [f"/blog/page/{n}/" for n in range(2, pages + 1)]
    items = cards[(number - 1) * 10 : number * 10]
    paginator = {"items": items, "number": number, "pages": pages, "total": len(cards),
                 "prev_url": urls[number - 2] if number > 1 else None,
                 "next_url": urls[number] if number < pages else None, "urls": urls}
    html = render(renderer, "blog.html", urls[number - 1], items, paginator=paginator)
    assert html.count('<article class="card">') == len(items)
    assert f'<span aria-current="page">{number}</span>' in html
    assert ('rel="prev"' in html) == (number > 1)
    assert ('rel="next"' in html) == (number < pages)
    assert 'href="/blog/page/2/"' in html or number == 2


@settings(max_examples=200, deadline=None)
@example(shape=(9, 5))
@example(shape=(2, 1))
@example(shape=(3, 3))
@given(st.integers(2, 20_000).flatmap(lambda pages: st.tuples(st.just(pages),
                                                               st.integers(1, pages))))
def test_blog_archive_nav_is_a_window(site: SiteData, renderer: Renderer,
                                      shape: tuple[int, int]) -> None:
    # The nav once listed every page: 10,000 links on each of 10,000 pages at 100k posts
    # (5 GB of archive). Now: the first, the last, two either side, gaps marked.
    pages, number = shape
    urls = ["/blog/"] + [f"/blog/page/{n}/" for n in range(2, pages + 1)]
    items = [site.card(site.posts[0])]
    paginator = {"items": items, "number": number, "pages": pages, "total": pages * 10,
                 "prev_url": urls[number - 2] if number > 1 else None,
                 "next_url": urls[number] if number < pages else None, "urls": urls}
    html = render(renderer, "blog.html", urls[number - 1], items, paginator=paginator)
    nav = html[html.index('<nav class="pagination"'):]
    nav = nav[:nav.index("</nav>")]
    entries = re.findall(r'<li>(?:<a href="([^"]+)">(\d+)</a>|<span aria-current="page">(\d+)'
                         r'</span>)</li>|<li aria-hidden="true">…</li>', nav)
    shown = [int(n or current) for _, n, current in entries if n or current]
    wanted = sorted({1, pages} | set(range(max(1, number - 2), min(pages, number + 2) + 1)))
    assert shown == wanted
    assert [href for href, n, _ in entries if n] == [urls[n - 1] for n in wanted if n != number]
    gaps = sum(1 for a, b in pairwise(wanted) if b > a + 1)
    assert nav.count("…") == gaps
    assert nav.count(f'<span aria-current="page">{number}</span>') == 1


def paged(page: dict[str, Any], base: str, number: int = 1, size: int = 10) -> dict[str, Any]:
    """Page ``number`` of a document paginated by its ``posts`` (ssgen.toml's
    ``paginate_by``), as the route gives it: ``page`` with its slice, and ``paginator``."""
    posts = page.get("posts") or []
    count = max(1, -(-len(posts) // size))
    urls = [base if n == 1 else f"{base}page/{n}/" for n in range(1, count + 1)]
    part = posts[(number - 1) * size:number * size]
    return {"page": {**page, "posts": part}, "paginator": {
        "items": part, "number": number, "pages": count, "total": len(posts),
        "prev_url": urls[number - 2] if number > 1 else None,
        "next_url": urls[number] if number < count else None, "urls": urls}}


def test_author_page(site: SiteData, renderer: Renderer) -> None:
    author, page = max(((a, site.with_posts(a, "_id", "name", "image", "bio"))
                        for a in site.of_type("author")), key=lambda pair: len(pair[1]["posts"]))
    assert len(page["posts"]) > 10, "the author's posts span two pages"
    base = f"/authors/{page['slug']}/"
    html = render(renderer, "author.html", base, **paged(page, base))
    assert page["name"] in html.replace("&#39;", "'")
    assert html.count('<article class="card">') == 10
    assert f"{len(page['posts'])} posts, page 1 of 2" in html
    assert f'<a rel="next" href="{base}page/2/">' in html and 'rel="prev"' not in html
    assert author["bio"][0]["children"][0]["text"] in html
    second = render(renderer, "author.html", f"{base}page/2/", **paged(page, base, 2))
    assert second.count('<article class="card">') == len(page["posts"]) - 10
    assert f'<a rel="prev" href="{base}">' in second and "· page 2 ·" in second


def test_category_page(site: SiteData, renderer: Renderer) -> None:
    category = site.of_type("category")[0]
    page = site.with_posts(category, "_id", "title", "description")
    base = f"/categories/{page['slug']}/"
    html = render(renderer, "category.html", base, **paged(page, base))
    assert html.count('<article class="card">') == min(10, len(page["posts"])) > 0
    assert category["description"] in html


def test_markdown_pages(site: SiteData, renderer: Renderer) -> None:
    for page in site.pages:
        html = render(renderer, "page.html", f"/{page['slug']}/", page)
        assert f"<h1>{page['title']}</h1>" in html
        assert f'<meta name="description" content="{page["description"]}">' in html
    docs = next(p for p in site.pages if p["slug"] == "getting-started")
    html = render(renderer, "page.html", "/getting-started/", docs)
    assert "<table>" in html and 'class="highlight"' in html


def test_not_found_page(renderer: Renderer) -> None:
    html = render(renderer, "404.html", "/404.html", None)
    assert "Page not found" in html and 'href="/blog/"' in html


def test_scaffold_templates_render() -> None:
    scaffold = SiteData(SCAFFOLD)
    renderer = Renderer(load_config(SCAFFOLD))
    cards = [site_card | {"excerpt": p["excerpt"]}
             for p in scaffold.posts
             for site_card in [{"title": p["title"], "slug": p["slug"]["current"],
                                "publishedAt": p["publishedAt"]}]]
    home = render(renderer, "index.html", "/", cards)
    assert all(f'href="/blog/{c["slug"]}/"' in home for c in cards)
    post = scaffold.posts[0]
    page = {"title": post["title"], "slug": post["slug"]["current"],
            "publishedAt": post["publishedAt"], "excerpt": post["excerpt"],
            "mainImage": post["mainImage"], "body": post["body"],
            "author": scaffold.by_id[post["author"]["_ref"]]["name"]}
    html = render(renderer, "post.html", f"/blog/{page['slug']}/", page)
    assert "<blockquote>" in html and 'src="/_img/' in html
    about = render(renderer, "page.html", "/about/", scaffold.pages[0])
    assert "<code>content/about.md</code>" in about
    assert "Page not found" in render(renderer, "404.html", "/404.html", None)


def test_route_queries_produce_the_contexts_rendered_above(site: SiteData) -> None:
    """The GROQ in ssgen.toml, run by the real engine, gives exactly the shapes the tests
    above render (so the templates are tested against what a build feeds them)."""
    from ssgen.groq import Dataset

    config = load_config(ROOT)
    dataset = Dataset(site.published)
    routes = {r.name: r for r in config.routes}

    def run(name: str, params: dict[str, Any] | None = None) -> Any:
        query = routes[name].query_ast
        assert query is not None
        return query.evaluate(dataset, params or {})

    assert config.data_ast["categories"].evaluate(dataset, {}) == site.data()["categories"]
    assert run("post") == [site.post_page(i) | {"_updatedAt": p["_updatedAt"],
                                                "excerpt": p["excerpt"]}
                           for i, p in enumerate(site.posts)]
    assert run("home") == [site.card(p) for p in site.posts[:7]]
    assert run("blog") == [site.card(p) for p in site.posts]
    for name, fields in (("author", ("_id", "name", "image", "bio")),
                         ("category", ("_id", "title", "description"))):
        each = routes[name].each_ast
        assert each is not None
        params = each.evaluate(dataset, {})
        assert len(params) == len(site.of_type(name))
        for doc in site.of_type(name):
            assert run(name, {"slug": doc["slug"]["current"]}) == site.with_posts(doc, *fields)


def test_optional_fields_may_be_missing(renderer: Renderer) -> None:
    """A document with only its required fields renders (StrictUndefined is satisfied by
    `is defined` / `default` guards), leaving the optional parts out."""
    bare = {"title": "Bare", "slug": "bare", "publishedAt": "2024-02-03T10:00:00Z"}
    post = render(renderer, "post.html", "/blog/bare/", bare)
    assert "<h1>Bare</h1>" in post and "February 3, 2024" in post
    assert "og:image" not in post and 'rel="prev"' not in post and 'class="tags"' not in post
    home = render(renderer, "home.html", "/", [bare, bare])
    assert home.count('href="/blog/bare/"') >= 2
    author = render(renderer, "author.html", "/authors/a/",
                    **paged({"name": "A", "slug": "a", "posts": None}, "/authors/a/"))
    assert "0 posts" in author and 'class="pagination"' not in author
    category = render(renderer, "category.html", "/categories/c/",
                      **paged({"title": "C", "slug": "c", "posts": []}, "/categories/c/"))
    assert "No posts in this category yet." in category
    page = render(renderer, "page.html", "/p/", {"title": "P", "slug": "p"})
    assert "<h1>P</h1>" in page


def test_a_missing_required_field_names_template_and_line(renderer: Renderer) -> None:
    from ssgen.errors import RenderError

    context = {"site": renderer.config.site, "data": {"settings": None, "categories": []},
               "page": {"slug": "x", "publishedAt": "2024-02-03T10:00:00Z"},
               "route": "post", "path": "/blog/x/", "url": BASE + "/blog/x/"}
    with pytest.raises(RenderError) as info:
        renderer.render("post.html", context)
    assert info.value.template is not None and info.value.template.endswith("post.html")
    assert info.value.line is not None and "title" in str(info.value)
