"""Deploy: upload what changed to a bucket, then purge the CDN.

``plan`` diffs the local files against the bucket's state object; ``s3`` is the store;
``purge`` the CDN hooks; ``sync`` runs a deploy. The ``[deploy]`` table is read by
``ssgen.config.deploy``. Exposes ``deploy_site``. May import build, manifest, config, errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ssgen.deploy.sync import deploy_site

__all__ = ["deploy_site"]


def __getattr__(name: str) -> Any:
    # Lazy: the CLI registers ``ssgen deploy`` without loading boto3.
    if name in __all__:
        from ssgen.deploy import sync

        return getattr(sync, name)
    raise AttributeError(f"module 'ssgen.deploy' has no attribute {name!r}")
