"""``MirrorSource``: the local engine over the mirror, kept current by serve.

It syncs once when opened, then answers queries like ``LocalSource`` (exact ``doc:``
traces). ``apply_change`` is serve's hook for a webhook or Listen mutation: it fetches
the changed documents (published and draft) by id, waits out replication lag against the
``_rev`` the webhook carried, removes what the API no longer has, commits the snapshot
and reloads (a reparse of the changed lines only). A change that names no document
(tags, paths, everything) runs a delta sync instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ssgen.sources.listen import Listener, ListenEvent
from ssgen.sources.local import LocalSource
from ssgen.sources.mirror import mirror_key, mirror_store
from ssgen.sources.mirror.store import Lines
from ssgen.sources.mirror.sync import Syncer, SyncOptions, SyncReport
from ssgen.sources.sanity import SanitySource

if TYPE_CHECKING:
    from ssgen.config.load import Config

log = logging.getLogger("ssgen.sources.mirror")


class MirrorSource(LocalSource):
    """A ``LocalSource`` over the site's mirror that can pull single documents."""

    def __init__(self, config: Config, *, drafts: bool = False, kept: bool = False,
                 sync: bool = True, options: SyncOptions | None = None,
                 sleep: Callable[[float], None] = time.sleep, **source_options: Any) -> None:
        self.remote = SanitySource(config, perspective="raw", use_cdn=False, **source_options)
        self.store = mirror_store(config)
        self.key = mirror_key(self.remote.settings)
        self.options = options or SyncOptions()
        self.sleep = sleep
        self.last_sync: SyncReport | None = self.sync() if sync else None
        super().__init__(config, drafts=drafts, kept=kept)

    def sync(self) -> SyncReport:
        """A sync of the mirror (the snapshot is committed; call ``reload`` to see it)."""
        return Syncer(self.store, self.remote, self.key, self.options).run()

    def watched_paths(self) -> list[Path]:
        """Nothing to watch: the mirror changes through ``apply_change``."""
        return []

    def listen(self, filter_query: str, on_event: Callable[[ListenEvent], None],
               resume_event_id: str | None = None, **kwargs: Any) -> Listener:
        """A Listen API subscription on the mirrored dataset."""
        return self.remote.listen(filter_query, on_event, resume_event_id, **kwargs)

    def apply_change(self, change: Any, attempts: int = 6) -> None:
        """Bring the documents ``change`` names (a ``build.change.Change``) into the mirror."""
        docs = list(getattr(change, "documents", ()))
        if not docs or getattr(change, "everything", False):
            self.last_sync = self.sync()
            self.reload()
            return
        bases = {doc.id.removeprefix("drafts.") for doc in docs}
        ids = sorted(bases | {f"drafts.{base}" for base in bases})
        expect = {doc.id: doc.rev for doc in docs if doc.rev and doc.operation != "delete"}
        lines = self.store.load() if self.store.state(self.key) is not None else None
        if lines is None:  # no committed mirror yet: a full sync covers the change
            self.last_sync = self.sync()
            self.reload()
            return
        syncer = Syncer(self.store, self.remote, self.key, self.options)
        for attempt in range(attempts):
            if attempt:
                self.sleep(min(2.0, 0.05 * 2**attempt))
            syncer.fetch(lines, ids)
            stale = _stale(lines, expect)
            if not stale:
                break
            log.info("mirror: stale read (attempt %d): %s", attempt + 1, sorted(stale))
        state = self.store.state(self.key) or {"key": self.key}
        self.store.commit(lines, state)
        self.reload()


def _stale(lines: Lines, expect: dict[str, str | None]) -> list[str]:
    """Ids whose fetched ``_rev`` is not yet the one the webhook announced."""
    return [doc_id for doc_id, rev in expect.items()
            if lines.get(doc_id, (None, b""))[0] != rev]
