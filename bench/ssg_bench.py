"""The standard SSG benchmark: N Markdown files -> N pages, ssgen side by side with Hugo.

The files are those of zachleat/bench-framework-markdown: a five-word lorem title in the
front matter and three paragraphs of 3-7 random lorem sentences of 5-15 words each, so no
two bodies are alike; generated from ``--seed`` so every run builds the same files. The
layout is ``<title>{{title}}</title><h1>{{title}}</h1>{{body}}``. Cold builds (fresh
output and no manifest), median of ``--runs`` runs with ssgen and Hugo alternating (Hugo
first in odd rounds), wall seconds, per-page ms, CPU seconds (user + sys, workers
included), peak memory (max RSS of the build process and its workers, median of the
runs) and the ratio to Hugo timed in the same run. Hugo is Debian's ``hugo`` package,
run by hand only (not in CI).

    python bench/ssg_bench.py 1000 4000 16000 --runs 3
    python bench/ssg_bench.py 4000 --keep   # leave the sites in bench/out for profiling
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The word list of the ``lorem-ipsum`` npm package, which the benchmark's files come from.
_WORD_LIST = (
    "ad adipisicing aliqua aliquip amet anim aute cillum commodo consectetur consequat culpa "
    "cupidatat deserunt do dolor dolore duis ea eiusmod elit enim esse est et eu ex excepteur "
    "exercitation fugiat id in incididunt ipsum irure labore laboris laborum Lorem magna minim "
    "mollit nisi non nostrud nulla occaecat officia pariatur proident qui quis reprehenderit "
    "sint sit sunt tempor ullamco ut velit veniam voluptate"
)
WORDS = _WORD_LIST.split()

# The site and its Markdown source, which bench/blogsite.py's configuration shares.
SITE_TOML = """
[site]
title = "Bench"
base_url = "https://example.com"

[source]
type = "local"
files = []
markdown_dir = "content"
"""

SSGEN_TOML = SITE_TOML + """
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


def sentence(rng: random.Random) -> str:
    text = " ".join(rng.choices(WORDS, k=rng.randint(5, 15)))
    return text[0].upper() + text[1:] + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(3, 7)))


def markdown_files(files: int, seed: int) -> list[tuple[str, str]]:
    """``files`` (file name, text) pairs, the same for the same seed."""
    rng = random.Random(seed)
    out = []
    for i in range(files):
        title = " ".join(rng.choices(WORDS, k=5)).lower()
        body = "\n\n".join(paragraph(rng) for _ in range(3))
        out.append((f"{title.replace(' ', '-')}-{i}.md", f"---\ntitle: {title}\n---\n\n{body}\n"))
    return out


def make_ssgen_site(root: Path, files: list[tuple[str, str]]) -> Path:
    site = root / "ssgen"
    (site / "templates").mkdir(parents=True)
    (site / "content").mkdir()
    (site / "ssgen.toml").write_text(SSGEN_TOML)
    (site / "templates" / "page.html").write_text(SSGEN_LAYOUT)
    for name, text in files:
        (site / "content" / name).write_text(text)
    return site


def make_hugo_site(root: Path, files: list[tuple[str, str]]) -> Path:
    site = root / "hugo"
    (site / "layouts" / "_default").mkdir(parents=True)
    (site / "content" / "posts").mkdir(parents=True)
    (site / "hugo.toml").write_text(HUGO_CONFIG)
    (site / "layouts" / "_default" / "single.html").write_text(HUGO_LAYOUT)
    (site / "layouts" / "_default" / "list.html").write_text("{{ .Title }}")
    for name, text in files:
        (site / "content" / "posts" / name).write_text(text)
    return site


# The ssgen of this checkout, not whichever one the interpreter has installed.
_ROOT = Path(__file__).resolve().parent.parent


def _env(pythonpath: str) -> dict[str, str]:
    # As installed (pip writes .pyc files): never time the compiling of ssgen's sources.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPATH": pythonpath}


def compile_checkouts(pythonpath: str) -> None:
    """Write the .pyc files of every checkout on ``pythonpath`` before timing it."""
    for folder in filter(None, pythonpath.split(os.pathsep)):
        if (Path(folder) / "ssgen").is_dir():
            subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(folder) / "ssgen")],
                           check=True, env=_env(pythonpath))


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


