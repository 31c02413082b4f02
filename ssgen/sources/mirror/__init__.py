"""The Sanity mirror: a synced local copy of a dataset that the local engine builds from.

For ``[source] type = "sanity"`` (unless ``mirror = false``) every build first syncs
``.ssgen/mirror/<dataset>.ndjson`` with the dataset (``sync``: export or pages the first
time, a small delta afterwards), then reads it like a local NDJSON file, so route queries
run on the embedded engine with exact ``doc:`` traces and the manifest diffs documents
as for a local site. ``store`` owns the files, ``source`` the serve-side ``MirrorSource``
that applies webhook and Listen mutations by fetching the changed documents by id.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from ssgen.sources.inputs import snapshot_path
from ssgen.sources.mirror.store import MirrorStore

if TYPE_CHECKING:
    from ssgen.config.load import Config
    from ssgen.sources.mirror.sync import SyncOptions, SyncReport

__all__ = ["mirror_key", "mirror_store",
           "mirrored", "sync_mirror"]


def mirrored(config: Config) -> bool:
    """Whether this site builds from a mirror (a Sanity source with ``mirror`` on)."""
    return config.source.type == "sanity" and config.source.mirror


def mirror_store(config: Config) -> MirrorStore:
    """The mirror's files for this site's dataset."""
    return MirrorStore(snapshot_path(config).parent, config.source.dataset)


def mirror_key(settings: Any) -> str:
    """What a mirror is a copy of: host, project, dataset, and whether a token (drafts)
    read it; a mirror made under another key is synced afresh."""
    token = "token:" + hashlib.sha256(settings.token.encode()).hexdigest()[:12] \
        if settings.token else "anonymous"
    return f"{settings.api_host}|{settings.project_id}|{settings.dataset}|{token}"


def sync_mirror(config: Config, options: SyncOptions | None = None,
                **source_options: Any) -> SyncReport:
    """Bring the site's mirror up to date (``source_options`` go to ``SanitySource``)."""
    # Imported here: local builds never pay for the HTTP client.
    from ssgen.sources.mirror.sync import Syncer
    from ssgen.sources.sanity import SanitySource

    source = SanitySource(config, perspective="raw", use_cdn=False, **source_options)
    try:
        return Syncer(mirror_store(config), source, mirror_key(source.settings), options).run()
    finally:
        source.close()
