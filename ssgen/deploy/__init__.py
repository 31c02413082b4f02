"""Deploy: upload what changed to a bucket, then purge the CDN.

``plan`` diffs the local files against the bucket's state object; ``s3`` is the store;
``purge`` the CDN hooks; ``sync`` runs a deploy. The ``[deploy]`` table is read by
``ssgen.config.deploy``. Exposes ``deploy_site``. May import build, manifest, config, errors.
"""

from ssgen.deploy.sync import deploy_site

__all__ = ["deploy_site"]
