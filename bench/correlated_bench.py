"""The author and category routes' query kept up to date after one post edit (run by hand).

    python bench/correlated_bench.py 10000 [--edits 200] [--ssgen DIR]

Grows the default site's dataset like bench/starter_bench.py (posts cloned to N with fresh
ids, slugs and dates; its 5 authors and 6 categories kept), loads the published documents
into an ``ssgen.groq.Dataset`` and keeps, as serve's kept source does, one
``MaintainedQuery`` per author and per category page (the routes' per-page query with
``$slug``). Then ``--edits`` one-post edits, in turn: a retitle, a new ``publishedAt``
(the post moves in the order) and a move to another author; after each,
``Dataset.update`` and the time to bring every affected page's query up to date (the
post's old and new author, its categories). The figures are per affected query: median,
p90 and max of wall time, and the CPU time of all the updates; then a full evaluation of
the largest author's query (5 runs) for scale. ``--ssgen DIR`` imports
ssgen from another checkout (e.g. main before this change) for a before/after pair; the
results are checked against a full evaluation every 25 edits.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _route_queries(ssgen_root: Path) -> dict[str, str]:
    import tomllib

    routes = tomllib.loads((ssgen_root / "ssgen.toml").read_text())["routes"]
    return {route["name"]: route["query"] for route in routes
            if route["name"] in ("author", "category")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("posts", type=int)
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--ssgen", type=Path, default=ROOT)
    args = parser.parse_args()
    sys.path.insert(0, str(args.ssgen))
    import ssgen  # first: starter_bench puts this checkout on sys.path too

    sys.path.insert(1, str(ROOT / "bench"))
    from starter_bench import grow

    from ssgen.groq import Dataset, parse
    from ssgen.groq.maintained import MaintainedQuery, shape_of

    print(f"ssgen from {Path(ssgen.__file__).parent}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        site = grow(Path(tmp), args.posts)
        lines = (site / "content" / "dataset.ndjson").read_text().splitlines()
    docs = [doc for line in lines if line.strip()
            if not (doc := json.loads(line))["_id"].startswith(("drafts.", "versions."))]
    dataset = Dataset(docs)
    now = "2026-01-01T00:00:00Z"
    kept: dict[str, Any] = {}  # outer _id -> (query, params, MaintainedQuery)
    started = time.perf_counter()
    for route, text in _route_queries(ROOT).items():
        query = parse(text)
        shape = shape_of(query)
        assert shape is not None
        for outer in dataset.of_type(route):
            params = {"slug": outer["slug"]["current"]}
            maintained = MaintainedQuery(query, shape, params)
            maintained.evaluate(dataset, None, now)
            kept[outer["_id"]] = (query, params, maintained)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(kept)} pages' queries kept in {time.perf_counter() - started:.2f} s "
          f"(peak RSS {rss:.0f} MB)", flush=True)
    gc.freeze()
    rng = random.Random(14)
    posts = [doc["_id"] for doc in dataset.of_type("post")]
    authors = [doc["_id"] for doc in dataset.of_type("author")]
    times: dict[str, list[float]] = {"retitle": [], "re-date": [], "author move": []}
    cpu = 0.0
    for i in range(args.edits):
        doc_id = rng.choice(posts)
        old = dataset.by_id[doc_id]
        kind = list(times)[i % 3]
        new = dict(old)
        if kind == "retitle":
            new["title"] = f"{old['title']} [edit {i}]"
        elif kind == "re-date":
            new["publishedAt"] = f"20{rng.randint(15, 25)}-0{rng.randint(1, 9)}-1{i % 10}T00:00:00Z"
        else:
            new["author"] = {"_type": "reference", "_ref": rng.choice(authors)}
        dataset.update({doc_id: new})
        reached = {old["author"]["_ref"], new["author"]["_ref"]}
        reached |= {ref["_ref"] for doc in (old, new) for ref in doc.get("categories") or []}
        for outer_id in sorted(reached & kept.keys()):
            query, params, maintained = kept[outer_id]
            start, start_cpu = time.perf_counter(), time.process_time()
            value, _ = maintained.evaluate(dataset, frozenset({doc_id}), now)
            times[kind].append(time.perf_counter() - start)
            cpu += time.process_time() - start_cpu
            if i % 25 == 0:
                assert value == query.evaluate(dataset, params, now), (outer_id, doc_id)
    every = [t for values in times.values() for t in values]
    for kind, values in [*times.items(), ("all", every)]:
        values.sort()
        print(f"{kind:<12} {len(values):4} queries  median {statistics.median(values) * 1000:7.2f} ms"
              f"  p90 {values[int(len(values) * 0.9)] * 1000:7.2f} ms  max {values[-1] * 1000:7.2f} ms",
              flush=True)
    print(f"CPU time of the {len(every)} updates: {cpu * 1000:.0f} ms "
          f"({cpu * 1000 / len(every):.2f} ms each)", flush=True)
    biggest = max(authors, key=lambda a: len(dataset.referrers(a)))
    query, params, _ = kept[biggest]
    full = []
    for _ in range(5):
        start = time.perf_counter()
        query.evaluate(dataset, params, now)
        full.append(time.perf_counter() - start)
    print(f"a full evaluation of the query of the author with most posts "
          f"({len(dataset.referrers(biggest))}): median {statistics.median(full) * 1000:.1f} ms"
          f" (min {min(full) * 1000:.1f}, max {max(full) * 1000:.1f}, 5 runs)", flush=True)


if __name__ == "__main__":
    main()
