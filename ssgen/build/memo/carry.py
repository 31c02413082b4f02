"""The route and planner memos a source snapshot carries to the next process.

Each is a memo of pure functions of query results (a route's page specs from its items,
a paginated route's pages, each page's data hash, each feed entry's row), checked by
the identity of those results, which a kept source never mutates, or by their stamps
(``ssgen.stamp``: the items', the results' versions, the specs'), which the snapshot
keeps with them. Encoded in one go
with the source whose maintained results hold the items (``ssgen.sources.snapshot``),
the identities between them survive: a resumed process expands and hashes only the
pages whose items changed since the snapshot, however stale it is (``each``: an
``each`` route's items' params and paths, by identity). Also carried:
``ssgen.build.memo.kept``'s expansions, which stand for what the manifest recorded at
their generation rather than for a value: a new process plans, besides the pages whose
specs are new objects, every path a build planned or removed since (``pagelog``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ssgen.build.memo import datahash, each, kept
from ssgen.config.load import Config
from ssgen.render import generated
from ssgen.routes import paginate, reuse
from ssgen.routes.page import PageSpec
from ssgen.sources import Source, snapshot
from ssgen.sources.local import LocalSource, ReadInputs
from ssgen.sources.snapshot import background, codec

# The memo classes of this package a snapshot holds (see ``ssgen.sources.snapshot.codec``).
codec.allow(datahash._Known, datahash._ListHash)
# A page's hash memo is carried by its spec's stamp: not its own values (see datahash).
codec.construct(datahash._Known, lambda known: (known.spec, None, known.digest, known.lists))


def _hash_site(config: Config) -> str:
    return f"{config.site_dir}:{config.hash}"  # as ssgen.build.plan keys page hashes


def _kept_site(config: Config, perspective: str) -> str:
    return f"{config.site_dir}\0{config.hash}:{perspective}"  # as the pipeline keys kept


def export(config: Config, perspective: str) -> dict[str, Any]:
    """This process's memos for ``config``'s site."""
    return {"reuse": reuse.export(config.site), "paginate": paginate.export(config.site),
            "hashes": datahash.export(_hash_site(config)), "feeds": generated.export_feeds(),
            "kept": kept.export(_kept_site(config, perspective)), "each": each.export(config)}


def adopt(config: Config, memos: Any, perspective: str) -> None:
    """Take decoded ``export``ed memos (ignored unless of the expected form)."""
    if not isinstance(memos, dict):
        return
    kept.carry(_kept_site(config, perspective), memos.get("kept"))
    reuse.adopt(config.site, memos.get("reuse") or [])
    each.adopt(config, memos.get("each"))
    paginate.adopt(config.site, memos.get("paginate") or [])
    datahash.adopt(_hash_site(config), memos.get("hashes") or [])
    if config.feed is not None:
        generated.adopt_feed(config.feed, config.site.base_url, memos.get("feeds"))


def resume(config: Config, perspective: str,
           read: ReadInputs | Callable[[], ReadInputs] | None,
           leave: list[object] | None = None) -> LocalSource | None:
    """The snapshot's source (see ``ssgen.sources.snapshot.resume``, also for ``leave``),
    its memos adopted."""
    found = snapshot.resume(config, perspective, read, leave)
    if found is None:
        return None
    source, memos = found
    adopt(config, memos, perspective)
    return source


def keep(config: Config, source: Source | None, hash_pages: Iterable[PageSpec] = (),
         hashes: Mapping[str, str] | None = None, *, later: bool = False) -> None:
    """Save the snapshot of ``source`` with this process's memos, when worth it (also
    when this process hashed many pages the memo it resumed lacked); ``later``: a
    re-save of the snapshot ``source`` resumed is left to the process's exit
    (``background.run_deferred``: the command exits right after). ``hash_pages``: a
    full build's pages, whose data its render workers hashed, so that the next process
    finds them in the memo: with the hashes the workers took (``hashes``: path -> hash,
    ``RenderPlan.data_hashes``), hashed here only when missing there or when the page
    has long lists (the memo keeps their items' hashes)."""
    site = _hash_site(config)
    taken = hashes or {}

    def memos() -> dict[str, Any]:
        for spec in hash_pages:
            digest = taken.get(spec.path)
            if not digest or not datahash.adopt_digest(spec, site, digest):
                datahash.page_data_hash(spec, site)
        return export(config, getattr(source, "perspective", ""))

    resave = datahash.misses() > snapshot.RESAVE
    if later and isinstance(source, LocalSource) and source.resumed is not None:
        if snapshot.due(source, resave=resave):
            background.defer(lambda: snapshot.keep(config, source, memos, resave=True))
        return
    snapshot.keep(config, source, memos, resave=resave)


def keep_later(config: Config, source: Source | None, *, final: bool = False) -> bool:
    """Save the snapshot of a kept ``source`` (serve's) with this process's memos in a
    forked child, when due (``ssgen.sources.snapshot.background``; ``final``: serve
    stops, the child is waited for)."""
    perspective = getattr(source, "perspective", "")
    return background.keep_later(config, source, lambda: export(config, perspective),
                                 final=final)


__all__ = ["adopt", "export", "keep", "keep_later", "resume"]
