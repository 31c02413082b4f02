"""The link check over the output folder, full or incremental.

Full (``changes=None``): every HTML file under the output folder is parsed and checked,
and the manifest's link state is replaced. Incremental (``changes``: what a build wrote,
created and removed): the files it wrote, plus every file whose recorded links point at
a path that appeared or disappeared, plus every file linking to a written page whose ids
changed (a ``#fragment`` may have broken or healed). Every other file keeps its recorded
result, so the report always covers the whole site, and equals a full check's.

A link to an internal path is good when an output file answers it (``resolve.files_for``);
a ``#fragment`` also needs that id in the target when the target is HTML (``#`` and
``#top`` always work). External URLs are looked up only with ``LinkOptions.external``.
"""

from __future__ import annotations

import os
import time
from dataclasses import field
from pathlib import Path

from ssgen.fastclass import dataclass
from ssgen.links.external import LinkOptions, check_external
from ssgen.links.extract import Extracted, extract
from ssgen.links.report import BrokenLink, LinkReport
from ssgen.links.resolve import (
    External,
    Outside,
    Resolver,
    Site,
    Target,
    files_for,
    is_html,
    paths_for,
)
from ssgen.manifest.links import LinkFile
from ssgen.manifest.store import Manifest

_NO_FILE = "no file in the output answers it"


@dataclass(frozen=True)
class Changes:
    """What a build did to the output: files ``written`` (new or changed bytes), of which
    ``appeared`` did not exist before, and files ``removed``; relpaths."""

    written: frozenset[str] = frozenset()
    appeared: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()


@dataclass
class _Result:
    broken: list[BrokenLink] = field(default_factory=list)
    targets: set[str] = field(default_factory=set)
    external: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def check_links(output_dir: Path, manifest: Manifest, base_url: str, *,
                changes: Changes | None = None,
                options: LinkOptions | None = None) -> LinkReport:
    """Check the output's links (see the module doc); record the outcome in the manifest."""
    started = time.perf_counter()
    options = options or LinkOptions()
    disk = _Disk(Path(output_dir), full=changes is None)
    if changes is None:
        parsed = {rel: disk.parse(rel) for rel in sorted(disk.html())}
        gone: set[str] = set()
    else:
        parsed, gone = _incremental(disk, manifest, changes)
    resolver = Resolver(Site.of(base_url))
    ids = _Ids(manifest, disk, parsed)
    results = {rel: _check_file(rel, found, resolver, disk, ids, options.ignore)
               for rel, found in parsed.items()}
    looked_up = _externals(manifest, results, options) if options.external else 0
    rows: dict[str, LinkFile] = {
        rel: (sorted(parsed[rel].ids), [b.stored() for b in res.broken], sorted(res.targets))
        for rel, res in results.items()}
    with manifest.transaction():
        manifest.set_link_files(rows, replace=changes is None)
        if gone:
            manifest.remove_link_files(gone)
    broken = [BrokenLink.from_stored(rel, row)
              for rel, stored in sorted(manifest.broken_links().items()) for row in stored]
    return LinkReport(
        checked=len(parsed), total=manifest.link_file_count(), full=changes is None,
        broken=[b for b in broken if options.external or not b.external],
        external=looked_up, seconds=time.perf_counter() - started)


def _incremental(disk: _Disk, manifest: Manifest,
                 changes: Changes) -> tuple[dict[str, Extracted], set[str]]:
    """The files to re-check and parse, and the HTML files that are gone."""
    moved = changes.appeared | changes.removed
    todo = {rel for rel in changes.written if is_html(rel)}
    todo |= manifest.linking_to(path for rel in moved for path in paths_for(rel))
    gone = {rel for rel in todo | changes.removed if is_html(rel) and not disk.exists(rel)}
    parsed = {rel: disk.parse(rel) for rel in sorted(todo - gone)}
    before = manifest.link_ids(rel for rel in changes.written if rel in parsed)
    renamed = [rel for rel, ids in before.items() if set(ids) != parsed[rel].ids]
    for rel in sorted(manifest.linking_to(p for r in renamed for p in paths_for(r))):
        if rel not in parsed and disk.exists(rel):
            parsed[rel] = disk.parse(rel)
    return parsed, gone


