"""ssg_bench's Markdown files as a blog: dated posts with a summary and tags, an index
paginated by date, a page per tag and an Atom feed (ssgen), and the same for Hugo (its
home and tag pages paginated, its RSS). ``--shape blog`` of the newprocess benches.

Each post keeps ssg_bench's title and body and its page ``/{slug}/``; it gains a date
(one hour apart, shuffled by the seed), a summary (its body's first sentence) and one to
three of 20 tags. The tags are documents of their own (``content/tags/<tag>.md``, as a
Hugo term's ``_index.md``).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ssg_bench import SITE_TOML, WORDS, make_hugo_site, make_ssgen_site

TAGS = sorted(set(WORDS))[:20]
PER_PAGE = 10  # as the index route's paginate

SSGEN_TOML = SITE_TOML + """
[[routes]]
name = "page"
path = "/{slug}/"
template = "page.html"
query = '*[_type == "page"]{title, "slug": slug.current, date, summary, tags, body}'

[[routes]]
name = "index"
path = "/"
template = "index.html"
paginate = 10
query = '*[_type == "page"] | order(date desc){title, "slug": slug.current, date, summary}'

[[routes]]
name = "tag"
path = "/tags/{tag}/"
template = "tag.html"
each = '*[_type == "tag"]{"tag": title}'
query = '*[_type == "page" && $tag in tags] | order(date desc){title, "slug": slug.current, date}'

[feed]
route = "page"
title = "Bench"
date_field = "date"
summary_field = "summary"
"""

TEMPLATES = {
    "page.html": "<title>{{ page.title }}</title><h1>{{ page.title }}</h1>"
                 "<p>{{ page.date }} {{ page.tags | join(', ') }}</p>{{ page.body | markdown }}",
    "index.html": "<title>Bench</title>{% for p in paginator['items'] %}<article><h2><a "
                  "href='/{{ p.slug }}/'>{{ p.title }}</a></h2><p>{{ p.date }}</p>"
                  "<p>{{ p.summary }}</p></article>{% endfor %}"
                  "{% if paginator.next_url %}<a href='{{ paginator.next_url }}'>next</a>"
                  "{% endif %}",
    "tag.html": "<title>{{ path }}</title><ul>{% for p in page %}<li><a href='/{{ p.slug"
                " }}/'>{{ p.title }}</a> {{ p.date }}</li>{% endfor %}</ul>",
}

HUGO_CONFIG = (
    'baseURL = "https://example.com/"\ntitle = "Bench"\n'
    f'paginate = {PER_PAGE}\n[taxonomies]\ntag = "tags"\n'  # Hugo 0.111's keys
)
HUGO_LIST = ("{{ range .Paginator.Pages }}<article><h2><a href='{{ .RelPermalink }}'>"
             "{{ .Title }}</a></h2><p>{{ .Date }}</p><p>{{ .Summary }}</p></article>{{ end }}")


def blog_files(files: list[tuple[str, str]], seed: int) -> list[tuple[str, str]]:
    """ssg_bench's files with a date, a summary and tags in their front matter."""
    rng = random.Random(seed)
    hours = list(range(len(files)))
    rng.shuffle(hours)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    out = []
    for (name, text), hour in zip(files, hours, strict=True):
        head, body = text.split("\n---\n", 1)
        summary = body.strip().split(". ")[0].rstrip(".") + "."
        tags = ", ".join(rng.sample(TAGS, rng.randint(1, 3)))
        date = (start + timedelta(hours=hour)).strftime("%Y-%m-%dT%H:%M:%SZ")
        out.append((name, f"{head}\ndate: \"{date}\"\nsummary: \"{summary}\"\n"
                          f"tags: [{tags}]\n---\n{body}"))
    return out


def make_ssgen_blog(root: Path, files: list[tuple[str, str]]) -> Path:
    site = make_ssgen_site(root, files)
    (site / "ssgen.toml").write_text(SSGEN_TOML)
    for name, text in TEMPLATES.items():
        (site / "templates" / name).write_text(text)
    (site / "content" / "tags").mkdir()
    for tag in TAGS:
        (site / "content" / "tags" / f"{tag}.md").write_text(
            f"---\ntitle: {tag}\n_type: tag\n---\n")
    return site


def make_hugo_blog(root: Path, files: list[tuple[str, str]]) -> Path:
    site = make_hugo_site(root, files)
    (site / "hugo.toml").write_text(HUGO_CONFIG)
    (site / "layouts" / "_default" / "list.html").write_text(HUGO_LIST)
    return site
