"""CPU of serve's kept source reloading the grown starter site's NDJSON after one retitle.

Runs the ssgen of ``checkout`` (this one, or another for an A/B) against the site that
bench/starter_bench.py or bench/webhook_profile.py grew (it rewrites the site's dataset,
so use a copy of it while another bench uses the site):

    .venv/bin/python bench/kept_reload_bench.py /work/main /tmp/site 1 12
    .venv/bin/python bench/kept_reload_bench.py . /tmp/site 1 12

Prints the median, least and most CPU (``time.process_time``) of the reloads after the
first, the wall median, the process's RSS and the load.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from pathlib import Path


def main() -> None:
    checkout, site = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 15
    sys.path[:0] = [str(checkout), str(Path(__file__).resolve().parent)]
    from starter_bench import Dataset

    from ssgen.config.load import load_config
    from ssgen.sources.local import LocalSource

    data = Dataset(site)
    source = LocalSource(load_config(site), kept=True)
    rng = random.Random(seed)
    cpu, wall = [], []
    for _ in range(count):
        doc = data.retitle(rng)
        began, began_wall = time.process_time(), time.perf_counter()
        source.reload()
        cpu.append((time.process_time() - began) * 1000)
        wall.append((time.perf_counter() - began_wall) * 1000)
        assert source.dataset.by_id[doc["_id"]]["title"] == doc["title"]
    cpu, wall = cpu[1:], wall[1:]  # the first re-read sets up the kept buffer
    rss = next(line.split()[1] for line in Path("/proc/self/status").read_text().splitlines()
               if line.startswith("VmRSS:"))
    print(f"{checkout}: reload CPU p50 {statistics.median(cpu):.1f} ms (min {min(cpu):.1f}, "
          f"max {max(cpu):.1f}), wall p50 {statistics.median(wall):.1f} ms; "
          f"RSS {int(rss) // 1024} MB; load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