def _check_file(rel: str, found: Extracted, resolve: Resolver, disk: _Disk, ids: _Ids,
                ignore: tuple[str, ...]) -> _Result:
    result = _Result()
    seen: set[tuple[str, str]] = set()
    for attr, link in found.links:
        if (attr, link) in seen or (ignore and link.startswith(ignore)):
            continue
        seen.add((attr, link))
        target = resolve(link, rel)
        if target is None or (ignore and _ignored(target, ignore)):
            continue
        if isinstance(target, External):
            result.external.setdefault(target.url, []).append((attr, link))
            continue
        if isinstance(target, Outside):
            result.broken.append(BrokenLink(rel, attr, link, target.reason))
            continue
        result.targets.add(target.path)
        answer = disk.answer(target.path)
        fragment = target.fragment
        if answer is None:
            result.broken.append(BrokenLink(rel, attr, link, _NO_FILE))
        elif fragment and fragment != "top" and is_html(answer):
            known = found.ids if answer == rel else ids.of(answer)
            if fragment not in known:
                result.broken.append(BrokenLink(rel, attr, link,
                                                f"no element with id {fragment!r} in {answer}"))
    return result


def _ignored(target: Target, ignore: tuple[str, ...]) -> bool:
    name = target.url if isinstance(target, External) else getattr(target, "path", "")
    return bool(name) and name.startswith(ignore)


def _externals(manifest: Manifest, results: dict[str, _Result], options: LinkOptions) -> int:
    """Look up the external URLs of ``results`` (cached ones within the TTL are reused)
    and add the broken ones to each file's result; returns how many were looked up."""
    urls = {url for res in results.values() for url in res.external}
    now = time.time()
    known = manifest.external_results(urls, now - options.ttl)
    fresh = check_external(sorted(urls - known.keys()), options) if urls - known.keys() else {}
    if fresh:
        manifest.set_external_results(fresh, now)
    known.update(fresh)
    for rel, res in results.items():
        for url, uses in res.external.items():
            status, error = known[url]
            if status == 0 or status >= 400:
                reason = error or f"HTTP {status}"
                res.broken.extend(BrokenLink(rel, attr, link, reason, external=True)
                                  for attr, link in uses)
    return len(fresh)


class _Disk:
    """The output folder: which files exist (walked once for a full check, else stat'ed
    and remembered) and each HTML file's links and ids."""

    def __init__(self, root: Path, *, full: bool) -> None:
        self.root = root
        self._files: set[str] | None = _walk(root) if full else None
        self._exists: dict[str, bool] = {}

    def html(self) -> list[str]:
        return [rel for rel in self._files or () if is_html(rel)]

    def exists(self, rel: str) -> bool:
        if self._files is not None:
            return rel in self._files
        known = self._exists.get(rel)
        if known is None:
            known = self._exists[rel] = os.path.isfile(os.path.join(self.root, rel))
        return known

    def answer(self, path: str) -> str | None:
        return next((rel for rel in files_for(path) if self.exists(rel)), None)

    def parse(self, rel: str) -> Extracted:
        try:
            data = (self.root / rel).read_bytes()
        except OSError:
            return Extracted()
        return extract(data.decode("utf-8", errors="replace"))


class _Ids:
    """The fragment ids of target files: parsed this time, else recorded, else parsed."""

    def __init__(self, manifest: Manifest, disk: _Disk, parsed: dict[str, Extracted]) -> None:
        self._manifest, self._disk, self._parsed = manifest, disk, parsed
        self._cache: dict[str, set[str]] = {}

    def of(self, rel: str) -> set[str]:
        if rel in self._parsed:
            return self._parsed[rel].ids
        if rel not in self._cache:
            stored = self._manifest.link_ids([rel])
            self._cache[rel] = set(stored[rel]) if rel in stored else self._disk.parse(rel).ids
        return self._cache[rel]


def _walk(root: Path) -> set[str]:
    files: set[str] = set()
    base = len(str(root)) + 1
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        prefix = folder[base:].replace(os.sep, "/")
        for name in names:
            if not name.startswith("."):
                files.add(f"{prefix}/{name}" if prefix else name)
    return files




__all__ = ["Changes", "LinkOptions", "check_links"]
