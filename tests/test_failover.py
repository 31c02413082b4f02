"""Builder failover on shared PostgreSQL state: three ``ssgen serve`` replicas take webhooks
round-robin, the building one is killed (-9) mid-rebuild several times while webhooks keep
arriving; once the shared queue drains, every change is applied, the builder's output
equals a clean full build and the bucket (moto, deployed by whichever replica built)
equals the output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from prometheus_client.parser import text_string_to_metric_families
from s3_server import S3TestServer
from servekit import SECRET, free_port, owner_status, status_of, wait_for
from sitekit import DEFAULT_TEMPLATES, author, make_site, output_files, post
from test_serve import clean_build
from test_serve_crash import SLOW_POST, TOML

from ssgen.deploy.plan import STATE_NAME

SPIN = 150_000  # a post that takes a moment to render: rebuilds can be caught running


@dataclass
class Replica:
    site: Path
    url: str
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    client: httpx.Client | None = None

    def start(self, log: Path) -> None:
        env = {**os.environ, "SSGEN_REVALIDATE_SECRET": SECRET, "SSGEN_STATE_URL": self.url,
               "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
                     "AWS_SESSION_TOKEN"):
            env.pop(name, None)
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "ssgen", "--site", str(self.site), "-v", "serve",
                 "--port", str(self.port), "--settle-ms", "0", "--log-format", "json"],
                env=env, stdout=subprocess.DEVNULL, stderr=out, start_new_session=True)
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)
        wait_for(self.up, timeout=60, what="replica start")

    def up(self) -> bool:
        assert self.client is not None and self.proc is not None
        assert self.proc.poll() is None, "replica exited"
        return status_of(self.client, "/healthz") == 200

    def builder(self) -> bool:
        assert self.client is not None
        text = self.client.get("/metrics").text
        for family in text_string_to_metric_families(text):
            if family.name == "ssgen_builder":
                return any(s.value == 1 for s in family.samples)
        return False

    def kill(self) -> None:
        assert self.proc is not None and self.client is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)
        self.client.close()


def _write(shared: Path, docs: list[dict[str, Any]]) -> None:
    """The CMS: every replica's content/ is this folder (written atomically)."""
    tmp = shared / "data.ndjson.tmp"
    tmp.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    tmp.replace(shared / "data.ndjson")


def _queue_depth(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM queue").fetchone()
        return int(row[0]) if row else 0


def test_three_replicas_survive_killing_the_builder(pg_url: str, tmp_path: Path) -> None:
    with S3TestServer() as s3:
        _failover(pg_url, tmp_path, s3)


def _deploy_toml(bucket: str, endpoint: str) -> str:
    return TOML + (f'\n[deploy]\ntarget = "s3://{bucket}/site"\nendpoint_url = "{endpoint}"\n'
                   'region = "us-east-1"\n')


def _deployed(leader: Replica) -> bool:
    assert leader.client is not None
    deploy = owner_status(leader.client)["deploy"]
    return bool(deploy["deploys"]) and deploy["owed"] == 0 and not deploy["error"]


def _failover(pg_url: str, tmp_path: Path, s3: S3TestServer) -> None:
    templates = {**DEFAULT_TEMPLATES, "post.html": SLOW_POST}
    bucket = s3.bucket()
    toml = _deploy_toml(bucket, s3.endpoint)
    docs = [author("a1", "Ada"), *[post(n, spin=SPIN) for n in range(1, 7)]]
    origin = make_site(tmp_path / "origin", docs=docs, toml=toml, templates=templates)
    shared = origin / "content"
    replicas = []
    for i in range(3):
        site = make_site(tmp_path / f"r{i}", docs=[], toml=toml, templates=templates)
        (site / "content" / "data.ndjson").unlink()
        (site / "content").rmdir()
        (site / "content").symlink_to(shared)
        replicas.append(Replica(site, pg_url))
    log = tmp_path / "replicas.log"
    kills = 0
    try:
        for replica in replicas:
            replica.start(log)
        for k in range(12):
            n = k % 6 + 1
            docs[n] = post(n, title=f"Post {n} v{k}", spin=SPIN)
            if k == 5:
                docs.append(post(7, title="Added"))
            _write(shared, docs)
            target = replicas[k % 3]
            assert target.client is not None
            reply = target.client.post(
                "/api/revalidate", json={"_id": f"p{n}", "_type": "post"},
                headers={"authorization": f"Bearer {SECRET}"})
            assert reply.status_code == 202, reply.text
            if k % 4 == 3:  # kill the builder while it rebuilds, then bring it back
                wait_for(lambda: any(r.builder() for r in replicas), what="a builder")
                victim = next(r for r in replicas if r.builder())
                assert victim.client is not None
                deadline = time.monotonic() + 2
                while (victim.client.get("/api/status").json()["state"] != "building"
                       and time.monotonic() < deadline):
                    time.sleep(0.005)
                victim.kill()
                kills += 1
                victim.start(log)
        wait_for(lambda: _queue_depth(pg_url) == 0, timeout=60, what="the queue to drain")
        wait_for(lambda: any(r.builder() for r in replicas), what="a builder")
        leader = next(r for r in replicas if r.builder())
        assert leader.client is not None
        wait_for(lambda: leader.client is not None
                 and leader.client.get("/api/status").json()["state"] == "idle"
                 and _queue_depth(pg_url) == 0, timeout=60, what="the builder idle")
        assert kills == 3
        expected = clean_build(origin, tmp_path)
        assert b"Post 6 v11" in expected["blog/post-6/index.html"]
        assert output_files(leader.site) == expected
        assert sum(r.builder() for r in replicas) == 1
        wait_for(lambda: _deployed(leader), timeout=60, what="the deploy")
        objects = s3.objects(bucket, "site/")
        objects.pop(f"site/{STATE_NAME}")
        assert objects == {f"site/{rel}": data for rel, data in expected.items()}
    finally:
        for replica in replicas:
            if replica.proc is not None and replica.proc.poll() is None:
                replica.kill()
