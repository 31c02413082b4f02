"""Benchmark of the GROQ parser (run by hand): python bench/bench_groq_parser.py

Reports the best-of-N time to parse typical route queries, the throughput over every
query of the vendored conformance suite, and the time of the static type analysis.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import time
import timeit
from pathlib import Path

from ssgen.errors import GroqSyntaxError
from ssgen.groq.analysis import scanned_types
from ssgen.groq.parser import parse

QUERIES = {
    "page by slug": '*[_type == "post" && slug.current == $slug][0]'
                    "{..., author->, categories[]->}",
    "list page": '*[_type == "post" && !(_id in path("drafts.**"))] | order(publishedAt desc)'
                 '[0...10]{_id, title, "slug": slug.current, "author": author->name, '
                 '"categories": categories[]->{title, "slug": slug.current}, publishedAt}',
    "each params": '*[_type == "category" && defined(slug.current)]{"slug": slug.current}',
    "nested": '*[_type == "author"]{name, "posts": *[_type == "post" && references(^._id)]'
              ' | order(publishedAt desc){title, "n": count(categories)}}',
}
SUITE = Path(__file__).resolve().parent.parent / "tests" / "groq" / "data" / "tests.ndjson.gz"


def best_of(func: object, number: int, repeat: int = 7) -> float:
    """Best per-call CPU time in seconds over ``repeat`` runs of ``number`` calls (CPU
    time, so that other jobs on the machine distort the figure less)."""
    runs = timeit.repeat(func, number=number, repeat=repeat,  # type: ignore[arg-type]
                         timer=time.process_time)
    return min(runs) / number


def main() -> None:
    print("query                     parse (us CPU)  scanned_types (us CPU)")
    for name, text in QUERIES.items():
        query = parse(text)
        parse_time = best_of(lambda text=text: parse(text), 2000)
        scan_time = best_of(lambda query=query: scanned_types(query), 2000)
        print(f"{name:24}  {parse_time * 1e6:14.1f}  {scan_time * 1e6:22.1f}")
    with gzip.open(SUITE, "rt", encoding="utf-8") as handle:
        cases = [json.loads(line) for line in handle]
    texts = [(c["query"], c["params"]) for c in cases if not c["filename"].startswith("perf/")]
    small = [(t, p) for t, p in texts if len(t) < 1000]
    for label, corpus in (("suite, queries < 1 KB", small), ("suite, all queries", texts)):
        chars = sum(len(t) for t, _ in corpus)
        start = time.process_time()
        for text, params in corpus:
            # Invalid suite queries are part of the corpus.
            with contextlib.suppress(GroqSyntaxError):
                parse(text, params)
        elapsed = time.process_time() - start
        print(f"{label}: {len(corpus)} queries, {chars / 1e6:.1f} MB in {elapsed:.2f} s CPU "
              f"({len(corpus) / elapsed:,.0f} queries/s, {chars / elapsed / 1e6:.1f} MB/s)")


if __name__ == "__main__":
    main()
