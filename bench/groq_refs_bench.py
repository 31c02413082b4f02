"""references() filters and a references(^._id) join against groq-js (run by hand).

    python bench/groq_refs_bench.py [--posts 20000] [--authors 200] [--categories 20]
        [--runs 5] [--js-runs N] [--groqjs DIR] [--plain] [--write docs/benchmarks.md]

Generates the bundled demo content at scale (bench/gen_dataset.py: posts with Portable
Text bodies, authors, categories, image assets, drafts) as NDJSON, loads it into an
``ssgen.groq.Dataset`` and times, with the heap frozen after loading as ``ssgen serve``
does: the first ``references()`` query (it builds the reverse-reference index), then
each query below ``--runs`` times (median, min and max; the p99 too from 100 runs).
``--groqjs DIR`` runs the same queries on the same file with groq-js (``npm install
groq-js`` in DIR, outside the repo) through bench/groq_refs_bench.mjs, ``--js-runs``
times (default ``--runs``), and checks both give the same JSON. ssgen is timed twice:
as ``serve`` repeats a query (the projections of unchanged documents kept from the last
run, memo.py) and with those memos cleared before each run (a query's first run); the
last column is groq-js's median over the latter's median, and from 100 runs also over
its p99.
``--plain`` also times ssgen without indexes (one run of the join: it scans per category).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from gen_dataset import iter_documents, write_ndjson  # noqa: E402

from ssgen.groq import Dataset, parse  # noqa: E402
from ssgen.groq.evaluate import evaluate_query  # noqa: E402

QUERIES = {
    "references($id)": '*[_type == "post" && references($id)]',
    "category -> posts join": '*[_type == "category"]{title, "posts": *[_type == "post" && '
                              'references(^._id)] | order(publishedAt desc)[0...5]{title}}',
}


# The thread's CPU seconds of each call of the last ``timed``: on a loaded machine a
# sub-millisecond query's wall p99 is a preemption (a 4 ms time slice), its CPU is not.
CPU: list[float] = []


def timed(fn: Callable[[], Any], runs: int,
          before: Callable[[], Any] | None = None) -> tuple[list[float], Any]:
    """Wall seconds of each of ``runs`` calls (``before`` runs untimed ahead of each; the
    CPU seconds go to ``CPU``), and the last result."""
    times, value = [], None
    CPU.clear()
    for _ in range(runs):
        if before is not None:
            before()
        start, cpu = time.perf_counter(), time.thread_time()
        value = fn()
        times.append(time.perf_counter() - start)
        CPU.append(time.thread_time() - cpu)
    return times, value


def js_numbers(value: Any) -> Any:
    """Integral floats as ints, as JSON.stringify writes them (0.0 -> 0)."""
    if type(value) is float and value.is_integer():
        return int(value)
    if type(value) is list:
        return [js_numbers(item) for item in value]
    if type(value) is dict:
        return {key: js_numbers(item) for key, item in value.items()}
    return value


def digest(value: Any) -> str:
    """The sha256 of the value's JSON as JSON.stringify writes it."""
    text = json.dumps(js_numbers(value), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def p99(seconds: list[float]) -> float | None:
    """The 99th percentile, from 100 samples on; None below (it would be the maximum)."""
    if len(seconds) < 100:
        return None
    return statistics.quantiles(seconds, n=100, method="inclusive")[98]


def ms(seconds: list[float]) -> str:
    """median (min–max) in milliseconds, and the p99 from 100 samples on."""
    m = [s * 1e3 for s in seconds]
    fmt = "{:.2f}" if statistics.median(m) < 10 else "{:.0f}"
    text = f"{fmt.format(statistics.median(m))} ms ({fmt.format(min(m))}–{fmt.format(max(m))})"
    high = p99(m)
    return text if high is None else f"{text}, p99 {fmt.format(high)}"


def ratio(js_ms: list[float], times: list[float]) -> str:
    """groq-js's median over ssgen's; from 100 ssgen runs also over ssgen's p99."""
    js_median = statistics.median(js_ms) / 1e3
    text = f"{js_median / statistics.median(times):,.0f}×"
    high = p99(times)
    return text if high is None else f"{text} (over ssgen's p99: {js_median / high:,.0f}×)"


def run_groqjs(directory: Path, ndjson: Path, runs: int,
               requests: dict[str, Any]) -> dict[str, Any]:
    spec = ndjson.with_suffix(".queries.json")
    spec.write_text(json.dumps(requests), encoding="utf-8")
    out = subprocess.run(["node", str(HERE / "groq_refs_bench.mjs"), str(directory),
                          str(ndjson), str(runs), str(spec)],
                         check=True, capture_output=True, text=True).stdout
    found: dict[str, Any] = json.loads(out)
    return found


def js_node_version() -> str:
    return subprocess.run(["node", "--version"], check=True, capture_output=True,
                          text=True).stdout.strip()


def bench(args: argparse.Namespace, ndjson: Path) -> list[str]:
    posts = args.posts
    docs = list(iter_documents(posts, args.authors, args.categories))
    # In _id order: groq-js's * keeps the file's order, ssgen's is _id order.
    count = write_ndjson(sorted(docs, key=lambda doc: str(doc["_id"])), ndjson)
    del docs
    start = time.perf_counter()
    with ndjson.open(encoding="utf-8") as fh:
        data = Dataset(json.loads(line) for line in fh)
    load = time.perf_counter() - start
    gc.collect()
    gc.freeze()
    categories = data.of_type("category")
    cat_id = categories[len(categories) // 2]["_id"]
    requests = {name: {"query": text, "params": {"id": cat_id} if "$id" in text else {}}
                for name, text in QUERIES.items()}
    parsed = {name: parse(req["query"]) for name, req in requests.items()}
    first, _ = timed(lambda: parsed["references($id)"].evaluate(data, {"id": cat_id}), 1)
    lines = [f"{count:,} documents ({posts:,} posts, {len(categories):,} categories); "
             f"NDJSON -> Dataset {load:.2f} s; first references() query (builds the "
             f"reverse-reference index) {first[0]:.2f} s.", "",
             "| query | ssgen | ssgen, memos cleared (wall; thread CPU) | ssgen, no index "
             "| groq-js "
             "| groq-js / ssgen (memos cleared) |",
             "|---|---|---|---|---|---|"]
    js_runs = args.js_runs or args.runs
    js_requests = {name: {**req, "runs": args.js_join_runs or js_runs} if "join" in name else req
                   for name, req in requests.items()}
    js = run_groqjs(args.groqjs, ndjson, js_runs, js_requests) if args.groqjs else None
    if js is not None:
        lines.insert(0, f"groq-js {js['version']} on node {js_node_version()}.")
    for name, req in requests.items():
        query, params = parsed[name], req["params"]
        times, value = timed(lambda q=query, p=params: q.evaluate(data, p), args.runs)
        # Without the projections kept from the previous runs (memo.py), as a new
        # process or a query run once sees it: what the ratio to groq-js is taken from.
        cold, cold_value = timed(lambda q=query, p=params: q.evaluate(data, p), args.runs,
                                 before=data.memos.clear)
        assert digest(cold_value) == digest(value), f"{name}: memos change the result"
        cold_cpu = list(CPU)
        plain = "—"
        if args.plain:
            plain_runs = 1 if "join" in name else args.runs
            plain_times, plain_value = timed(
                lambda q=query, p=params: evaluate_query(q, data, p, indexes=False), plain_runs)
            assert digest(plain_value) == digest(value), f"{name}: plain differs"
            plain = ms(plain_times)
        other, speedup = "—", "—"
        if js is not None:
            result = js["results"][name]
            same = "" if result["sha256"] == digest(value) else " (DIFFERENT RESULT)"
            other = ms([t / 1e3 for t in result["ms"]]) + same
            speedup = ratio(result["ms"], cold)
        shown = req["query"].replace("|", "\\|")
        lines.append(f"| `{shown}` | {ms(times)} | {ms(cold)}; CPU {ms(cold_cpu)} | {plain} "
                     f"| {other} "
                     f"| {speedup} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20000)
    parser.add_argument("--authors", type=int, default=200)
    parser.add_argument("--categories", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--js-runs", type=int, help="groq-js's runs (default: --runs)")
    parser.add_argument("--js-join-runs", type=int,
                        help="groq-js's runs of the join (default: --js-runs)")
    parser.add_argument("--groqjs", type=Path, help="a directory with node_modules/groq-js")
    parser.add_argument("--plain", action="store_true", help="also time without indexes")
    parser.add_argument("--write", type=Path, help="append the results to this markdown file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lines = bench(args, Path(tmp) / "dataset.ndjson")
    header = (f"Machine: {platform.machine()}, 2 cores, Python {platform.python_version()}, "
              f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; `python bench/groq_refs_bench.py "
              f"{' '.join(sys.argv[1:])}`; median (min–max) of {args.runs} runs "
              f"(groq-js: {args.js_runs or args.runs}, the join "
              f"{args.js_join_runs or args.js_runs or args.runs}); load average "
              f"{os.getloadavg()[0]:.1f} at the end.")
    text = "\n".join([header, "", *lines])
    print(text)
    if args.write:
        with args.write.open("a", encoding="utf-8") as fh:
            fh.write("\n" + text + "\n")


if __name__ == "__main__":
    main()
