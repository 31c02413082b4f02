"""``MirrorSource``: the local engine over the mirror, kept current by serve.

It syncs once when opened, then answers queries like ``LocalSource`` (exact ``doc:``
traces). ``apply_change`` is serve's hook for a webhook or Listen mutation: it fetches
the changed documents (published and draft) by id, waits out replication lag against the
``_rev`` the webhook carried, and removes what the API no longer has. A kept source
(serve) then patches their lines into the bytes and view it holds, by ``_id``
(``LocalSource.replace_lines``): the snapshot on disk is written when the server is idle
or stops (``flush``), not for every webhook (700 MB at 100,000 posts). Until then its
state's ``since`` is not moved, so a delta sync (of this process or the next) fetches
every change the snapshot lacks. A source that is not kept commits the snapshot and
reloads. A change that names no document (tags, paths, everything) runs a delta sync.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ssgen.sources.local import LocalSource
from ssgen.sources.mirror import mirror_key, mirror_store
from ssgen.sources.mirror.store import Lines
from ssgen.sources.mirror.sync import Syncer, SyncOptions, SyncReport
from ssgen.sources.sanity import SanitySource
from ssgen.sources.sanity.listen import Listener, ListenEvent

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
        self.unflushed = False  # lines patched in memory that the snapshot lacks
        super().__init__(config, drafts=drafts, kept=kept)

    def sync(self) -> SyncReport:
        """A sync of the mirror (the snapshot is committed; call ``reload`` to see it)."""
        report = Syncer(self.store, self.remote, self.key, self.options).run()
        self.unflushed = False  # the reload that follows compares the new snapshot
        return report

    def flush(self) -> None:
        """Write the lines patched in memory into the snapshot (and its index), unless
        another process synced the snapshot since this source read it (its delta
        fetched those lines too; the next reload reads them). The caller holds the
        site's build lock, which such a process syncs under."""
        path = str(self.store.path)
        loaded = self.kept_parse(path)
        if not self.unflushed or loaded is None:
            return
        data, documents = loaded
        rows = [[doc["_id"], doc.get("_rev") if isinstance(doc.get("_rev"), str) else None]
                for doc in documents]
        self.store.write_snapshot(data, rows)
        self.adopt_stamp(path, data)
        self.unflushed = False

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
        state = self.store.state(self.key)
        if state is None:  # no committed mirror yet: a full sync covers the change
            self.last_sync = self.sync()
            self.reload()
            return
        fetched = self._fetch(ids, expect, attempts)
        if self._kept:
            if self.replace_lines(str(self.store.path), {
                    doc_id: fetched[doc_id][1] if doc_id in fetched else None
                    for doc_id in ids}) is not None:
                self.unflushed = True
                return
            # Not patched (the snapshot's lines were not as expected): the fetch above
            # waited for the revisions, so a delta sync brings them, and every earlier
            # change the snapshot lacks.
            self.last_sync = self.sync()
            self.reload()
            return
        lines = self.store.load()
        for doc_id in ids:
            if doc_id in fetched:
                lines[doc_id] = fetched[doc_id]
            else:
                lines.pop(doc_id, None)
        self.store.commit(lines, state)
        self.reload()

    def _fetch(self, ids: list[str], expect: dict[str, str | None], attempts: int) -> Lines:
        """The documents of ``ids`` the API has, once their revisions are those the
        webhook announced (or after ``attempts`` tries)."""
        syncer = Syncer(self.store, self.remote, self.key, self.options)
        fetched: Lines = {}
        for attempt in range(attempts):
            if attempt:
                self.sleep(min(2.0, 0.05 * 2**attempt))
            fetched.clear()
            syncer.fetch(fetched, ids)
            stale = _stale(fetched, expect)
            if not stale:
                break
            log.info("mirror: stale read (attempt %d): %s", attempt + 1, sorted(stale))
        return fetched


def _stale(lines: Lines, expect: dict[str, str | None]) -> list[str]:
    """Ids whose fetched ``_rev`` is not yet the one the webhook announced."""
    return [doc_id for doc_id, rev in expect.items()
            if lines.get(doc_id, (None, b""))[0] != rev]
