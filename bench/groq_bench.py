"""Benchmark of the GROQ engine over generated Sanity-shaped datasets (run by hand).

    python bench/groq_bench.py [--sizes 1000,10000,100000] [--write docs/benchmarks.md]

Datasets: posts (80%), authors (10%), categories (10%), posts referencing one author and
two categories. Times (median of several runs): lookup by slug (the per-page query, index
built once beforehand), filter+projection over posts, order() of posts, the per-page
query shape with dereferences, a `*[_id in *[_type == "x"]._id]` subquery, and a join
with ^ per post. Prints a markdown table with documents per second.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ssgen.groq import Dataset, parse

NOW = datetime(2024, 1, 1, tzinfo=UTC)
QUERIES = {
    "lookup by slug": '*[_type == "post" && slug.current == $slug][0]',
    "per-page query": '*[_type == "post" && slug.current == $slug][0]'
                      '{..., author->, categories[]->}',
    "filter+projection": '*[_type == "post" && rating > 2]{_id, title, "slug": slug.current,'
                         ' rating}',
    "order()": '*[_type == "post"] | order(publishedAt desc, _id)',
    "order() page": '*[_type == "post"] | order(publishedAt desc)[0...20]{title}',
    "subquery _id in": '*[_id in *[_type == "category"]._id]._id',
    "join with ^ (authors)": '*[_type == "author"]{name, "posts": count(*[_type == "post"'
                             ' && author._ref == ^._id])}',
}


def generate(n: int, seed: int = 1) -> list[dict[str, Any]]:
    """n Sanity-shaped documents: posts, authors, categories with references."""
    rng = random.Random(seed)
    n_authors = max(1, n // 10)
    n_categories = max(1, n // 10)
    n_posts = n - n_authors - n_categories
    docs: list[dict[str, Any]] = []
    for i in range(n_authors):
        docs.append({"_id": f"author-{i}", "_type": "author", "name": f"Author {i}",
                     "slug": {"_type": "slug", "current": f"author-{i}"}})
    for i in range(n_categories):
        docs.append({"_id": f"category-{i}", "_type": "category", "title": f"Category {i}"})
    for i in range(n_posts):
        docs.append({
            "_id": f"post-{i}", "_type": "post", "title": f"Post number {i}",
            "slug": {"_type": "slug", "current": f"post-{i}"},
            "publishedAt": f"20{10 + i % 14:02d}-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00Z",
            "rating": rng.randint(0, 5),
            "author": {"_type": "reference", "_ref": f"author-{rng.randrange(n_authors)}"},
            "categories": [{"_type": "reference", "_key": str(k),
                            "_ref": f"category-{rng.randrange(n_categories)}"}
                           for k in range(2)],
            "body": [{"_type": "block", "children": [{"_type": "span", "text": "Lorem"}]}],
        })
    return docs


def median_time(fn: Callable[[], Any], budget: float = 1.0) -> float:
    """Median seconds of fn over repeated runs (at least 3, about budget seconds)."""
    times = []
    start = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < budget and len(times) < 1000):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench(size: int) -> list[tuple[str, float, int]]:
    """(query name, seconds, documents considered) for one dataset size."""
    docs = generate(size)
    t0 = time.perf_counter()
    data = Dataset(docs)
    build = time.perf_counter() - t0
    parsed = {name: parse(text) for name, text in QUERIES.items()}
    slug = f"post-{size // 2}"
    t0 = time.perf_counter()
    parsed["lookup by slug"].evaluate(data, {"slug": slug}, NOW)  # builds the slug index
    first = time.perf_counter() - t0
    rows = [("Dataset() build", build, size), ("first slug lookup (builds index)", first, size)]
    posts = len(data.of_type("post"))
    for name, query in parsed.items():
        params = {"slug": slug} if "$slug" in query.text else {}
        seconds = median_time(lambda q=query, p=params: q.evaluate(data, p, NOW),
                              budget=0.5 if size <= 10000 else 2.0)
        considered = posts if name not in ("subquery _id in",) else size
        if "join" in name:
            considered = len(data.of_type("author")) * posts
        rows.append((name, seconds, considered))
    return rows


def fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def table(sizes: list[int]) -> str:
    lines = ["| query | " + " | ".join(f"{s:,} docs" for s in sizes) + " |",
             "|---|" + "---|" * len(sizes)]
    results = {size: bench(size) for size in sizes}
    names = [name for name, _, _ in results[sizes[0]]]
    for i, name in enumerate(names):
        cells = []
        for size in sizes:
            _, seconds, considered = results[size][i]
            rate = considered / seconds if seconds else 0
            show_rate = name in ("filter+projection", "order()", "Dataset() build")
            cells.append(fmt(seconds) + (f" ({rate:,.0f} docs/s)" if show_rate else ""))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--write", type=Path, help="append the results to this markdown file")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    result = table(sizes)
    header = (f"Machine: 2 cores, Python {platform.python_version()}, "
              f"{datetime.now(UTC):%Y-%m-%d}. Median of repeated runs.\n\n")
    print(header + result)
    if args.write:
        with args.write.open("a", encoding="utf-8") as fh:
            fh.write("\n" + header + result + "\n")


if __name__ == "__main__":
    main()
