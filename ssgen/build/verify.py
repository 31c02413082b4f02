"""Owned output files checked against the manifest before each incremental build.

- ``recover_orphans(manifest, output)``: the files a killed build noted in the journal but
  never recorded are ssgen's; they are deleted (the build that follows writes again
  whichever of them the site still has, since nothing of that build was recorded either),
  and so are the temp files it left beside them (this process may have swept their
  folders before the killed build ran: a test, or serve after a killed ``ssgen build``)
  and the staging folder of a killed cold build (``ssgen.build.output.staging``).
- ``find_damage(manifest, output_dir)``: owned files missing or changed from outside.
  One ``stat`` per file against the recorded (size, mtime) alone; a file is hashed, with
  its record read then, only when its size or mtime differs from the ones recorded when
  it was written (and its stat is updated when its bytes are intact).
  Damaged pages are re-rendered; static and generated files are rewritten by every build
  anyway, except a feed whose route was not re-queried, which ``_repair`` re-queries.
  File times are coarse (a few ms): a file written within ``RACY_NS`` of the end of the
  build that recorded it could be changed in the same tick without its stat changing, so
  it is hashed anyway (git's "racily clean" rule). ``mark_checked`` records that end.
  Under a watch of the output folder (serve: ``ssgen.build.outwatch``) only the files it
  saw change since the last check are looked at (and every owned file under a folder
  made since).
"""

from __future__ import annotations

import os
import time
from dataclasses import field
from pathlib import Path

from ssgen.build import damage_ahead
from ssgen.build.damage_ahead import CHECKED_KEY, RACY_NS, suspects
from ssgen.build.output import Output, file_stat, sha256, sweep_staging
from ssgen.build.outwatch import touched_files
from ssgen.errors import OutputError
from ssgen.fastclass import dataclass
from ssgen.manifest.store import Manifest


@dataclass
class Damage:
    """Owned files found missing or changed: page paths to render again, other files."""

    pages: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)
    extras: bool = False  # the last build recorded its pages but not its site-wide files

    def __bool__(self) -> bool:
        return bool(self.pages or self.files or self.extras)

    def touches(self, relpath: str) -> bool:
        """Was ``relpath`` (a static or generated file) found damaged (or maybe stale)?"""
        return self.extras or relpath in self.files


EXTRAS_KEY = "extras_pending"


def extras_pending(manifest: Manifest, pending: bool) -> None:
    """Note that the site-wide files are (not) behind the recorded pages: set in the
    transaction that records the pages, cleared once the site-wide files are written."""
    manifest.set_meta(EXTRAS_KEY, "1" if pending else "")


def recover_orphans(manifest: Manifest, output: Output) -> list[str]:
    """Delete the files a crashed build wrote and never recorded; clear the journal."""
    noted = manifest.journal()
    if not noted:
        return []
    sweep_staging(output.root)  # a killed cold build's pages, never swapped in
    owned = manifest.files_at(noted)
    output.sweep(noted)
    removed: list[str] = []
    for rel in sorted(noted.keys() - owned.keys()):
        try:
            if output.remove(rel, prune=False):
                removed.append(rel)
        except OutputError:  # a folder where the file was meant to go: not ours to touch
            continue
    output.prune([output.path(rel).parent for rel in removed])
    manifest.journal_clear()
    return removed


_CHECKED_KEY = CHECKED_KEY


def mark_checked(manifest: Manifest) -> None:
    """Record that the stats of every owned file are now recorded (end of a build)."""
    manifest.set_meta(_CHECKED_KEY, str(time.time_ns()))


def racy_after(manifest: Manifest) -> int:
    """The mtime (ns) from which a file's unchanged stat does not prove its bytes intact."""
    return int(manifest.get_meta(_CHECKED_KEY) or 0) - RACY_NS


def find_damage(manifest: Manifest, output_dir: Path) -> Damage:
    """The owned files that are missing or whose bytes are not the ones recorded."""
    root = str(output_dir)
    damage = Damage(extras=bool(manifest.get_meta(EXTRAS_KEY)))
    found = _suspects(manifest, output_dir)
    if not found:
        return damage
    damaged_pages: list[str] = []
    intact: list[tuple[str, int, int]] = []
    prefix = root + os.sep
    for rel, record in manifest.files_at(found).items():
        now = file_stat(prefix + rel)
        if now[0] >= 0 and _hash(prefix + rel) == record.hash:
            if now != (record.size, record.mtime_ns):
                intact.append((rel, *now))
        elif record.kind == "page":
            damaged_pages.append(rel)
        else:
            damage.files.add(rel)
    if intact:
        manifest.set_file_stats(intact)
    if damaged_pages:
        by_file = manifest.page_files()
        damage.pages = {by_file[rel] for rel in damaged_pages if rel in by_file}
    return damage


def _suspects(manifest: Manifest, output_dir: Path) -> list[str]:
    """The owned files whose stat is not the one recorded (or is racy): as the child
    begun before the build's imports found them (``damage_ahead``), else stat'ed here."""
    touched = touched_files(output_dir)
    path = getattr(manifest, "path", None)
    early = damage_ahead.take(path, output_dir) if touched is None and path else None
    if early is not None:
        return early
    return suspects(_stats_to_check(manifest, output_dir, touched), str(output_dir),
                    racy_after(manifest))


def _stats_to_check(manifest: Manifest, output_dir: Path,
                    touched: set[str] | None) -> list[tuple[str, int, int]]:
    """Every owned file's recorded stat, or only those of the files a watch of the output
    folder saw change since the last check (``touched``: ``ssgen.build.outwatch``, set up
    by serve)."""
    if touched is None:
        return manifest.file_stats()
    folders = tuple(rel for rel in touched if rel.endswith("/"))  # made since: all under
    rows = [(r.relpath, r.size, r.mtime_ns) for r in manifest.files_at(touched).values()]
    if folders:
        seen = {row[0] for row in rows}
        rows += [row for row in manifest.file_stats()
                 if row[0].startswith(folders) and row[0] not in seen]
    return rows


def _hash(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return sha256(handle.read())
    except OSError:
        return None
