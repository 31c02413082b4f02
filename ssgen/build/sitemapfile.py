"""The sitemap's files of a build: made from every page's path and lastmod, or, in a new
process whose page set and lastmods are those the recorded files were made from, the
recorded files kept as they are.

A process keeps the rows of the last sitemap it made (``SitemapMemo``); a new process has
none, and making the rows of 16,000 pages again cost ~7% of a one-file edit's build. So
the build that writes the sitemap records, in the transaction that records its files,
a key of what their bytes are a function of (the paths, their lastmods, the base URL,
the limits and the sitemap code); a later build with the same key whose recorded files
are intact (size and mtime as recorded, their hash checked when the mtime is racy) keeps
them. A build that makes the sitemap without computing the key (a warm memo: serve's
rounds) clears it, so a key is never left beside files it does not describe.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path

import orjson

from ssgen import __version__
from ssgen.build.output import Output, file_stat, sha256
from ssgen.manifest.schema import FileRecord
from ssgen.manifest.store import Manifest
from ssgen.memos import site_memo
from ssgen.render import generated, sitemap
from ssgen.render.sitemap import MAX_BYTES, is_sitemap_file
from ssgen.render.sitemap.memo import SitemapMemo

KEY = "sitemap_key"  # manifest meta: what the recorded sitemap files were made from
# Per cold memo, the inputs and key of the files it last kept: a process that keeps them
# (serve's rounds after a start that kept them) sorts 100k paths once, not every round.
_KEPT: dict[int, tuple[SitemapMemo, frozenset[str], dict[str, str], str]] = site_memo()


def sitemap_key(paths: AbstractSet[str], lastmods: Mapping[str, str], base_url: str,
                max_urls: int) -> str:
    """What the sitemap's bytes are a function of (sorted: the same for any set order)."""
    ordered = sorted(paths)
    stamps = [lastmods.get(path) for path in ordered]
    digest = hashlib.blake2b(orjson.dumps([__version__, base_url, max_urls, MAX_BYTES,
                                           ordered, stamps]), digest_size=16)
    for module in (sitemap, generated):  # the code that renders the rows
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()


def kept_files(manifest: Manifest, output: Output, owned: Mapping[str, FileRecord],
               key: str, racy: int) -> set[str] | None:
    """The recorded sitemap files, when they were made from ``key`` and are intact on
    disk; None when the sitemap must be made."""
    files = {rel for rel, record in owned.items()
             if record.kind == "generated" and is_sitemap_file(rel)}
    if not files or manifest.get_meta(KEY) != key:
        return None
    prefix = f"{output.root}{os.sep}"
    for rel in files:
        record = owned[rel]
        if file_stat(prefix + rel) != (record.size, record.mtime_ns):
            return None
        if record.mtime_ns >= racy and _hash(prefix + rel) != record.hash:
            return None
    return files


def sitemap_files(memo: SitemapMemo, manifest: Manifest, output: Output,
                  owned: Mapping[str, FileRecord], paths: AbstractSet[str],
                  lastmods: Mapping[str, str], base_url: str, *, max_urls: int,
                  racy: int) -> tuple[dict[str, bytes], set[str], str]:
    """The sitemap files to write, those kept as recorded, and the key to record with
    the written ones ("": not computed, a memo made them)."""
    if memo.warm:
        return memo.files(paths, lastmods, base_url, max_urls=max_urls), set(), ""
    last = _KEPT.get(id(memo))
    if last is not None and last[0] is memo and last[1] == paths and last[2] == lastmods:
        key = last[3]  # the inputs this process kept the files for: not sorted again
    else:
        key = sitemap_key(paths, lastmods, base_url, max_urls)
    kept = kept_files(manifest, output, owned, key, racy)
    if kept is not None:
        while len(_KEPT) >= 4:
            del _KEPT[next(iter(_KEPT))]  # the oldest: memos are dropped (extras)
        _KEPT[id(memo)] = (memo, frozenset(paths), dict(lastmods), key)
        return {}, kept, key
    _KEPT.pop(id(memo), None)
    return memo.files(paths, lastmods, base_url, max_urls=max_urls), set(), key


def still_kept(memo: SitemapMemo, manifest: Manifest, output: Output,
               owned: Mapping[str, FileRecord], racy: int, named: Iterable[str],
               listed: Callable[[str], bool], lastmods: Mapping[str, str],
               ) -> tuple[set[str], str] | None:
    """The recorded sitemap files this process last kept for ``memo`` and their key, when
    none of ``named`` entered or left the sitemap (``listed``) or changed its lastmod
    since (the caller vouches for every other path: ``extras.delta.sitemap_vouched``)
    and the files are intact; None otherwise. No sort or compare of every page: a
    serve round that changes no URL or lastmod (a retitle) looks at its own pages."""
    last = _KEPT.get(id(memo))
    if last is None or last[0] is not memo:
        return None
    _, paths, stamps, key = last
    if any(listed(path) != (path in paths) or lastmods.get(path) != stamps.get(path)
           for path in named):
        return None
    kept = kept_files(manifest, output, owned, key, racy)
    return None if kept is None else (kept, key)


def _hash(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return sha256(handle.read())
    except OSError:
        return ""


__all__ = ["KEY", "kept_files", "sitemap_files", "sitemap_key", "still_kept"]
