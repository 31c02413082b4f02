"""The standard SSG benchmark: N Markdown files -> N pages, ssgen side by side with Hugo.

Each file has a front-matter title and three lorem paragraphs; the layout is
``<title>{{title}}</title><h1>{{title}}</h1>{{body}}``. Cold builds (fresh output and
no manifest), median of ``--runs`` runs with ssgen and Hugo alternating, wall seconds,
per-page ms, CPU seconds (user + sys, workers included), peak memory (max RSS of the build
process and its workers) and the ratio to Hugo timed in the same run.

    python bench/ssg_bench.py 1000 4000 16000 --runs 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
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


def set_aside(paths: list[Path], trash: Path) -> None:
    """Move the previous run's output out of the way without deleting it.

    This VM's ext4 has no journal, so the kernel skips inodes deleted in the last minutes
    when it allocates new ones; right after an ``rm -rf`` of thousands of files every
    file the next build creates scans past them, which multiplies sys time by 5-10x for
    whichever tool runs next. Renaming is O(1); the trash is deleted once, at the end.
    """
    trash.mkdir(exist_ok=True)
    for path in paths:
        if path.exists():
            path.rename(trash / f"{len(list(trash.iterdir()))}-{path.name}")


def timed(cmd: list[str], cwd: Path, clean: list[Path], trash: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + sys, workers included) and peak RSS (MB, the
    largest of the process and its workers) of a cold run of ``cmd``."""
    set_aside(clean, trash)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def bench(files: int, runs: int, workdir: Path) -> dict[str, float]:
    """Median of ``runs`` cold builds each, ssgen and Hugo alternating (same load)."""
    root = workdir / f"ssg-{files}"
    root.mkdir(parents=True)
    trash = root / "trash"
    ssgen_site = make_ssgen_site(root, files)
    hugo_site = make_hugo_site(root, files) if shutil.which("hugo") else None
    ssgen = [sys.executable, "-m", "ssgen", "-q", "build", "--full"]
    ssgen_runs, hugo_runs = [], []
    for _ in range(runs):
        ssgen_runs.append(timed(ssgen, ssgen_site, [ssgen_site / "public", ssgen_site / ".ssgen"], trash))
        if hugo_site is not None:
            hugo_runs.append(timed(["hugo", "--quiet"], hugo_site, [hugo_site / "public"], trash))
    pages = sum(1 for _ in (ssgen_site / "public").rglob("index.html"))
    assert pages == files, f"expected {files} pages, got {pages}"
    result = {
        "ssgen_s": statistics.median(r[0] for r in ssgen_runs),
        "ssgen_cpu": statistics.median(r[1] for r in ssgen_runs),
        "ssgen_rss_mb": max(r[2] for r in ssgen_runs),
    }
    if hugo_runs:
        result["hugo_s"] = statistics.median(r[0] for r in hugo_runs)
        result["hugo_cpu"] = statistics.median(r[1] for r in hugo_runs)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 4000, 16000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    print(
        "| files | ssgen s | ms/page | ssgen CPU s | peak RSS MB | Hugo s | Hugo CPU s "
        "| ssgen/Hugo |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    args.workdir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="ssg-bench-", dir=args.workdir))
    try:
        for files in args.sizes:
            report(files, bench(files, args.runs, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


def report(files: int, r: dict[str, float]) -> None:
    hugo = r.get("hugo_s")
    ratio = f"{r['ssgen_s'] / hugo:.2f}x" if hugo else "-"
    hugo_text = f"{hugo:.2f} | {r['hugo_cpu']:.2f}" if hugo else "- | -"
    print(
        f"| {files:,} | {r['ssgen_s']:.2f} | {r['ssgen_s'] / files * 1000:.3f} | "
        f"{r['ssgen_cpu']:.2f} | {r['ssgen_rss_mb']:.0f} | {hugo_text} | {ratio} |",
        flush=True,
    )


if __name__ == "__main__":
    main()
