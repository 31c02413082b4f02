"""Two ssgen checkouts, alternated: a new `ssgen build` after a one-file edit.

newprocess_bench.py times one checkout against Hugo; on a shared machine its figures move
with the load from one run to the next. This one puts two checkouts (``--base``: a folder
holding another checkout's ``ssgen/``, e.g. from ``git archive main ssgen | tar -x -C``)
side by side: each gets its own copy of ssg_bench's varied Markdown site (each
checkout's caches in ``.ssgen/`` stay in its own format), one cold full build, one
warm-up edit (``--shape blog --edit title|date|tag``: as newprocess_bench's), then ``--runs`` rounds in which each appends a sentence to one random file
and runs `ssgen build` in a new process, interpreter start included, one after the
other (so both see the same load). Medians and spread of wall and CPU (user + sys).

    python bench/newprocess_ab.py 16000 --base /tmp/main-checkout --runs 7
"""

from __future__ import annotations

import random
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from abkit import ab_parser
from blogsite import blog_files, make_ssgen_blog
from newprocess_bench import EDITS, edit
from ssg_bench import _ROOT, _env, make_ssgen_site, markdown_files, timed


def main() -> None:
    parser = ab_parser(__doc__, "files", 16000, runs=7, seed=15)
    parser.add_argument("--shape", choices=["docs", "blog"], default="docs")
    parser.add_argument("--edit", choices=EDITS, default="body",
                        help="what each round edits (all but body: --shape blog)")
    args = parser.parse_args()
    if args.edit != "body" and args.shape != "blog":
        parser.error("--edit title, date and tag need --shape blog")
    checkouts = {"base": str(args.base.resolve()), "this": str(_ROOT)}
    sources = markdown_files(args.files, args.seed)
    if args.shape == "blog":
        sources = blog_files(sources, args.seed)
    make = make_ssgen_blog if args.shape == "blog" else make_ssgen_site
    names = [name for name, _ in sources]
    sites: dict[str, Path] = {}
    for label in checkouts:
        root = args.workdir / f"newprocess-ab-{label}-{args.files}"
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        sites[label] = make(root, sources)
    del sources
    ssgen = [sys.executable, "-m", "ssgen", "-q", "build"]
    rng = random.Random(args.seed)
    runs: dict[str, list[tuple[float, float, float]]] = {label: [] for label in checkouts}
    for round_ in range(-2, args.runs):  # -2: the full build, -1: a warm-up edit
        name = rng.choice(names)
        for label, path in checkouts.items():
            site = sites[label]
            trash = site.parent / "trash"
            if round_ == -2:
                timed([*ssgen, "--full"], site, [], trash, _env(path))
                continue
            marker = edit([site / "content" / name], round_ + 2, args.edit)
            run = timed(ssgen, site, [], trash, _env(path))
            page = site / "public" / name.removesuffix(".md") / "index.html"
            assert marker in page.read_text(), (label, name)
            if round_ >= 0:
                runs[label].append(run)
    print(f"{args.files} Markdown files ({args.shape}), one-file edit ({args.edit}), new "
          f"process, {args.runs} runs each")
    for label, rows in runs.items():
        walls, cpus = [r[0] for r in rows], [r[1] for r in rows]
        print(f"{label} ({checkouts[label]}): wall {statistics.median(walls) * 1000:.0f} ms "
              f"({min(walls) * 1000:.0f}-{max(walls) * 1000:.0f}), CPU "
              f"{statistics.median(cpus) * 1000:.0f} ms "
              f"({min(cpus) * 1000:.0f}-{max(cpus) * 1000:.0f})")
    for site in sites.values():
        shutil.rmtree(site.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