def timed(
    cmd: list[str], cwd: Path, clean: list[Path], trash: Path, env: dict[str, str] | None = None
) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + sys, workers included) and peak RSS (MB, the
    largest of the process and its workers) of a cold run of ``cmd``."""
    set_aside(clean, trash)
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def bench(
    files: int, runs: int, workdir: Path, seed: int, paths: dict[str, str]
) -> dict[str, float]:
    """Median of ``runs`` cold builds each, ssgen and Hugo alternating (same load)."""
    root = workdir / f"ssg-{files}"
    root.mkdir(parents=True)
    trash = root / "trash"
    sources = markdown_files(files, seed)
    ssgen_site = make_ssgen_site(root, sources)
    hugo_site = make_hugo_site(root, sources) if shutil.which("hugo") else None
    del sources
    ssgen = [sys.executable, "-m", "ssgen", "-q", "build", "--full"]
    ssgen_runs, hugo_runs, base_runs = [], [], []
    out = [ssgen_site / "public", ssgen_site / ".ssgen"]
    for round_ in range(runs):
        # Odd rounds start with Hugo: each tool follows itself as often as the other one,
        # so whatever a run leaves behind (its dirty pages, its freed memory, its inodes)
        # is not always paid by the same tool.
        if hugo_site is not None and round_ % 2:
            hugo_runs.append(timed(["hugo", "--quiet"], hugo_site, [hugo_site / "public"], trash))
        ssgen_runs.append(timed(ssgen, ssgen_site, out, trash, _env(paths["ssgen"])))
        if "baseline" in paths:
            base_runs.append(timed(ssgen, ssgen_site, out, trash, _env(paths["baseline"])))
        if hugo_site is not None and not round_ % 2:
            hugo_runs.append(timed(["hugo", "--quiet"], hugo_site, [hugo_site / "public"], trash))
    pages = sum(1 for _ in (ssgen_site / "public").rglob("index.html"))
    assert pages == files, f"expected {files} pages, got {pages}"
    result = _medians("ssgen", ssgen_runs)
    if base_runs:
        result |= _medians("baseline", base_runs)
    if hugo_runs:
        result |= _medians("hugo", hugo_runs)
        ratios = sorted(s[0] / h[0] for s, h in zip(ssgen_runs, hugo_runs, strict=True))
        result["ratio_lo"], result["ratio_hi"] = ratios[0], ratios[-1]
        result["ssgen_spread"] = _spread(ssgen_runs)
        result["hugo_spread"] = _spread(hugo_runs)
        result["ssgen_min"] = min(r[0] for r in ssgen_runs)
        result["hugo_min"] = min(r[0] for r in hugo_runs)
    if EACH:
        print(f"  {files:,} files, each run's wall ms (ssgen / Hugo): " + ", ".join(
            f"{s[0] * 1e3:.0f}/{h[0] * 1e3:.0f}" if h else f"{s[0] * 1e3:.0f}"
            for s, h in zip(ssgen_runs, hugo_runs or [None] * len(ssgen_runs), strict=True)))
    return result


EACH: list[bool] = []  # --each: print every run's wall


def _medians(name: str, runs: list[tuple[float, float, float]]) -> dict[str, float]:
    return {
        f"{name}_s": statistics.median(r[0] for r in runs),
        f"{name}_cpu": statistics.median(r[1] for r in runs),
        f"{name}_rss_mb": statistics.median(r[2] for r in runs),
    }


def _spread(runs: list[tuple[float, float, float]]) -> float:
    walls = [r[0] for r in runs]
    return (max(walls) - min(walls)) / statistics.median(walls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 4000, 16000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--workdir", type=Path, default=Path("bench/out"))
    parser.add_argument("--keep", action="store_true", help="keep the generated sites")
    parser.add_argument("--baseline", help="also time the ssgen checkout in this folder")
    parser.add_argument("--path", default="", help="prepended to this checkout's PYTHONPATH")
    parser.add_argument("--each", action="store_true",
                        help="also print each run's wall and the fastest runs' ratio")
    args = parser.parse_args()
    if args.each:
        EACH.append(True)
    print(f"load average at start: {os.getloadavg()[0]:.1f}; hugo: {shutil.which('hugo')}")
    print(
        "| files | ssgen s | ms/page | ssgen CPU s | ssgen RSS MB | Hugo s | Hugo CPU s "
        "| Hugo RSS MB | ssgen/Hugo (range) | spread ssgen / Hugo |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    args.workdir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="ssg-bench-", dir=args.workdir))
    try:
        for files in args.sizes:
            paths = {"ssgen": os.pathsep.join(p for p in (args.path, str(_ROOT)) if p)}
            if args.baseline:
                paths["baseline"] = str(Path(args.baseline).resolve())
            for pythonpath in paths.values():
                compile_checkouts(pythonpath)
            report(files, bench(files, args.runs, workdir, args.seed, paths))
    finally:
        if args.keep:
            print(f"sites kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


def report(files: int, r: dict[str, float]) -> None:
    ssgen = f"{r['ssgen_s']:.2f} | {r['ssgen_s'] / files * 1000:.3f} | {r['ssgen_cpu']:.2f} | "
    ssgen += f"{r['ssgen_rss_mb']:.0f}"
    if "hugo_s" in r:
        hugo = f"{r['hugo_s']:.2f} | {r['hugo_cpu']:.2f} | {r['hugo_rss_mb']:.0f}"
        ratio = f"{r['ssgen_s'] / r['hugo_s']:.2f}x ({r['ratio_lo']:.2f}-{r['ratio_hi']:.2f})"
        spread = f"{r['ssgen_spread']:.0%} / {r['hugo_spread']:.0%}"
    else:
        hugo, ratio, spread = "- | - | -", "-", "-"
    print(f"| {files:,} | {ssgen} | {hugo} | {ratio} | {spread} |", flush=True)
    if EACH and "hugo_min" in r:
        print(f"  fastest runs: ssgen {r['ssgen_min']:.3f} s, Hugo {r['hugo_min']:.3f} s, "
              f"{r['ssgen_min'] / r['hugo_min']:.2f}x", flush=True)
    if "baseline_s" in r:
        print(f"  baseline: {r['baseline_s']:.2f} s, CPU {r['baseline_cpu']:.2f} s, "
              f"RSS {r['baseline_rss_mb']:.0f} MB", flush=True)


if __name__ == "__main__":
    main()
