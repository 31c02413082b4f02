"""The first new processes after ``ssgen serve``, two checkouts alternated on the grown
starter site (issue 14: the snapshot serve leaves).

Uses the two site copies ``bench/snapshot_ab.py`` made (run it first, same ``--workdir``
and size). Per round and checkout: the site's snapshot removed (what a full build and a
server leave in a checkout that saves none), ``ssgen serve`` started, two signed webhooks
``--gap`` seconds apart (one post retitled before each), serve stopped once no child of
it is left (a forked snapshot save), then one post retitled and ``ssgen revalidate --doc
ID`` timed, and another retitled and ``ssgen build`` timed. Interpreter start included.
CPU (user + sys) and wall medians with spread, the load average, whether serve left a
snapshot.

    python bench/after_serve_ab.py 10000 --base /tmp/main-checkout --runs 2
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
import starter_bench
from abkit import ab_parser
from snapshot_ab import run, spread
from starter_bench import ROOT, Dataset, serve, webhook


def children(pid: int) -> list[str]:
    """The child processes of ``pid`` (Linux /proc)."""
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


def served(checkout: str, site: Path, data: Dataset, rng: random.Random, gap: float) -> bool:
    """Serve ``site`` with ``checkout`` through two webhooks; whether it left a snapshot."""
    snapshot = site / ".ssgen" / "source.snapshot"
    snapshot.unlink(missing_ok=True)
    starter_bench.ENV = {**os.environ, "PYTHONPATH": checkout}
    process, url = serve(site)
    try:
        with httpx.Client(base_url=url, timeout=600) as client:
            for index in range(2):
                if index:
                    time.sleep(gap)
                reply = webhook(client, data.retitle(rng))
                if reply.status_code != 200:
                    raise SystemExit(f"webhook answered {reply.status_code}: {reply.text}")
        deadline = time.monotonic() + 600
        while children(process.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(60)
    return snapshot.exists()


def main() -> None:
    parser = ab_parser(__doc__, "posts", 10000, runs=2, seed=15)
    parser.add_argument("--gap", type=float, default=11.0,
                        help="seconds between the two webhooks (past the save throttle)")
    args = parser.parse_args()
    checkouts = {"base": str(args.base.resolve()), "this": str(ROOT)}
    site = args.workdir.resolve() / f"starter-{args.posts}"
    sites = {"this": site, "base": site.with_name(site.name + "-base")}
    data = {label: Dataset(path) for label, path in sites.items()}
    rng = random.Random(args.seed)
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    loads: list[float] = []
    for _ in range(args.runs):
        for label, checkout in checkouts.items():
            left = served(checkout, sites[label], data[label], rng, args.gap)
            print(f"{label}: serve left a snapshot: {left}", flush=True)
            loads.append(os.getloadavg()[0])
            doc = data[label].retitle(rng)
            times.setdefault((label, "revalidate"), []).append(
                run(checkout, sites[label], "revalidate", "--doc", doc["_id"]))
            data[label].retitle(rng)
            times.setdefault((label, "build"), []).append(run(checkout, sites[label], "build"))
    print(f"load average during the rounds: {min(loads):.1f}-{max(loads):.1f}")
    print("| first process after serve | checkout | CPU median (min-max) | wall median (min-max) |")
    print("|---|---|---:|---:|")
    for (label, command), values in sorted(times.items(), key=lambda kv: kv[0][::-1]):
        print(f"| {command} | {label} | {spread([v[0] for v in values])} | "
              f"{spread([v[1] for v in values])} |")
    print(f"runs: {statistics.mean(len(v) for v in times.values()):.0f} per cell")


if __name__ == "__main__":
    main()
