"""Profile one serve webhook round on the grown default site (cProfile, in-process).

Grows the default site like bench/starter_bench.py, runs a full build in a new process,
then drives serve's RebuildWorker in this process: a first round (loads the kept source),
then ``--rounds`` retitle-one-post rounds, printing each round's time and the cProfile
of the last one.

    .venv/bin/python bench/webhook_profile.py 2000 --rounds 3 --top 40
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from starter_bench import Dataset, grow, ssgen  # noqa: E402

from ssgen.build.change import Change, DocChange  # noqa: E402
from ssgen.config.load import load_config  # noqa: E402
from ssgen.render.environment import Renderer  # noqa: E402
from ssgen.serve.worker import RebuildWorker  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("posts", type=int)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--reuse", action="store_true", help="keep an existing grown site")
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    site = args.workdir / f"starter-{args.posts}"
    if not (args.reuse and (site / "public").is_dir()):
        site = grow(args.workdir, args.posts)
        print(f"full build: {ssgen(site, 'build', '--full'):.1f} s", flush=True)
    data = Dataset(site)
    rng = random.Random()  # a reused site already shows the titles a fixed seed gives
    worker = RebuildWorker(load_config(site), settle=0)
    started = time.perf_counter()
    worker._round()
    print(f"first round: {time.perf_counter() - started:.2f} s", flush=True)
    profile = cProfile.Profile()
    for i in range(args.rounds):
        doc = data.retitle(rng)
        worker.submit(Change(documents=(DocChange(doc["_id"], "post", rev=doc["_rev"]),)))
        started = time.perf_counter()
        if i == args.rounds - 1:
            profile.enable()
        worker._round()
        profile.disable()
        stale = [str(f) for f in data.affected(doc) if doc["title"] not in f.read_text()]
        fragments = Renderer.shared(load_config(site)).fragments
        print(f"round {i}: {(time.perf_counter() - started) * 1000:.0f} ms, fragments "
              f"{fragments.hits} hits {fragments.misses} misses {len(fragments)} kept, "
              f"{doc['_id']}"
              f"{' STALE ' + str(stale) if stale else ''}", flush=True)
    worker.stop()
    pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
