"""Helpers for deploy tests: a small built site whose ``[deploy]`` points at a test bucket."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sitekit import DEFAULT_TOML, author, make_site, post, write_docs

from ssgen.build.pipeline import build
from ssgen.build.report import BuildReport
from ssgen.config.load import Config, load_config
from ssgen.manifest.store import Manifest

STATIC = {
    "css/style.css": b"body { color: #222 }\n",
    "app.3f2a9c1b.js": b"console.log('fingerprinted');\n",
    "img/logo.png": b"\x89PNG\r\n\x1a\n" + bytes(range(64)),
}
CSS_RULE = "public, max-age=600"


def deploy_toml(bucket: str, endpoint: str, extra: str = "", prefix: str = "site",
                redirects: bool = False) -> str:
    """The sitekit TOML plus a [deploy] table for ``bucket`` on ``endpoint``. The post
    route opts out of redirects unless asked: these tests count the objects a deleted
    post removes (the redirect stubs have their own tests, test_redirects*.py)."""
    toml = DEFAULT_TOML if redirects else DEFAULT_TOML.replace(
        'tags = ["post:{slug}"]', 'tags = ["post:{slug}"]\nredirects = false')
    return (
        toml
        + f"""
[deploy]
target = "s3://{bucket}/{prefix}"
endpoint_url = "{endpoint}"
region = "us-east-1"
jobs = 4
{extra}
[[deploy.cache_control]]
pattern = "css/**"
value = "{CSS_RULE}"
"""
    )


def make_deploy_site(root: Path, bucket: str, endpoint: str, extra: str = "",
                     docs: list[dict[str, Any]] | None = None) -> Path:
    """A built-ready site with static files and a [deploy] table."""
    site = make_site(root, docs=docs, toml=deploy_toml(bucket, endpoint, extra))
    for rel, data in STATIC.items():
        path = site / "static" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return site


def rebuild(site: Path, docs: list[dict[str, Any]] | None = None) -> tuple[Config, BuildReport]:
    """Optionally replace the dataset, then build; returns the config and the report."""
    if docs is not None:
        write_docs(site, docs)
    config = load_config(site)
    return config, build(config)


def default_docs(count: int = 2) -> list[dict[str, Any]]:
    """An author and ``count`` posts."""
    return [author("a1", "Ada"), *(post(n) for n in range(1, count + 1))]


def owned_files(config: Config) -> dict[str, str]:
    """relpath -> sha256 of every output file the manifest records."""
    with Manifest.open(config.state_dir / "manifest.sqlite") as manifest:
        return {rel: rec.hash for rel, rec in manifest.files().items()}


def sha(data: bytes) -> str:
    """Hex SHA-256."""
    return hashlib.sha256(data).hexdigest()
