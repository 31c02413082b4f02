"""Benchmark of link checking and sitemaps at scale (issue 17, run by hand):

    PYTHONPATH=. python bench/links_bench.py --pages 100000 --runs 5 --sitemap-urls 120000

1. Link check: writes a synthetic output folder shaped like the default site grown to
   ``--pages`` posts (each post links to the home, blog, about, stylesheet, its neighbours
   with a ``#fragment``, its category, and responsive images through ``srcset``; list
   pages of 20 posts; a 404 page), runs one full check into a fresh manifest, then times
   the incremental check after a one-post edit (the post plus the list page and home it
   appears on, as a build writes them), after unpublishing a post (its neighbours and its
   list page link to it) and after a slug rename (a path disappears, another appears).
2. Sitemaps: the sitemap of ``--sitemap-urls`` pages (an index plus 50,000-URL parts),
   generated, then every file validated against the sitemaps.org XSDs
   (tests/fixtures/sitemaps) with xmlschema.

Prints wall and CPU (user+sys) seconds per run, min / median / max, and the load average.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ssgen.links import Changes, check_links
from ssgen.manifest.store import Manifest
from ssgen.render.sitemap import sitemap_files

SCHEMAS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "sitemaps"
BASE = "https://example.com"
PER_LIST = 20
IMAGES = 200


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(func: Callable[[], object]) -> tuple[float, float, object]:
    wall, used = time.perf_counter(), cpu()
    result = func()
    return time.perf_counter() - wall, cpu() - used, result


def post_html(i: int, pages: int, title: str = "") -> str:
    prev_link = f'<a href="/blog/post-{i - 1}/#comments">prev</a>' if i > 0 else ""
    next_link = f'<a href="/blog/post-{i + 1}/#comments">next</a>' if i + 1 < pages else ""
    img = i % IMAGES
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<title>Post {i}{title}</title><link rel="stylesheet" href="/css/site.css">'
        '<link rel="icon" href="/favicon.svg"><link rel="preconnect" href="https://cdn.example">'
        f'<link rel="canonical" href="{BASE}/blog/post-{i}/"></head><body>'
        '<a href="#main">Skip</a><nav><a href="/">Home</a><a href="/blog/">Blog</a>'
        '<a href="/about/">About</a></nav><main id="main">'
        f'<h1 id="title">Post {i}{title}</h1><p>by <a href="/authors/a{i % 50}/">A</a> in '
        f'<a href="/categories/c{i % 20}/">C</a></p>'
        f'<picture><source type="image/avif" srcset="/_img/{img}-480.avif 480w, '
        f'/_img/{img}-960.avif 960w"><img src="/_img/{img}-960.webp" '
        f'srcset="/_img/{img}-480.webp 480w, /_img/{img}-960.webp 960w" alt=""></picture>'
        + "<p>" + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 12 + "</p>"
        + '<h2 id="comments">Comments</h2><a href="https://github.com/">GitHub</a>'
        f"{prev_link}{next_link}</main></body></html>")


def list_html(number: int, posts: range, last: int) -> str:
    items = "".join(f'<li><a href="/blog/post-{i}/">Post {i}</a></li>' for i in posts)
    prev_page = "/blog/" if number == 2 else f"/blog/page/{number - 1}/"
    nav = (f'<a href="{prev_page}">newer</a>' if number > 1 else "") + (
        f'<a href="/blog/page/{number + 1}/">older</a>' if number < last else "")
    return (f'<!doctype html><title>Blog {number}</title><link rel="stylesheet" '
            f'href="/css/site.css"><main id="main"><ul>{items}</ul>{nav}</main>')


def list_rel(number: int) -> str:
    return "blog/index.html" if number == 1 else f"blog/page/{number}/index.html"


def write(out: Path, rel: str, text: str) -> None:
    path = out / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def make_site(out: Path, pages: int) -> None:
    lists = (pages + PER_LIST - 1) // PER_LIST
    for i in range(pages):
        write(out, f"blog/post-{i}/index.html", post_html(i, pages))
    for number in range(1, lists + 1):
        start = (number - 1) * PER_LIST
        write(out, list_rel(number), list_html(number, range(start, min(start + PER_LIST, pages)),
                                               lists))
    write(out, "index.html", list_html(1, range(0, 7), 1))
    for name in ("about", *(f"authors/a{n}" for n in range(50)),
                 *(f"categories/c{n}" for n in range(20))):
        write(out, f"{name}/index.html", '<!doctype html><a href="/">home</a>')
    write(out, "404.html", '<!doctype html><a href="/">home</a><a href="/blog/">blog</a>')
    for rel in ("css/site.css", "favicon.svg", *(f"_img/{n}-{w}.{ext}" for n in range(IMAGES)
                                                  for w in (480, 960) for ext in ("avif", "webp"))):
        write(out, rel, "x")


def report(name: str, runs: list[tuple[float, float, object]]) -> None:
    walls = [r[0] for r in runs]
    cpus = [r[1] for r in runs]
    print(f"{name:34} wall min {min(walls):.3f} median {statistics.median(walls):.3f} "
          f"max {max(walls):.3f} s | cpu min {min(cpus):.3f} median "
          f"{statistics.median(cpus):.3f} s | runs {len(runs)}")


def bench_links(root: Path, pages: int, runs: int) -> None:
    out = root / "public"
    wall, used, _ = timed(lambda: make_site(out, pages))
    print(f"site: {pages} posts, {sum(1 for _ in out.rglob('*.html'))} HTML files "
          f"written in {wall:.1f} s")
    manifest = Manifest.open(root / "manifest.sqlite")
    wall, used, full = timed(lambda: check_links(out, manifest, BASE))
    print(f"full check: {full.checked} files, {len(full.broken)} broken, "  # type: ignore[attr-defined]
          f"wall {wall:.1f} s, cpu {used:.1f} s, load {os.getloadavg()}")
    assert full.ok, full.broken[:3]  # type: ignore[attr-defined]
    middle = pages // 2
    edits = []
    for run in range(runs):
        rel = f"blog/post-{middle}/index.html"
        write(out, rel, post_html(middle, pages, f" (edit {run})"))
        write(out, "index.html", list_html(1, range(0, 7), 1) + f"<!-- {run} -->")
        write(out, list_rel(middle // PER_LIST + 1), list_html(
            middle // PER_LIST + 1, range(middle - middle % PER_LIST,
                                          middle - middle % PER_LIST + PER_LIST), 2) + str(run))
        changes = Changes(written=frozenset({rel, "index.html",
                                             list_rel(middle // PER_LIST + 1)}))
        edits.append(timed(lambda c=changes: check_links(out, manifest, BASE, changes=c)))
        assert edits[-1][2].total >= pages  # type: ignore[attr-defined]
    report("incremental check, one-post edit", edits)
    print(f"  files re-checked: {edits[-1][2].checked}")  # type: ignore[attr-defined]
    removals, renames = [], []
    for run in range(runs):
        victim = 10 + run * 3
        (out / f"blog/post-{victim}/index.html").unlink()
        changes = Changes(removed=frozenset({f"blog/post-{victim}/index.html"}))
        removals.append(timed(lambda c=changes: check_links(out, manifest, BASE, changes=c)))
        write(out, f"blog/post-{victim}/index.html", post_html(victim, pages))  # back
        back = Changes(written=frozenset({f"blog/post-{victim}/index.html"}),
                       appeared=frozenset({f"blog/post-{victim}/index.html"}))
        check_links(out, manifest, BASE, changes=back)
        old, new = f"blog/post-{victim + 1}/index.html", f"blog/renamed-{run}/index.html"
        (out / new).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(out / old, out / new)
        changes = Changes(written=frozenset({new}), appeared=frozenset({new}),
                          removed=frozenset({old}))
        renames.append(timed(lambda c=changes: check_links(out, manifest, BASE, changes=c)))
        shutil.move(out / new, out / old)
        check_links(out, manifest, BASE, changes=Changes(
            written=frozenset({old}), appeared=frozenset({old}), removed=frozenset({new})))
    report("incremental check, unpublish", removals)
    print(f"  files re-checked: {removals[-1][2].checked}, broken "  # type: ignore[attr-defined]
          f"{len(removals[-1][2].broken)}")  # type: ignore[attr-defined]
    report("incremental check, slug rename", renames)
    manifest.close()


def bench_sitemap(urls: int, runs: int) -> None:
    import xmlschema

    entries = {f"{BASE}/blog/post-{i}/": f"2024-{i % 12 + 1:02}-01T00:00:00Z"
               for i in range(urls)}
    generated = [timed(lambda: sitemap_files(entries, BASE)) for _ in range(runs)]
    files: dict[str, bytes] = generated[-1][2]  # type: ignore[assignment]
    report(f"sitemap of {urls} URLs: generate", generated)
    sizes = ", ".join(f"{name} {len(data) / 1e6:.1f} MB" for name, data in sorted(files.items()))
    print(f"  files: {sizes}")
    urlset = xmlschema.XMLSchema(SCHEMAS / "sitemap.xsd")
    index = xmlschema.XMLSchema(SCHEMAS / "siteindex.xsd")

    def validate() -> int:
        if len(files) == 1:
            urlset.validate(files["sitemap.xml"].decode())
            return files["sitemap.xml"].count(b"<url>")
        index.validate(files["sitemap.xml"].decode())
        count = 0
        for name, data in files.items():
            if name != "sitemap.xml":
                urlset.validate(data.decode())
                count += data.count(b"<url>")
        return count

    wall, used, count = timed(validate)
    assert count == urls, count
    print(f"  valid against sitemap.xsd / siteindex.xsd: {count} URLs in {len(files) - 1} "
          f"parts + index; validation wall {wall:.1f} s, cpu {used:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sitemap-urls", type=int, default=120_000)
    parser.add_argument("--skip-links", action="store_true")
    args = parser.parse_args()
    print(f"load before: {os.getloadavg()}")
    if not args.skip_links:
        root = Path(tempfile.mkdtemp(prefix="ssgen-links-bench-"))
        try:
            bench_links(root, args.pages, args.runs)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    if args.sitemap_urls:
        bench_sitemap(args.sitemap_urls, args.runs)
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
