"""Benchmark: syncing the Sanity mirror against the test server with 20 ms per request.

    PYTHONPATH=. .venv/bin/python bench/mirror_bench.py [docs] [latency_ms] [--runs N] [--pages]

Starts tests/sanity_server.py on 127.0.0.1 with about ``docs`` documents of the
bench/gen_dataset.py shape (drafts included, read with a token), adds ``latency_ms`` to
every request, then measures with ``ssgen.sources.mirror.sync_mirror``:
1. the first sync through the Export API (requests, wall time, documents), ``runs`` times;
2. a delta sync after one edit, and after one deletion;
3. with ``--pages``, the first sync without the Export API (paged queries).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_dataset import generate, sizes_for
from sanity_server import SanityTestServer

from ssgen.config.load import Config, load_config
from ssgen.sources.mirror import sync_mirror

TOKEN = "bench-token"


def site_for(folder: Path, server: SanityTestServer) -> Config:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "templates").mkdir(exist_ok=True)
    (folder / "ssgen.toml").write_text(
        f'[site]\ntitle = "Bench"\n\n[source]\ntype = "sanity"\nproject_id = '
        f'"{server.project_id}"\ndataset = "{server.dataset}"\napi_host = "{server.url}"\n'
        "use_cdn = false\n")
    return load_config(folder, env={"SANITY_API_TOKEN": TOKEN})


def timed_sync(config: Config, server: SanityTestServer) -> tuple[float, int, str, int]:
    """Wall seconds, requests, kind, documents; prints the client's own CPU (this thread:
    the test server answers in its threads, in the same process)."""
    server.clear_log()
    started, cpu = time.perf_counter(), time.thread_time()
    report = sync_mirror(config)
    print(f"  client CPU {time.thread_time() - cpu:.2f} s", end="; ")
    return time.perf_counter() - started, len(server.requests), report.kind, report.documents


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("docs", type=int, nargs="?", default=100_000)
    parser.add_argument("latency_ms", type=float, nargs="?", default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pages", action="store_true")
    args = parser.parse_args()
    docs = generate(*sizes_for(args.docs))
    with SanityTestServer(docs, token=TOKEN) as server, tempfile.TemporaryDirectory() as tmp:
        server.latency = args.latency_ms / 1000
        config = site_for(Path(tmp) / "site", server)
        mirror = config.state_dir / "mirror"
        times = []
        for _ in range(args.runs):
            shutil.rmtree(mirror, ignore_errors=True)
            seconds, requests, kind, count = timed_sync(config, server)
            times.append(seconds)
            print(f"first sync ({kind}): {seconds:.2f} s, {requests} requests, {count} docs")
        print(f"first sync: median {statistics.median(times):.2f} s, "
              f"min {min(times):.2f}, max {max(times):.2f} over {args.runs} runs")
        post = next(d for d in docs if d["_type"] == "post" and not d["_id"].startswith("drafts."))
        server.put(dict(post, title="Edited for the benchmark"))
        seconds, requests, kind, _ = timed_sync(config, server)
        print(f"after one edit ({kind}): {seconds:.2f} s, {requests} requests")
        server.delete(post["_id"])
        seconds, requests, kind, _ = timed_sync(config, server)
        print(f"after one deletion ({kind}): {seconds:.2f} s, {requests} requests")
        seconds, requests, kind, _ = timed_sync(config, server)
        print(f"nothing changed ({kind}): {seconds:.2f} s, {requests} requests")
        if args.pages:
            server.export_enabled = False
            shutil.rmtree(mirror, ignore_errors=True)
            seconds, requests, kind, count = timed_sync(config, server)
            print(f"first sync without export ({kind}): {seconds:.2f} s, {requests} requests, "
                  f"{count} docs")


if __name__ == "__main__":
    main()
