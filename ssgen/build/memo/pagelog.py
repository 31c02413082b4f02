"""``.ssgen/pages.log``: which pages each build wrote, by the pages generation it moved.

Owns the log that lets a new process trust the route expansions a source snapshot
carries (``kept.carried``) although builds ran since the snapshot was saved. Every
transaction that writes the manifest's pages table gives it a new random generation
(``ssgen.manifest.pages``); each build appends one line, ``[before, after, paths]``:
the generation it began from, the one its record left, and every path it planned or
removed (a superset of the page rows it wrote). A page whose row no build wrote since
generation ``base`` is recorded as it was at ``base``; ``written_since`` gives the
paths of the builds that lead from ``base`` to the present generation, or None when
the chain is broken (a build that left no line: an older ssgen, a crash between its
commit and the append, another writer of the pages table, a torn or damaged line, a
log reset). A full build starts the log afresh (it saves a snapshot of its own).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import orjson

from ssgen.config.load import Config

FILE = "pages.log"
MOST_BYTES = 4 << 20  # a longer log starts afresh (older snapshots then chain no more)
_MOST_LINKS = 100_000  # a cycle of generations cannot occur; a guard all the same


def note(config: Config, before: str | None, after: str | None, paths: Iterable[str], *,
         reset: bool = False) -> None:
    """Append the link from ``before`` to ``after`` (nothing when the build wrote no
    page: the generation stayed); ``reset``: the log starts afresh with it. A failed
    write leaves the chain broken, never a wrong one (a torn line does not parse)."""
    path = config.state_dir / FILE
    if not before or not after or before == after:
        if reset:
            path.unlink(missing_ok=True)
        return
    line = orjson.dumps([before, after, sorted(paths)]) + b"\n"
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    try:
        if reset or path.stat().st_size > MOST_BYTES:
            flags |= os.O_TRUNC
    except OSError:
        pass
    try:
        fd = os.open(path, flags, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
    except OSError:
        path.unlink(missing_ok=True)


def written_since(config: Config, base: str, head: str | None) -> frozenset[str] | None:
    """The paths the builds from generation ``base`` to ``head`` (the present one)
    planned or removed; None when the log does not lead from one to the other."""
    if not head:
        return None
    links = _links(config.state_dir / FILE)
    found: set[str] = set()
    at = base
    for _ in range(_MOST_LINKS):
        if at == head:
            return frozenset(found)
        link = links.get(at)
        if link is None:
            return None
        at, paths = link
        found.update(paths)
    return None


def _links(path: Path) -> dict[str, tuple[str, list[str]]]:
    """Each well-formed line's ``before`` -> (``after``, paths)."""
    try:
        data = path.read_bytes()
    except OSError:
        return {}
    links: dict[str, tuple[str, list[str]]] = {}
    for line in data.splitlines():
        try:
            before, after, paths = orjson.loads(line)
        except (orjson.JSONDecodeError, TypeError, ValueError):
            continue
        if type(before) is str and type(after) is str and type(paths) is list \
                and all(type(p) is str for p in paths):
            links[before] = (after, paths)
    return links


__all__ = ["FILE", "MOST_BYTES", "note", "written_since"]
