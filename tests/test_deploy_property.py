"""Property: after any sequence of output changes, interrupted deploys and re-runs, the
bucket mirrors the output exactly and the next deploy uploads nothing (moto on 127.0.0.1).

The site is written directly (output files plus the manifest that records them), which is
all ``deploy_site`` reads, so each example costs requests rather than renders.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from s3_server import S3TestServer, dummy_credentials

from ssgen.build.output import sha256
from ssgen.config.load import Config, load_config
from ssgen.deploy.plan import STATE_NAME
from ssgen.deploy.s3 import S3Store
from ssgen.deploy.sync import deploy_site
from ssgen.errors import DeployError
from ssgen.manifest.store import Manifest

_RELS = ["index.html", "a/index.html", "a/b/index.html", "c/index.html", "s.css",
         "img/x.png", "app.0123abcd.js", "sitemap.xml"]
_KINDS = {"s.css": "static", "img/x.png": "static", "app.0123abcd.js": "static",
          "sitemap.xml": "generated"}
_run = itertools.count(1)

# One step: the new content of some files (None deletes), and how the deploy runs.
_STEP = st.tuples(
    st.dictionaries(st.sampled_from(_RELS), st.one_of(st.none(), st.binary(max_size=40)),
                    max_size=4),
    st.sampled_from(["plain", "changes", "interrupted"]),
    st.integers(min_value=0, max_value=3),
)


@pytest.fixture(scope="module")
def s3() -> Iterator[S3TestServer]:
    with S3TestServer() as server:
        yield server


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("deploy-property")


def _apply(site: Path, edits: dict[str, bytes | None]) -> dict[str, list[str]]:
    changes: dict[str, list[str]] = {"new": [], "changed": [], "deleted": []}
    with Manifest.open(site / ".ssgen" / "manifest.sqlite") as manifest:
        owned = manifest.files()
        for rel, data in edits.items():
            path = site / "public" / rel
            if data is None:
                if rel in owned:
                    path.unlink()
                    manifest.remove_file(rel)
                    changes["deleted"].append(rel)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            manifest.set_file(rel, sha256(data), _KINDS.get(rel, "page"))
            changes["changed" if rel in owned else "new"].append(rel)
    return changes


class _Fail:
    """Lets ``after`` site uploads through, then fails every one like a dropped link."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.done = 0

    def __call__(self, params: dict[str, Any], **_: Any) -> None:
        if params["Key"].endswith(STATE_NAME):
            return
        if self.done == self.after:
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1/injected")
        self.done += 1


def _interrupted_deploy(config: Config, fail_after: int) -> _Fail:
    assert config.deploy is not None and config.deploy.target is not None
    store = S3Store.connect(config.deploy, config.deploy.target, jobs=1)
    fail = _Fail(fail_after)
    store.client.meta.events.register("provide-client-params.s3.PutObject", fail)
    with contextlib.suppress(DeployError):
        deploy_site(config, store=store, jobs=1, batch=1, delete=True)
    return fail


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(_STEP, min_size=1, max_size=4))
def test_bucket_mirrors_output_after_any_sequence(
        s3: S3TestServer, root: Path, monkeypatch: pytest.MonkeyPatch,
        steps: list[tuple[dict[str, bytes | None], str, int]]) -> None:
    dummy_credentials(monkeypatch)
    bucket = s3.bucket("prop")
    site = root / f"site-{next(_run)}"
    (site / "public").mkdir(parents=True)
    (site / "ssgen.toml").write_text(
        f'[site]\nbase_url = "https://example.com"\n[deploy]\ntarget = "s3://{bucket}/w"\n'
        f'endpoint_url = "{s3.endpoint}"\nregion = "us-east-1"\njobs = 2\n')
    config = load_config(site)
    _apply(site, {"index.html": b"home"})
    for edits, mode, fail_after in steps:
        changes = _apply(site, edits)
        if not (site / "public" / "index.html").exists():
            _apply(site, {"index.html": b"home again"})  # a deploy needs a non-empty site
        if mode == "interrupted":
            planned = len(deploy_site(config, dry_run=True, delete=True).uploaded)
            fail = _interrupted_deploy(config, fail_after)
            report = deploy_site(config, delete=True)
            assert len(report.uploaded) == planned - fail.done  # nothing uploaded twice
        else:
            deploy_site(config, changes=changes if mode == "changes" else None, delete=True)
        local = {p.relative_to(site / "public").as_posix(): p.read_bytes()
                 for p in (site / "public").rglob("*") if p.is_file()}
        objects = s3.objects(bucket, "w/")
        remote = {key[2:]: body for key, body in objects.items() if key != f"w/{STATE_NAME}"}
        assert remote == local
        again = deploy_site(config, delete=True)
        assert again.uploaded == [] and again.deleted == []
