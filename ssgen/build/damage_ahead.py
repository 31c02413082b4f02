"""The owned output files stat'ed on the other core while a new ``ssgen build`` imports.

Owns ``begin(config, jobs)``, ``start(site_dir, output_dir, jobs)``,
``take(manifest_path, output_dir)`` and ``discard()``, and
the stat comparison itself (``suspects``), which ``ssgen.build.verify.find_damage`` runs
when nothing was begun. A new process spends its first ~0.1 s CPU importing the build's
modules on one core; checking the owned output stats every file the manifest records
(16k pages: ~50 ms) on that same core later. ``begin`` (called once the configuration is
loaded) takes the site's build lock now (``ssgen.manifest.lock.take_early``: the build's
own lock adopts it), then forks a child that reads the recorded (relpath, size, mtime)
rows and the racy threshold from the SQLite manifest, stats each file and sends back the
suspects. Holding the lock from before the child reads until the build checks means no
other build can change the output or the records in between, so the child's answer is
the one ``find_damage`` would have found itself (files changed from outside meanwhile
are the same race as for a check made later: the next build sees them). ``take`` gives
that answer only to a build that adopted the early lock; anything else (no fork, the
lock busy, PostgreSQL state, no manifest yet, a manifest the child cannot read as it
expects, a child that died) gives None and ``find_damage`` stats the files itself.

With the suspects the child sends every recorded page's path and route, read in the
same transaction (``SELECT path, route FROM pages``: ~7 ms of the build's core at 16k
pages, where the scope of a one-file edit first asks for them), with the pages table's
generation; ``take`` offers them to the manifest's page index
(``ssgen.manifest.pages.offer``), which uses them only while the table is still of that
generation (a build that wrote pages meanwhile reads the table itself).

Then the child lists the output folder's temp files
(``ssgen.build.output.temps``): a build's first write lists the folder to sweep what a
killed writer left (the root of a 16k-page site: ~10 ms of 16k entries, on this core, for
one page written). A build that took the suspects takes that listing instead (under the
same lock, so no other build wrote there since); without it the folder is listed as before.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import select
import signal
import struct
import time
from functools import partial
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING, Any, BinaryIO

from ssgen.build.output.temps import TEMP_PREFIX, listed_elsewhere
from ssgen.forking import fork_answering
from ssgen.manifest.lock import drop_early, held_since_early, take_early

if TYPE_CHECKING:
    from pathlib import Path

    from ssgen.config.load import Config

RACY_NS = 100_000_000  # see ``ssgen.build.verify``
CHECKED_KEY = "files_checked_ns"  # manifest meta: when the last build's stats were recorded
PATIENCE = 30.0  # seconds the build waits for the child before checking the files itself

# (manifest path, output folder) -> (site folder, child pid, read end of its pipe)
_BEGUN: dict[tuple[str, str], tuple[Path, int, int]] = {}
_LOCKED: list[Path] = []  # the sites whose lock ``begin`` took (``discard`` gives it up)
# output folder -> (child pid, read end of its pipe): the temp files listing not taken yet
_LISTING: dict[str, tuple[int, int]] = {}
_HEAD = struct.Struct("<Q")  # each answer's length, before it


def begin(config: Config, jobs: int | None) -> None:
    """Start checking the output in a forked child (see the module's doc); nothing for a
    single job, shared state or a site never built. A check ``start`` began for this
    output folder is kept (any other is stopped)."""
    manifest = config.state_dir / "manifest.sqlite"
    if config.state_url is None and _key(manifest, config.output_dir) in _BEGUN:
        return
    discard()
    if config.state_url is None:
        start(config.site_dir, config.output_dir, jobs)


def start(site_dir: Path, output_dir: Path, jobs: int | None) -> None:
    """``begin`` for a site folder and its output folder, before (``ssgen.build.ahead``)
    or once its configuration is loaded; SQLite state only."""
    manifest = site_dir / ".ssgen" / "manifest.sqlite"
    if (jobs or os.cpu_count() or 1) <= 1 or not hasattr(os, "fork") \
            or not manifest.is_file() or not take_early(site_dir):
        return
    _LOCKED.append(site_dir)

    def answer(fd: int) -> None:
        with os.fdopen(fd, "wb") as pipe:
            found, pages = _check(str(manifest), str(output_dir))
            _send(pipe, found)
            _send(pipe, pages)
            _send(pipe, _temps_in(str(output_dir)))

    forked = fork_answering(answer)
    if forked is None:
        drop_early(site_dir)
        return
    _BEGUN[_key(manifest, output_dir)] = (site_dir, *forked)


def take(manifest_path: Path, output_dir: Path) -> list[str] | None:
    """The suspects the child found for this manifest and output folder, when the
    build holds the lock taken before the child read (None: check here)."""
    begun = _BEGUN.pop(_key(manifest_path, output_dir), None)
    if begun is None:
        return None
    site, pid, read_fd = begun
    data = _receive(read_fd, pid)
    if not held_since_early(site):
        _stop(pid, read_fd)
        drop_early(site)  # no build adopted it: none will now
        return None
    found = _strings(data)
    pages = _receive(read_fd, pid) if found is not None else None
    if found is None or pages is None:
        _stop(pid, read_fd)
        return found
    _offer_pages(os.path.realpath(manifest_path), pages)
    folder = os.path.abspath(output_dir)
    _LISTING[folder] = (pid, read_fd)
    listed_elsewhere(folder, partial(_listing, folder))
    return found


def _listing(folder: str) -> list[str] | None:
    """The names of the temp files the child found in ``folder`` (None: list it here)."""
    pid, read_fd = _LISTING.pop(folder)
    data = _receive(read_fd, pid)
    _stop(pid, read_fd)
    names = _strings(data)
    if names is None or not all(name.startswith(TEMP_PREFIX) and os.sep not in name
                                for name in names):
        return None
    return names


def _offer_pages(key: str, data: bytes) -> None:
    """The child's page paths and routes, offered to the manifest at ``key``'s page
    index, decoded when it first reads them."""
    from ssgen.manifest.pages import PageIndex, offer

    def index() -> PageIndex | None:
        try:
            found = marshal.loads(data)
        except (ValueError, EOFError, TypeError):
            return None
        if type(found) is not list or not found or type(found[0]) is not str:
            return None
        groups = found[1:]
        if not all(type(group) is tuple and len(group) == 2 and type(group[0]) is str
                   and type(group[1]) is list and all(type(path) is str for path in group[1])
                   for group in groups):
            return None
        return PageIndex.grouped(found[0], groups)

    offer(key, index)


def _strings(data: bytes | None) -> list[str] | None:
    """An answer of the child: a list of strings (None: no such answer)."""
    try:
        found = marshal.loads(data) if data is not None else None
    except (ValueError, EOFError, TypeError):
        return None
    if type(found) is not list or not all(type(item) is str for item in found):
        return None
    return found


def discard() -> None:
    """Stop a child whose answer no build took; give up an early lock no build adopted."""
    while _BEGUN:
        _, (_, pid, read_fd) = _BEGUN.popitem()
        _stop(pid, read_fd)
    while _LISTING:
        folder, (pid, read_fd) = _LISTING.popitem()
        listed_elsewhere(folder, None)
        _stop(pid, read_fd)
    while _LOCKED:
        drop_early(_LOCKED.pop())


def suspects(rows: list[tuple[str, int, int]], root: str, racy: int) -> list[str]:
    """The files of ``rows`` (relpath, recorded size and mtime) whose stat is not the
    one recorded, or whose mtime is from ``racy`` on (see ``ssgen.build.verify``): to
    hash. Stat'ed relative to the output folder's descriptor: ~15% less CPU a file than
    joined paths, whose every folder the kernel would walk again."""
    if os.stat not in os.supports_dir_fd:  # not on Windows
        prefix = root + os.sep
        rows = [(prefix + rel, size, mtime) for rel, size, mtime in rows]
        return [rel[len(prefix):] for rel in _changed(rows, None, racy)]
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:  # no output folder (or not a folder): every owned file is missing
        return [rel for rel, _, _ in rows]
    try:
        return _changed(rows, fd, racy)
    finally:
        os.close(fd)


def _changed(rows: list[tuple[str, int, int]], fd: int | None, racy: int) -> list[str]:
    found: list[str] = []
    stat = os.stat
    for rel, size, mtime in rows:
        # The hot loop of a no-op build: one stat, no function call of our own.
        try:
            info = stat(rel, dir_fd=fd)
            if info.st_mtime_ns == mtime and info.st_size == size and mtime < racy:
                continue
        except OSError:
            pass
        found.append(rel)
    return found


def _check(manifest: str, output_dir: str) -> tuple[list[str] | None, list[Any] | None]:
    """The child's work: the manifest's rows read, the files stat'ed (None: unreadable);
    and the pages' generation and (route, [path, ...]) groups, in the table's index order
    (None: no generation recorded)."""
    from ssgen.manifest.pages import GENERATION_KEY

    read = _rows_of(manifest, [("SELECT relpath, size, mtime_ns FROM files", ()),
                            ("SELECT value FROM meta WHERE key = ?", (CHECKED_KEY,)),
                            ("SELECT value FROM meta WHERE key = ?", (GENERATION_KEY,)),
                            ("SELECT route, path FROM pages ORDER BY route, path", ())])
    if read is None:
        return None, None
    rows, checked, generation, pages = read
    racy = int(checked[0][0] or 0) - RACY_NS if checked and str(checked[0][0]).isdigit() \
        else -RACY_NS
    grouped = [generation[0][0], *((route, [path for _, path in group])
                                  for route, group in groupby(pages, itemgetter(0)))] \
        if generation and type(generation[0][0]) is str and generation[0][0] else None
    return suspects(rows, output_dir, racy), grouped


def _rows_of(manifest: str, queries: list[tuple[str, tuple[str, ...]]]) -> list[list[Any]] | None:
    """Each query's rows, read in one transaction of the manifest (None: unreadable)."""
    import sqlite3  # in the child only: the parent has not loaded sqlite3 yet

    try:
        conn = sqlite3.connect(manifest, isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        conn.execute("BEGIN")
        found = [conn.execute(sql, params).fetchall() for sql, params in queries]
        conn.execute("COMMIT")
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return found


def _temps_in(folder: str) -> list[str] | None:
    """The child's second answer: the names of the temp files in ``folder``."""
    try:
        with os.scandir(folder) as entries:
            return [entry.name for entry in entries if entry.name.startswith(TEMP_PREFIX)]
    except OSError:
        return None


def _receive(fd: int, pid: int) -> bytes | None:
    """The child's next answer; None (the child killed) if it is not sent within
    ``PATIENCE`` seconds (a child stuck on a lock some thread held at the fork), or
    if the child ended without it."""
    deadline = time.monotonic() + PATIENCE
    head = _read(fd, _HEAD.size, deadline)
    data = _read(fd, _HEAD.unpack(head)[0], deadline) if head is not None else None
    if data is None:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return data


def _read(fd: int, size: int, deadline: float) -> bytes | None:
    """``size`` bytes from ``fd`` (None: the pipe ended or the deadline passed first)."""
    data = bytearray()
    while len(data) < size:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        part = os.read(fd, min(size - len(data), 1 << 16))
        if not part:
            return None
        data += part
    return bytes(data)


def _send(pipe: BinaryIO, found: list[Any] | None) -> None:
    data = marshal.dumps(found)
    pipe.write(_HEAD.pack(len(data)) + data)
    pipe.flush()


def _stop(pid: int, read_fd: int) -> None:
    """Close the pipe from the child and reap it (killed if not done)."""
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    os.close(read_fd)
    _reap(pid)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _key(manifest: Path, output_dir: Path) -> tuple[str, str]:
    return os.path.abspath(manifest), os.path.abspath(output_dir)


__all__ = ["CHECKED_KEY", "RACY_NS", "begin", "discard", "start", "suspects", "take"]
