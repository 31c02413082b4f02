"""``ssgen serve`` latency and throughput: webhook received -> affected page on disk.

For each dataset size, generates a site (bench/incremental_bench.py's routes and
templates over bench/gen_dataset.py's documents, local NDJSON source), builds it in
full, starts the real server on 127.0.0.1, then:

1. single webhooks: edits one post's title in the NDJSON, sends a signed Sanity
   webhook with ``?wait=1`` and times send -> reply (the reply comes after the page is
   written; the bench checks the file); p50/p99 over ``--webhooks`` edits;
2. a burst: edits ``--burst`` posts at once and sends one webhook each from 16 threads
   without waiting; times the burst until every page shows its edit, counts rebuilds;
3. while the burst rebuilds, a thread GETs a static page in a loop: GET latency.

    PYTHONPATH=. .venv/bin/python bench/serve_bench.py 2000 8000 20000 --webhooks 200
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).parent))

from incremental_bench import make_site

from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.serve.app import ServeSettings, create_app
from ssgen.serve.limits import uvicorn_config
from ssgen.serve.webhooks import sign
from ssgen.serve.worker import RebuildWorker
from ssgen.sources import open_source

SECRET = "bench-secret"


class Dataset:
    """The site's NDJSON in memory: edit post titles and write the file back."""

    def __init__(self, site: Path) -> None:
        self.path = site / "content" / "dataset.ndjson"
        self.docs = [json.loads(line) for line in self.path.read_text().splitlines() if line]
        self.posts = [i for i, d in enumerate(self.docs)
                      if d["_type"] == "post" and not d["_id"].startswith("drafts.")
                      and isinstance(d.get("slug"), dict)]
        self.round = 0

    def edit(self, count: int) -> list[dict[str, Any]]:
        """Retitle ``count`` posts; returns the edited documents."""
        self.round += 1
        edited = []
        start = (self.round * count) % len(self.posts)
        for k in range(count):
            doc = self.docs[self.posts[(start + k) % len(self.posts)]]
            doc["title"] = f"{doc['title'].split(' [')[0]} [edit {self.round}]"
            doc["_rev"] = f"rev-{self.round}"
            edited.append(doc)
        lines = (json.dumps(d, ensure_ascii=False, separators=(",", ":")) for d in self.docs)
        # Saved durably before the webhook goes out, as a CMS commits before it calls
        # one: the disk writing back 78 MB is the edit's cost, not the rebuild's.
        with self.path.open("w") as handle:
            handle.write("\n".join(lines) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return edited


def page_file(site: Path, doc: dict[str, Any]) -> Path:
    return site / "public" / "blog" / doc["slug"]["current"] / "index.html"


def webhook(client: httpx.Client, doc: dict[str, Any], wait: bool) -> httpx.Response:
    body = json.dumps({"_id": doc["_id"], "_type": doc["_type"], "_rev": doc["_rev"]}).encode()
    headers = {"content-type": "application/json", "sanity-operation": "update",
               "sanity-webhook-signature": sign(SECRET, int(time.time() * 1000), body),
               "idempotency-key": f"{doc['_id']}-{doc['_rev']}"}
    return client.post("/api/revalidate" + ("?wait=1" if wait else ""), content=body,
                       headers=headers)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def start_server(site: Path, settle: float) -> tuple[uvicorn.Server, threading.Thread, str]:
    config = load_config(site)
    worker = RebuildWorker(config, settle=settle, source=open_source(config, kept=True))
    app = create_app(worker, ServeSettings(secret=SECRET))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn_config(app))  # the limits `ssgen serve` runs with
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return server, thread, f"http://127.0.0.1:{sock.getsockname()[1]}"


def idle(client: httpx.Client) -> dict[str, Any]:
    while True:
        status: dict[str, Any] = client.get("/api/status").json()
        if status["queue_depth"] == 0 and status["state"] not in ("building", "warming") \
                and status["rebuilds"]:
            return status
        time.sleep(0.01)


