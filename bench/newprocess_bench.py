"""A new `ssgen build` process after a one-file edit, on ssg_bench's Markdown workload.

Generates N Markdown files of varied content (bench/ssg_bench.py's files, same seed), runs a
cold full build (`ssgen build --full`, which also writes `.ssgen/markdown.cache`), then
``--runs`` times: appends a sentence to one random file (in the ssgen and the Hugo copy) and
times, each in a new process, interpreter start included:

- `ssgen build` (incremental: the persisted parses of the unchanged files are reused);
- the same with `.ssgen/markdown.cache` (and `.ssgen/quick.plan`) deleted first (the cost
  without the caches);
- `hugo --quiet` (Hugo's rebuild: it has no state across processes, so a full build).

Wall seconds and CPU seconds (user + sys, workers included) per run; medians and spread.
The edited page is checked to show the new sentence after each ssgen build.
``--shape blog``: the same files as a blog (bench/blogsite.py: an index paginated by date,
tag pages, a feed; Hugo's home, tag pages and RSS), whose lists read no post's body;
``--edit title|date|tag`` edits that field of the post's front matter instead of its body
(fields the index, the tag pages or the feed read).

    python bench/newprocess_bench.py 16000 --runs 5
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from blogsite import TAGS, blog_files, make_hugo_blog, make_ssgen_blog
from ssg_bench import (
    _ROOT,
    _env,
    make_hugo_site,
    make_ssgen_site,
    markdown_files,
    timed,
)

Run = tuple[float, float, float]


EDITS = ("body", "title", "date", "tag")


def edit(paths: list[Path], round_: int, kind: str = "body") -> str:
    """Edit each of ``paths`` the same way: a sentence appended (``body``), or on a blog
    (``--shape blog``) its front matter's title, date (another half hour) or tags (one
    of the 20 added, or removed when the post has others); what its page shows after."""
    marker = f"Edited sentence number {round_}."
    for path in paths:
        text = path.read_text()
        if kind == "body":
            path.write_text(text + f"\n{marker}\n")
            continue
        head, body = text.split("\n---\n", 1)
        lines = head.split("\n")
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{kind}"))
        if kind == "title":
            marker = f"edited title {round_}"
            lines[at] = f"title: {marker}"
        elif kind == "date":
            when = datetime(2020, 1, 1, 0, 30, tzinfo=UTC) + timedelta(
                hours=(round_ * 7919 + 13) % 16000)
            marker = when.strftime("%Y-%m-%dT%H:%M:%SZ")
            lines[at] = f'date: "{marker}"'
        else:
            tags = lines[at].removeprefix("tags: [").removesuffix("]").split(", ")
            tag = TAGS[round_ % len(TAGS)]
            tags = [t for t in tags if t != tag] if tag in tags and len(tags) > 1 \
                else sorted({*tags, tag})
            marker = ", ".join(tags)
            lines[at] = f"tags: [{marker}]"
        path.write_text("\n".join(lines) + "\n---\n" + body)
    return marker


def summary(name: str, runs: list[Run]) -> str:
    walls = [r[0] for r in runs]
    cpus = [r[1] for r in runs]
    return (f"{name}: {statistics.median(walls) * 1000:.0f} ms wall "
            f"({min(walls) * 1000:.0f}-{max(walls) * 1000:.0f}), "
            f"{statistics.median(cpus) * 1000:.0f} ms CPU, {len(runs)} runs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="?", type=int, default=16000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--full-runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--workdir", type=Path, default=Path("bench/out"))
    parser.add_argument("--shape", choices=["docs", "blog"], default="docs")
    parser.add_argument("--edit", choices=EDITS, default="body",
                        help="what each round edits (all but body: --shape blog)")
    args = parser.parse_args()
    if args.edit != "body" and args.shape != "blog":
        parser.error("--edit title, date and tag need --shape blog")
    root = args.workdir / f"newprocess-{args.files}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    trash = root / "trash"
    sources = markdown_files(args.files, args.seed)
    if args.shape == "blog":
        sources = blog_files(sources, args.seed)
        site, hugo = make_ssgen_blog(root, sources), make_hugo_blog(root, sources)
    else:
        site, hugo = make_ssgen_site(root, sources), make_hugo_site(root, sources)
    names = [name for name, _ in sources]
    del sources
    env = _env(str(_ROOT))
    ssgen = [sys.executable, "-m", "ssgen", "-q", "build"]
    full = [timed([*ssgen, "--full"], site, [site / "public", site / ".ssgen"], trash, env)
            for _ in range(args.full_runs)]
    assert (site / ".ssgen" / "markdown.cache").exists()
    timed(["hugo", "--quiet"], hugo, [], trash)  # Hugo's first build (caches, public/)
    rng = random.Random(args.seed)
    cached: list[Run] = []
    uncached: list[Run] = []
    hugo_runs: list[Run] = []
    for round_ in range(args.runs):
        for runs, drop in ((cached, False), (uncached, True)):
            name = rng.choice(names)
            marker = edit([site / "content" / name, hugo / "content" / "posts" / name],
                          2 * round_ + drop, args.edit)
            if drop:  # the parse cache, and the quick plan that needs none (build.quick)
                shutil.rmtree(site / ".ssgen" / "markdown.cache", ignore_errors=True)
                for plan in ("quick.plan", "quick.plan.journal"):
                    (site / ".ssgen" / plan).unlink(missing_ok=True)
            runs.append(timed(ssgen, site, [], trash, env))
            page = site / "public" / name.removesuffix(".md") / "index.html"
            assert marker in page.read_text(), name
        hugo_runs.append(timed(["hugo", "--quiet"], hugo, [], trash))
    full_s = statistics.median(r[0] for r in full)
    one = statistics.median(r[0] for r in cached)
    hugo_s = statistics.median(r[0] for r in hugo_runs)
    print(f"{args.files} Markdown files, shape {args.shape}, edit {args.edit}")
    print(summary("full build (--full, cold)", full))
    print(summary("one-file edit, new process, with the cache", cached))
    print(summary("one-file edit, new process, cache deleted", uncached))
    print(summary("hugo rebuild after the edit", hugo_runs))
    print(f"one-file edit = {one / full_s:.1%} of the full build; Hugo's rebuild is "
          f"{hugo_s / one:.1f}x the one-file edit")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
