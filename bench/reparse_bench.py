"""The NDJSON diff a resumed new process runs against a stale snapshot's bytes.

``ssgen.sources.ndjson.diff.reparse`` of one NDJSON file (e.g. the grown starter site's
``content/dataset.ndjson``) against a copy with ``--edits`` lines retitled at random places:
the edits a snapshot misses when it is re-saved only past 64 changed documents, so the
changed region spans from the first to the last of them. Prints the CPU time of each run
and the median. ``--checkout DIR`` imports ssgen from another checkout (a
``git archive main ssgen`` folder) to compare.

    python bench/reparse_bench.py bench/out/starter-10000/content/dataset.ndjson --edits 10
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--checkout", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args()
    sys.path.insert(0, str(args.checkout.resolve()))
    from ssgen.sources.ndjson import parse_ndjson
    from ssgen.sources.ndjson.diff import reparse

    gc.disable()
    old = args.file.read_bytes()
    lines = old.split(b"\n")
    rng = random.Random(args.seed)
    for _ in range(args.edits):
        at = rng.randrange(len(lines))
        lines[at] = lines[at].replace(b'"title":"', b'"title":"Edited ', 1)
    new = b"\n".join(lines)
    previous = parse_ndjson(old, args.file.name)
    times = []
    for _ in range(args.runs):
        started = time.process_time()
        splice = reparse(previous, old, new)
        times.append(time.process_time() - started)
    assert splice is not None
    print(f"{args.checkout}: {len(old) / 1e6:.0f} MB, {args.edits} edits, region of "
          f"{len(splice.added):,} documents: reparse {statistics.median(times) * 1000:.1f} ms "
          f"CPU median ({', '.join(f'{t * 1000:.1f}' for t in times)})")


if __name__ == "__main__":
    main()