def singles(client: httpx.Client, site: Path, data: Dataset,
            n: int) -> tuple[list[float], list[float]]:
    """Latencies of ``n`` single-document webhooks, and the server's round times."""
    latencies, rounds = [], []
    for _ in range(n):
        (doc,) = data.edit(1)
        started = time.perf_counter()
        reply = webhook(client, doc, wait=True)
        latencies.append(time.perf_counter() - started)
        assert reply.status_code == 200, reply.text
        rounds.append(reply.json()["seconds"])
        assert doc["title"] in page_file(site, doc).read_text(), doc["_id"]
    return latencies, rounds


def burst(client: httpx.Client, url: str, site: Path, data: Dataset,
          n: int) -> dict[str, Any]:
    before = client.get("/api/status").json()["rebuilds"]
    docs = data.edit(n)
    gets: list[float] = []
    stop = threading.Event()

    def reader() -> None:
        with httpx.Client(base_url=url) as own:
            while not stop.is_set():
                t = time.perf_counter()
                own.get(f"/blog/{docs[0]['slug']['current']}/")
                gets.append(time.perf_counter() - t)

    thread = threading.Thread(target=reader)
    thread.start()
    started = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda d: webhook(client, d, wait=False).status_code, docs))
    accepted = time.perf_counter() - started
    status = idle(client)
    done = time.perf_counter() - started
    stop.set()
    thread.join()
    assert codes == [202] * n, set(codes)
    missing = [d["_id"] for d in docs if d["title"] not in page_file(site, d).read_text()]
    assert not missing, missing[:5]
    return {"accepted_s": accepted, "done_s": done, "rebuilds": status["rebuilds"] - before,
            "get_p50": pct(gets, 0.5), "get_p99": pct(gets, 0.99), "gets": len(gets)}


def run(docs: int, workdir: Path, n_single: int, n_burst: int, settle: float) -> str:
    site = make_site(workdir, docs)
    t = time.perf_counter()
    report = build(load_config(site), full=True)
    full_s = time.perf_counter() - t
    server, thread, url = start_server(site, settle)
    try:
        with httpx.Client(base_url=url, timeout=600) as client:
            idle(client)
            data = Dataset(site)
            lat, rounds = singles(client, site, data, n_single)
            b = burst(client, url, site, data, n_burst)
    finally:
        server.should_exit = True
        thread.join()
        shutil.rmtree(site, ignore_errors=True)
    ms = [x * 1000 for x in lat]
    overhead = [(a - b) * 1000 for a, b in zip(lat, rounds, strict=True)]
    print(f"  {docs:,} docs: rebuild round (source load + build) p50 "
          f"{statistics.median(rounds) * 1000:.0f} ms; the rest (HTTP, queue fsync, "
          f"reply) p50 {statistics.median(overhead):.0f} ms", file=sys.stderr, flush=True)
    return (f"| {docs:,} | {report.rendered:,} | {full_s:.1f} | {statistics.median(ms):.0f} | "
            f"{pct(ms, 0.99):.0f} | {n_burst}: {b['accepted_s']:.2f} s accepted, "
            f"{b['done_s']:.2f} s all written, {b['rebuilds']} rebuilds | "
            f"{b['get_p50'] * 1000:.1f} / {b['get_p99'] * 1000:.1f} ms ({b['gets']} GETs) |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sizes", nargs="*", type=int, default=[2000, 8000, 20000])
    parser.add_argument("--webhooks", type=int, default=200)
    parser.add_argument("--burst", type=int, default=500)
    parser.add_argument("--settle-ms", type=int, default=50)
    parser.add_argument("--workdir", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    print("| documents | pages | full build s | webhook→page p50 ms | p99 ms | burst | "
          "static GET p50 / p99 during the burst |")
    print("|---:|---:|---:|---:|---:|---|---|")
    for docs in args.sizes:
        print(run(docs, args.workdir, args.webhooks, args.burst, args.settle_ms / 1000),
              flush=True)


if __name__ == "__main__":
    main()
