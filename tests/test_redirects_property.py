"""Property (issue 17): URLs never break. Under random slug renames, unpublishes and
republishes, applied through ``ssgen serve``'s incremental path (a signed webhook per
step), every path ever published answers 200 (a page is there), a redirect whose chain
ends at a live page (the document's current page), or 410 (its document is unpublished).

Checked after every step against ``ssgen serve`` on 127.0.0.1, and after each sequence
against the deployed bucket (moto: ``x-amz-website-redirect-location`` on the stub, or
the 410 marker), and the output must equal a clean full build given the same path history.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from deploykit import deploy_toml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from s3_server import S3TestServer, dummy_credentials
from servekit import Running, running_server, sanity_webhook
from sitekit import author, copy_history, make_site, output_files, post, write_docs

from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.deploy.sync import deploy_site
from ssgen.routes.paths import url_to_file

IDS = (1, 2, 3)
SLUGS = ("a", "b", "c", "d")
_run = itertools.count(1)

# (doc, slug or None): None unpublishes the document, a slug publishes or renames it.
STEP = st.tuples(st.sampled_from(IDS), st.one_of(st.none(), st.sampled_from(SLUGS)))


@pytest.fixture(scope="module")
def s3() -> Iterator[S3TestServer]:
    with S3TestServer() as server:
        yield server


class Model:
    """Which slug each document has now and which document last had each path."""

    def __init__(self) -> None:
        self.slugs: dict[int, str | None] = {n: f"post-{n}" for n in IDS}
        self.last: dict[str, int] = {f"/blog/post-{n}/": n for n in IDS}

    def apply(self, doc: int, slug: str | None) -> bool:
        """Apply a step; False when it would give two documents one slug (skipped)."""
        if slug is not None and any(s == slug for n, s in self.slugs.items() if n != doc):
            return False
        self.slugs[doc] = slug
        if slug is not None:
            self.last[f"/blog/{slug}/"] = doc
        return True

    def docs(self) -> list[dict[str, Any]]:
        return [author("a1", "Ada")] + [
            post(n, slug={"_type": "slug", "current": s}) for n, s in self.slugs.items() if s]

    def expected(self, path: str) -> tuple[int, str | None]:
        """(status, target) ``path`` must answer."""
        live = {f"/blog/{s}/" for s in self.slugs.values() if s}
        if path in live:
            return 200, None
        slug = self.slugs[self.last[path]]
        return (301, f"/blog/{slug}/") if slug else (410, None)


def _check_serve(srv: Running, model: Model) -> None:
    for path in sorted(model.last):
        status, target = model.expected(path)
        reply = srv.client.get(path, follow_redirects=False)
        assert reply.status_code == status, (path, reply.status_code, model.slugs)
        if status == 301:
            assert reply.headers["location"] == target
            final = srv.client.get(reply.headers["location"], follow_redirects=False)
            assert final.status_code == 200, (path, target)  # one hop: chains collapse


def _check_bucket(s3: S3TestServer, bucket: str, model: Model) -> None:
    client = s3.client()
    for path in sorted(model.last):
        status, target = model.expected(path)
        head = client.head_object(Bucket=bucket, Key=f"site/{url_to_file(path)}")
        assert head.get("WebsiteRedirectLocation") == target, path
        assert (head["Metadata"].get("ssgen-status") == "410") == (status == 410), path


def _clean_build_with_history(site: Path, clean: Path) -> dict[str, bytes]:
    shutil.rmtree(clean, ignore_errors=True)
    clean.mkdir(parents=True)
    for name in ("ssgen.toml", "templates", "content"):
        (shutil.copytree if (site / name).is_dir() else shutil.copy)(site / name, clean / name)
    copy_history(site, clean)
    build(load_config(clean), full=True)
    return output_files(clean)


@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(STEP, min_size=1, max_size=6))
def test_every_published_path_answers(steps: list[tuple[int, str | None]], s3: S3TestServer,
                                      tmp_path_factory: pytest.TempPathFactory,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    dummy_credentials(monkeypatch)
    root = tmp_path_factory.mktemp(f"redirects{next(_run)}")
    bucket = s3.bucket()
    model = Model()
    site = make_site(root, docs=model.docs(), toml=deploy_toml(bucket, s3.endpoint,
                                                                  redirects=True))
    with running_server(site) as srv:
        _check_serve(srv, model)
        for doc, slug in steps:
            published = model.slugs[doc] is not None
            if not model.apply(doc, slug):
                continue
            write_docs(site, model.docs())
            operation = "delete" if slug is None else "update" if published else "create"
            reply = sanity_webhook(srv.client, {"_id": f"p{doc}", "_type": "post"}, operation)
            assert reply.status_code == 200, reply.text
            _check_serve(srv, model)
    config = load_config(site)
    deploy_site(config)
    _check_bucket(s3, bucket, model)
    assert output_files(site) == _clean_build_with_history(site, root / "clean")
