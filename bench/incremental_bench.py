"""Incremental builds on generated Sanity-shaped sites: full build, no-op build, one edit.

For each dataset size (documents), generates the dataset with bench/gen_dataset.py, builds
the site in full, then times a no-op incremental build and an incremental build after
one post's title changed (pages rendered and files written are reported too), then the
same two builds the way ``ssgen serve`` runs them, with one loaded source kept and
reloaded between builds.

    python bench/incremental_bench.py 1000 10000 20000 100000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from gen_dataset import iter_documents, sizes_for, write_ndjson

from ssgen.build.change import Change, DocChange
from ssgen.build.pipeline import build, release_left
from ssgen.config.load import load_config
from ssgen.sources import open_source

TOML = """
[site]
title = "Bench"
base_url = "https://example.com"

[source]
type = "local"
files = ["content/dataset.ndjson"]
markdown_dir = ""
project_id = "demo1234"
dataset = "production"

[data]
settings = '*[_type == "siteSettings"][0]{title, description}'

[[routes]]
name = "post"
path = "/blog/{slug}/"
template = "post.html"
each = '*[_type == "post" && defined(slug.current)]{"slug": slug.current}'
query = '''*[_type == "post" && slug.current == $slug][0]{
  title, publishedAt, excerpt, body,
  "author": author->{name, "slug": slug.current},
  "categories": categories[]->{title, "slug": slug.current}
}'''
tags = ["post:{slug}"]

[[routes]]
name = "blog"
path = "/blog/"
template = "blog.html"
query = '*[_type == "post" && defined(slug.current)] | order(publishedAt desc){title, "slug": slug.current, publishedAt}'
paginate = 20

[[routes]]
name = "author"
path = "/authors/{slug}/"
template = "author.html"
each = '*[_type == "author" && defined(slug.current)]{"slug": slug.current}'
query = '*[_type == "author" && slug.current == $slug][0]{name, bio}'
"""

TEMPLATES = {
    "base.html": "<!doctype html><title>{% block title %}{% endblock %} · {{ data.settings.title }}"
    "</title><main>{% block content %}{% endblock %}</main>\n",
    "post.html": '{% extends "base.html" %}{% block title %}{{ page.title }}{% endblock %}'
    "{% block content %}<h1>{{ page.title }}</h1><p>{{ page.author.name }}</p>"
    "{{ page.body | portable_text }}{% endblock %}",
    "blog.html": '{% extends "base.html" %}{% block title %}Blog{% endblock %}{% block content %}'
    '{% for p in page %}<a href="/blog/{{ p.slug }}/">{{ p.title }}</a>{% endfor %}'
    "{{ paginator.number }}/{{ paginator.pages }}{% endblock %}",
    "author.html": '{% extends "base.html" %}{% block title %}{{ page.name }}{% endblock %}'
    "{% block content %}{{ page.bio | portable_text }}{% endblock %}",
}


def make_site(root: Path, docs: int) -> Path:
    site = root / f"site-{docs}"
    shutil.rmtree(site, ignore_errors=True)
    (site / "templates").mkdir(parents=True)
    (site / "ssgen.toml").write_text(TOML)
    for name, text in TEMPLATES.items():
        (site / "templates" / name).write_text(text)
    posts, authors, categories = sizes_for(docs)
    write_ndjson(iter_documents(posts, authors, categories), site / "content" / "dataset.ndjson")
    return site


def edit_one_post(site: Path, nth: int = 0) -> str:
    """Retitle the ``nth`` published post; returns its ``_id``."""
    path = site / "content" / "dataset.ndjson"
    lines = path.read_text().splitlines()
    seen = 0
    for i, line in enumerate(lines):
        doc = json.loads(line)
        if doc["_type"] == "post" and not doc["_id"].startswith("drafts."):
            if seen == nth:
                doc["title"] += " (edited)"
                lines[i] = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
                break
            seen += 1
    path.write_text("\n".join(lines) + "\n")
    return str(doc["_id"])


def timed_build(site: Path, **kwargs: object) -> tuple[float, float, object]:
    """Wall and CPU seconds (this process; a full build's workers are not counted), of a
    build run as ``ssgen build`` runs it: the loaded dataset is left for the process's
    exit (``release=False``), freed here after the clock stops."""
    start, cpu = time.perf_counter(), time.process_time()
    report = build(load_config(site), release=False, **kwargs)  # type: ignore[arg-type]
    timings = time.perf_counter() - start, time.process_time() - cpu, report
    release_left()
    return timings


def kept_source_builds(site: Path, edits: int = 9) -> tuple[float, float, float]:
    """No-op and one-edit builds the way ``ssgen serve`` runs them: one kept source,
    reloaded before each build, the change named as a webhook names it. Medians of the
    no-op, the one-edit, and the one-edit's reload (reading the edited file) alone."""
    source = open_source(load_config(site), kept=True)
    build(load_config(site), source=source)  # manifest in step with this source
    times, reloads = [], []
    for nth in range(edits):
        doc_id = edit_one_post(site, nth * 37)
        change = Change(documents=(DocChange(doc_id, "post"),))
        reload_s, total_s = timed_reload_build(site, source, change)
        times.append(total_s)
        reloads.append(reload_s)
    # A webhook for a document whose content did not change.
    noops = [timed_reload_build(site, source, change)[1] for _ in range(3)]
    return statistics.median(noops), statistics.median(times), statistics.median(reloads)


def timed_reload_build(site: Path, source: Any, change: Change) -> tuple[float, float]:
    """Seconds spent in ``reload()``, and in it plus the build."""
    start = time.perf_counter()
    source.reload()
    reloaded = time.perf_counter()
    build(load_config(site), source=source, change=change)
    return reloaded - start, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000, 20000])
    parser.add_argument("--workdir", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    print(
        "| documents | pages | full build s | no-op s (% of full) | one-edit s (% of full) "
        "| one-edit CPU s | one-edit rendered / written | kept source: no-op s | "
        "kept source: one-edit s | of which reload s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for docs in args.sizes:
        site = make_site(args.workdir, docs)
        full_s, _, full = timed_build(site, full=True)
        noop_s, _, _ = timed_build(site)
        edit_one_post(site)
        edit_s, edit_cpu, edit = timed_build(site)
        kept_noop, kept_edit, kept_reload = kept_source_builds(site)
        pages = full.rendered  # type: ignore[attr-defined]
        print(
            f"| {docs:,} | {pages:,} | {full_s:.2f} | {noop_s:.3f} ({noop_s / full_s:.1%}) | "
            f"{edit_s:.3f} ({edit_s / full_s:.1%}) | {edit_cpu:.3f} | "
            f"{edit.rendered} / {edit.written} | "  # type: ignore[attr-defined]
            f"{kept_noop:.3f} | {kept_edit:.3f} ({kept_edit / full_s:.1%}) | {kept_reload:.3f} |",
            flush=True,
        )
        shutil.rmtree(site, ignore_errors=True)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
