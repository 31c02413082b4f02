"""Deploy benchmark: a 10,000-file site and a one-page change against moto (S3 protocol).

Run by hand: PYTHONPATH=. .venv/bin/python bench/deploy_bench.py [FILES] [JOBS]
(defaults 10000 files, 8 parallel uploads). moto runs as a separate process
(``moto_server`` on 127.0.0.1) so its request handling does not share the GIL with the
client. The site is synthetic: output files plus a manifest recording them, which is all
``deploy_site`` reads. Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import boto3

from ssgen.build.output import sha256
from ssgen.config.load import load_config
from ssgen.deploy.sync import DeployReport, deploy_site
from ssgen.manifest.store import Manifest

PAGE_BYTES = 6000
STATIC_SHARE = 10  # one file in ten is a static asset


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_moto(port: int) -> subprocess.Popen[bytes]:
    moto = Path(sys.executable).parent / "moto_server"
    proc = subprocess.Popen([str(moto), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("moto_server did not start")


def page(i: int, salt: str = "") -> bytes:
    head = f"<!doctype html><title>Page {i}{salt}</title><main><h1>Page {i}{salt}</h1>"
    return (head + "<p>lorem ipsum dolor sit amet</p>" * (PAGE_BYTES // 33)).encode()


def make_site(root: Path, files: int, endpoint: str, jobs: int) -> Path:
    (root / "ssgen.toml").write_text(
        f'[site]\nbase_url = "https://example.com"\n[deploy]\ntarget = "s3://bench/site"\n'
        f'endpoint_url = "{endpoint}"\nregion = "us-east-1"\njobs = {jobs}\n')
    entries = []
    for i in range(files):
        if i % STATIC_SHARE == 0:
            rel, data, kind = f"assets/a{i}.{i:08x}.css", f"a{i}{{}}\n".encode() * 40, "static"
        else:
            rel, data, kind = f"p/{i}/index.html", page(i), "page"
        entries.append((rel, data, kind))
    entries.append(("sitemap.xml", b"<urlset/>", "generated"))
    for rel, data, _ in entries:
        path = root / "public" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    with Manifest.open(root / ".ssgen" / "manifest.sqlite") as manifest:
        manifest.set_files((rel, sha256(data), kind) for rel, data, kind in entries)
    return root


def change_one_page(root: Path, salt: str) -> dict[str, list[str]]:
    rel, data = "p/1/index.html", page(1, salt)
    (root / "public" / rel).write_bytes(data)
    with Manifest.open(root / ".ssgen" / "manifest.sqlite") as manifest:
        manifest.set_file(rel, sha256(data), "page")
    return {"new": [], "changed": [rel], "deleted": []}


def show(label: str, run: Callable[[], DeployReport]) -> None:
    """Run one deploy; print wall time, this process's CPU time, requests by operation."""
    cpu = time.process_time()
    report = run()
    cpu = time.process_time() - cpu
    ops = ", ".join(f"{op} {n}" for op, n in report.requests_by_operation.items())
    print(f"{label:<40} {report.seconds:7.2f} s wall {cpu:6.2f} s cpu {report.requests:6d} "
          f"requests, uploaded {len(report.uploaded):5d} ({ops})")


def main() -> None:
    files = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    jobs = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    for name, value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ[name] = value
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    proc = start_moto(port)
    try:
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="bench")
        with tempfile.TemporaryDirectory() as tmp:
            root = make_site(Path(tmp), files, endpoint, jobs)
            print(f"-- {files + 1:,} files ({files // STATIC_SHARE:,} static), {jobs} jobs")
            config = load_config(root)
            show("first deploy (everything)", lambda: deploy_site(config))
            show("second deploy (nothing changed)", lambda: deploy_site(config))
            change_one_page(root, " (edited)")
            show("one-page change (listing)", lambda: deploy_site(config))
            changes = change_one_page(root, " (again)")
            show("one-page change (changes=, no listing)",
                 lambda: deploy_site(config, changes=changes))
            client = boto3.client("s3", endpoint_url=endpoint)
            client.delete_object(Bucket="bench", Key="site/.ssgen-deploy.json")
            show("state object lost (HEAD repair)", lambda: deploy_site(config))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
