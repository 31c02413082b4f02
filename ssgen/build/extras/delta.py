"""What a build hands the site files' memos so that a serve round costs what it changed:
the sitemap's page set and lastmods and the feed's entries as a change of the last
round's, and the generated files this process recorded left alone while they are intact.

The proof that the rest is unchanged: a build reads the manifest's pages generation
before it plans (``Since``, with the build's number among this process's builds of the
site), and the memos are marked with the generation their last call left (after that
build recorded its pages) and the next build's number. Both equal: no other build of the
site ran in this process in between and no build anywhere wrote pages, so the recorded
pages are those the last call saw, changed only by this build's plan (the paths it
planned and removed), and the route memo's kept pages are the very pages the last call
had (``ssgen.build.memo.kept``). Anything else: the memos compare the whole page set, as
before.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from collections.abc import Set as AbstractSet

from ssgen.build.collect import NOT_FOUND_PATH
from ssgen.build.lastmod import last_change
from ssgen.build.output import Output, file_stat, sha256
from ssgen.build.plan import RenderPlan
from ssgen.config.load import Config
from ssgen.manifest.pages import GENERATION_KEY
from ssgen.manifest.schema import FileRecord
from ssgen.manifest.store import Manifest
from ssgen.memos import site_memo
from ssgen.render.generated import FeedDelta
from ssgen.render.sitemap import MAX_BYTES
from ssgen.render.sitemap.memo import SitemapMemo

Since = tuple[str | None, int]  # the pages generation a build began from, its number
# Per output folder: the build the sitemap memo's next call must be (``Since``), the
# lastmods call it took, and the paths it left out that have records (failed, clashing).
_SEEN: dict[str, tuple[Since, int, frozenset[str]]] = site_memo()
_IDLE: dict[str, Since] = site_memo()  # the Since a build that planned no page passes on
# Per output folder: each generated file this process recorded, as (its bytes, their hash).
_WRITTEN: dict[str, dict[str, tuple[bytes, str]]] = site_memo()


def sitemap_paths(plan: RenderPlan) -> AbstractSet[str]:
    """The paths the sitemap lists: every page but failed new ones, clashing ones, 404
    (in the manifest's order, see ``AllPaths.listed``)."""
    return plan.all_paths.listed(left_out(plan))


def sitemap_vouched(config: Config, manifest: Manifest, plan: RenderPlan,
                    lastmods: dict[str, str], since: Since | None) -> frozenset[str] | None:
    """The paths whose place in the sitemap or lastmod this build may have changed, when
    the last sitemap call is provably the one before it (every other path's are as that
    call had them); None when it is not. Call before ``sitemap_change``."""
    seen = _SEEN.get(str(config.output_dir))
    return None if seen is None else _named(manifest, plan, lastmods, seen, since)


def _named(manifest: Manifest, plan: RenderPlan, lastmods: dict[str, str],
           seen: tuple[Since, int, frozenset[str]], since: Since | None) -> frozenset[str] | None:
    change = last_change(manifest, lastmods)
    if since is None or since[0] is None or seen[0] != since or change is None \
            or change[0] != seen[1] + 1:
        return None
    return frozenset({*plan.pages, *plan.removed, *seen[2], *left_out(plan), *change[1]})


def left_out(plan: RenderPlan) -> AbstractSet[str]:
    """The paths the sitemap leaves out even when they are pages (failed new ones,
    clashing ones, 404)."""
    return plan.failed_new | plan.clashed | {NOT_FOUND_PATH}


def sitemap_change(memo: SitemapMemo, config: Config, manifest: Manifest, plan: RenderPlan,
                   lastmods: dict[str, str], since: Since | None) -> dict[str, bytes] | None:
    """The memo's files after this build's change, or None when the last call is not
    provably the one before it (the caller then hands the memo the whole page set)."""
    where = str(config.output_dir)
    seen = _SEEN.pop(where, None)  # until this call is done
    if since is None and seen is not None:  # a build that planned nothing: no delta,
        _IDLE[where] = seen[0]  # but what it makes is what the next build may change
    change = last_change(manifest, lastmods)
    if seen is None or since is None or since[0] is None or seen[0] != since \
            or change is None \
            or change[0] != seen[1] + 1 \
            or not memo.ready(config.site.base_url, config.sitemap.max_urls, MAX_BYTES):
        return None
    out = left_out(plan)
    named = {*plan.pages, *plan.removed, *seen[2], *out}
    listed = plan.all_paths
    try:
        return memo.changed([p for p in named if p in listed and p not in out],
                            [p for p in named if p not in listed or p in out], change[1],
                            lastmods)
    except BaseException:
        memo.forget()  # half changed: made afresh next time
        raise


def sitemap_done(config: Config, manifest: Manifest, plan: RenderPlan,
                 lastmods: dict[str, str], since: Since | None) -> None:
    """Mark the sitemap memo as made from this build's pages (after its call)."""
    change = last_change(manifest, lastmods)
    then = _next(manifest, since) if since is not None else _IDLE.pop(str(config.output_dir),
                                                                       None)
    if change is not None and then is not None:
        _SEEN[str(config.output_dir)] = (then, change[0],
                                         frozenset(plan.failed_new | plan.clashed))


def feed_delta(config: Config, manifest: Manifest, plan: RenderPlan,
               since: Since | None) -> FeedDelta:
    """The feed route's pages of this build as a change of the last build's (see
    ``FeedDelta``), vouched for by the pages generation and the build's number."""
    assert config.feed is not None
    route, where = config.feed.route, str(config.output_dir)
    fresh = [spec for spec in plan.pages.values() if spec.route == route]
    then = _next(manifest, since)
    return FeedDelta(fresh, plan.kept.get(route, []), plan.pages.keys() | plan.removed,
                     since=(where, since) if since is not None and since[0] else None,
                     then=(where, then) if then is not None else None)


def _next(manifest: Manifest, since: Since | None) -> Since | None:
    """What the next build's ``Since`` is if it follows this one with no other between."""
    generation = manifest.get_meta(GENERATION_KEY)
    return (generation, since[1] + 1) if since is not None and generation else None


def unchanged_files(output: Output, owned: Mapping[str, FileRecord],
                    files: Mapping[str, bytes], racy: int) -> set[str]:
    """The generated files that are the very bytes this process last recorded for them,
    recorded so (hash, size, mtime) and on disk so (not racy): nothing to write, hash or
    record again (a 14 MB sitemap each round at 100,000 pages)."""
    written = _WRITTEN.get(str(output.root), {})
    prefix = f"{output.root}{os.sep}"
    same = set()
    for rel, data in files.items():
        last, record = written.get(rel), owned.get(rel)
        if last is not None and last[0] is data and record is not None \
                and record.kind == "generated" and record.hash == last[1] \
                and record.mtime_ns < racy \
                and file_stat(prefix + rel) == (record.size, record.mtime_ns):
            same.add(rel)
    return same


def recorded(output: Output, rel: str, data: bytes) -> str:
    """Note that ``data`` was recorded as generated file ``rel``; its hash."""
    digest = sha256(data)
    _WRITTEN.setdefault(str(output.root), {})[rel] = (data, digest)
    return digest


def forget() -> None:
    """Drop what this process knows (a new process's state, for tests)."""
    _SEEN.clear()
    _IDLE.clear()
    _WRITTEN.clear()


__all__ = ["feed_delta", "forget", "left_out", "recorded", "sitemap_change", "sitemap_done",
           "sitemap_paths", "sitemap_vouched", "unchanged_files"]
