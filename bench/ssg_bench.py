"""The standard SSG benchmark: N Markdown files -> N pages, ssgen side by side with Hugo.

Each file has a front-matter title and three lorem paragraphs; the layout is
``<title>{{title}}</title><h1>{{title}}</h1>{{body}}``. Cold builds (fresh output and
no manifest), median of ``--runs`` runs, wall seconds, per-page ms, peak memory (max RSS
of the build process and its workers) and the ratio to Hugo timed in the same run.

    python bench/ssg_bench.py 1000 4000 16000 --runs 3
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

LOREM = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
    "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure "
    "dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur."
)

SSGEN_TOML = """
[site]
title = "Bench"
base_url = "https://example.com"

[source]
type = "local"
files = []
markdown_dir = "content"

[[routes]]
name = "page"
path = "/{slug}/"
template = "page.html"
query = '*[_type == "page"]{title, "slug": slug.current, body}'
"""

SSGEN_LAYOUT = "<title>{{ page.title }}</title><h1>{{ page.title }}</h1>{{ page.body | markdown }}"
HUGO_LAYOUT = "<title>{{ .Title }}</title><h1>{{ .Title }}</h1>{{ .Content }}"
HUGO_CONFIG = (
    'baseURL = "https://example.com/"\ntitle = "Bench"\n'
    'disableKinds = ["taxonomy", "term", "RSS"]\n'
)


def markdown_file(i: int) -> str:
    body = "\n\n".join([LOREM] * 3)
    return f"---\ntitle: Page {i}\n---\n\n{body}\n"


def make_ssgen_site(root: Path, files: int) -> Path:
    site = root / "ssgen"
    (site / "templates").mkdir(parents=True)
    (site / "content").mkdir()
    (site / "ssgen.toml").write_text(SSGEN_TOML)
    (site / "templates" / "page.html").write_text(SSGEN_LAYOUT)
    for i in range(files):
        (site / "content" / f"page-{i}.md").write_text(markdown_file(i))
    return site


def make_hugo_site(root: Path, files: int) -> Path:
    site = root / "hugo"
    (site / "layouts" / "_default").mkdir(parents=True)
    (site / "content" / "posts").mkdir(parents=True)
    (site / "hugo.toml").write_text(HUGO_CONFIG)
    (site / "layouts" / "_default" / "single.html").write_text(HUGO_LAYOUT)
    (site / "layouts" / "_default" / "list.html").write_text("{{ .Title }}")
    for i in range(files):
        (site / "content" / "posts" / f"page-{i}.md").write_text(markdown_file(i))
    return site


def timed(cmd: list[str], cwd: Path, clean: list[Path]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of a cold run of ``cmd``."""
    for path in clean:
        shutil.rmtree(path, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(after, before) / 1024


def bench(files: int, runs: int, workdir: Path) -> dict[str, float]:
    root = workdir / f"ssg-{files}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    ssgen_site = make_ssgen_site(root, files)
    ssgen = [sys.executable, "-m", "ssgen", "-q", "build", "--full"]
    ssgen_runs = [
        timed(ssgen, ssgen_site, [ssgen_site / "public", ssgen_site / ".ssgen"]) for _ in range(runs)
    ]
    pages = sum(1 for _ in (ssgen_site / "public").rglob("index.html"))
    assert pages == files, f"expected {files} pages, got {pages}"
    result = {
        "ssgen_s": statistics.median(w for w, _ in ssgen_runs),
        "ssgen_rss_mb": max(m for _, m in ssgen_runs),
    }
    if shutil.which("hugo"):
        hugo_site = make_hugo_site(root, files)
        hugo_runs = [
            timed(["hugo", "--quiet"], hugo_site, [hugo_site / "public"]) for _ in range(runs)
        ]
        result["hugo_s"] = statistics.median(w for w, _ in hugo_runs)
    shutil.rmtree(root, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 4000, 16000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    print("| files | ssgen s | ms/page | peak RSS MB | Hugo s | ssgen/Hugo |")
    print("|---:|---:|---:|---:|---:|---:|")
    for files in args.sizes:
        r = bench(files, args.runs, args.workdir)
        hugo = r.get("hugo_s")
        ratio = f"{r['ssgen_s'] / hugo:.2f}x" if hugo else "-"
        hugo_text = f"{hugo:.2f}" if hugo else "-"
        print(
            f"| {files:,} | {r['ssgen_s']:.2f} | {r['ssgen_s'] / files * 1000:.3f} | "
            f"{r['ssgen_rss_mb']:.0f} | {hugo_text} | {ratio} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
