"""Two ssgen checkouts, alternated: cold `ssgen build --full` of ssg_bench's varied site.

ssg_bench.py times one checkout against Hugo; on a shared machine its figures move with
the load from one run to the next. This one puts two checkouts (``--base``: a folder
holding another checkout's ``ssgen/``, e.g. from ``git archive main ssgen | tar -x -C``)
side by side on one copy of the site, one cold full build each per round (fresh output
folder and no ``.ssgen/``, the old ones moved aside as ssg_bench does), in turn, so both
see the same load. Medians, minima and spread of wall and CPU (user + sys, workers
included), and the load average before and after. ``--plain``: a plain `ssgen build`
(which writes the quick plan, ``ssgen.build.quick.remember``); ``--shape blog``: blogsite.py.

    python bench/full_ab.py 4000 --base /tmp/main-checkout --runs 9
    python bench/full_ab.py 16000 --base /tmp/main-checkout --plain   # leaves the quick plan
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from abkit import ab_parser, compiled_checkouts
from blogsite import blog_files, make_ssgen_blog
from ssg_bench import _ROOT, _env, make_ssgen_site, markdown_files, timed


def main() -> None:
    parser = ab_parser(__doc__, "files", 4000, runs=9, seed=15)
    parser.add_argument("--plain", action="store_true",
                        help="a plain `ssgen build` (which leaves the quick plan), not --full")
    parser.add_argument("--shape", choices=["docs", "blog"], default="docs")
    args = parser.parse_args()
    checkouts = compiled_checkouts(args.base, _ROOT)
    args.workdir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="full-ab-", dir=args.workdir))
    try:
        files = markdown_files(args.files, args.seed)
        site = make_ssgen_blog(root, blog_files(files, args.seed)) if args.shape == "blog" \
            else make_ssgen_site(root, files)
        trash = root / "trash"
        ssgen = [sys.executable, "-m", "ssgen", "-q", "build", *([] if args.plain else ["--full"])]
        out = [site / "public", site / ".ssgen"]
        runs: dict[str, list[tuple[float, float, float]]] = {label: [] for label in checkouts}
        print(f"{args.files} files, {args.runs} rounds; load average {os.getloadavg()[0]:.2f}")
        for round_ in range(args.runs):
            order = list(checkouts.items())
            if round_ % 2:
                order.reverse()  # neither always goes first after the other's deletions
            for label, path in order:
                runs[label].append(timed(ssgen, site, out, trash, _env(path)))
        print(f"load average at end {os.getloadavg()[0]:.2f}")
        for label, found in runs.items():
            print(f"{label}: {_summary([r[0] for r in found], 'wall')}; "
                  f"{_summary([r[1] for r in found], 'CPU')}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _summary(values: list[float], what: str) -> str:
    median = statistics.median(values)
    return (f"{what} median {median * 1000:.0f} ms [min {min(values) * 1000:.0f}, "
            f"max {max(values) * 1000:.0f}]")


if __name__ == "__main__":
    main()
