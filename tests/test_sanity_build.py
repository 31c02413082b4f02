"""The default site built over HTTP from the Sanity test server equals the local build.

Also: a build whose source fails midway (a 5xx storm) raises a clear error and leaves
the previous site untouched.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sanity_server import SanityTestServer

from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.errors import SourceError
from ssgen.sources.local import LocalSource
from ssgen.sources.sanity import SanitySource

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def copy_site(target: Path) -> Path:
    target.mkdir(parents=True)
    for name in ("ssgen.toml", "content", "templates", "static"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, target / name)
        elif src.exists():
            shutil.copy(src, target / name)
    return target


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def server_documents(site: Path) -> list[dict[str, Any]]:
    """What the remote dataset holds: the published documents (NDJSON + Markdown) plus the
    export's drafts, which the published perspective must hide."""
    published = LocalSource(load_config(site)).documents
    drafts = [json.loads(line) for line in (site / "content/dataset.ndjson").read_text()
              .splitlines() if line.startswith('{"_id":"drafts.')]
    return [*published, *drafts]


def remote_source(config: Any, server: SanityTestServer, **kw: Any) -> SanitySource:
    return SanitySource(config, api_host=server.url, use_cdn=False, token=None,
                        backoff_base=0.001, backoff_jitter=0.001, **kw)


@pytest.fixture(scope="module")
def local_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The default site built from the local source."""
    site = copy_site(tmp_path_factory.mktemp("local") / "site")
    build(load_config(site), now=NOW, jobs=1)
    return files(site / "public")


@pytest.fixture(scope="module")
def remote_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default site built over HTTP from the test server (copy it before changing it)."""
    site = copy_site(tmp_path_factory.mktemp("remote") / "site")
    config = load_config(site)
    with SanityTestServer(server_documents(site)) as server:
        report = build(config, now=NOW, jobs=1, source=remote_source(config, server))
        assert report.ok and len(server.log()) < len(report.new)
    return site


def copy_built(site: Path, target: Path) -> tuple[Path, Any, list[dict[str, Any]]]:
    shutil.copytree(site, target)
    return target, load_config(target), server_documents(target)


def test_default_site_from_the_server_is_byte_identical(
    local_files: dict[str, bytes], remote_site: Path
) -> None:
    assert len(local_files) > 20 and files(remote_site / "public") == local_files


def edit_ndjson(site: Path, doc_id: str, **fields: Any) -> None:
    path = site / "content/dataset.ndjson"
    docs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    docs = [{**d, **fields} if d["_id"] == doc_id else d for d in docs]
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))


def test_incremental_remote_build_equals_a_clean_local_build(remote_site: Path,
                                                             tmp_path: Path) -> None:
    site, config, docs = copy_built(remote_site, tmp_path / "remote")
    post = next(d for d in docs if d.get("_type") == "post" and "slug" in d)
    author = next(d for d in docs if d.get("_type") == "author")
    with SanityTestServer(docs) as server:
        # The server stamps a new _updatedAt (the sitemap's lastmod): the local edit too.
        edited = server.put({**post, "title": "A renamed post"})
        renamed = server.put({**author, "name": "Someone Else"})
        report = build(config, now=NOW, jobs=1, source=remote_source(config, server))
    assert not report.full and report.changed
    clean_site = copy_site(tmp_path / "clean")
    edit_ndjson(clean_site, post["_id"], title="A renamed post",
                _updatedAt=edited["_updatedAt"])
    edit_ndjson(clean_site, author["_id"], name="Someone Else", _updatedAt=renamed["_updatedAt"])
    build(load_config(clean_site), now=NOW, jobs=1)
    assert files(site / "public") == files(clean_site / "public")


@pytest.mark.parametrize("kind", ["status", "rate_limit", "drop", "truncate", "malformed"])
def test_failed_remote_build_leaves_the_last_good_site(remote_site: Path, tmp_path: Path,
                                                       kind: str) -> None:
    site, config, docs = copy_built(remote_site, tmp_path / "site")
    before = files(site / "public")
    with SanityTestServer(docs) as server:
        server.put({**next(d for d in docs if d.get("_type") == "post"), "title": "CHANGED"})
        server.inject(kind, 1000, after=3, retry_after="0")  # a few queries succeed first
        with pytest.raises(SourceError, match="gave up after 3 attempts"):
            build(config, now=NOW, jobs=1, source=remote_source(config, server, max_retries=2))
        assert len(server.log()) > 3
    assert files(site / "public") == before


def test_a_build_through_mixed_transient_faults_is_correct(local_files: dict[str, bytes],
                                                           tmp_path: Path) -> None:
    site = copy_site(tmp_path / "remote")
    config = load_config(site)
    with SanityTestServer(server_documents(site)) as server:
        for kind in ("status", "rate_limit", "drop", "truncate", "malformed"):
            server.inject(kind, 1, after=1, retry_after="0")
        report = build(config, now=NOW, jobs=1, source=remote_source(config, server))
        assert len(server.log()) > 5
    assert report.ok and files(site / "public") == local_files
