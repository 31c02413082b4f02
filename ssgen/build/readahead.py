"""A serve round's first reads of the manifest and the output folder, made beside its render.

Owns ``reading_ahead`` (serve turns it on around a round's build, naming the manifest's
file), ``start`` (the build calls it once the plan names the pages to render) and
``stop`` (serve's worker stops). At
100,000 posts a round's record stage waited on the disk for the first read of each
written page's row (``SELECT tags FROM pages``: 18.9 ms a round, b27) and its writes for
the page folders' entries (``mkdir``/``lstat`` of folders in the 100,000-entry
``public/blog/``): the VM drops file pages left untouched for about a minute, so a random
post's rows and folder are cold. A daemon thread reads those rows on a read-only SQLite
connection of its own (``sqlite3`` lets go of the GIL while a statement runs) and stats
the files the pages will be written to, while the round queries and renders (one thread
for the process, fed by a queue); the round's
own reads then find the pages in the OS's cache. It decides nothing: the round reads all
of it again itself, so what the thread reads, misses or fails to read changes only how
long the round waits.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import queue

# A round of more pages is a burst or a big edit: its reads are not the round's tail.
MOST_PAGES = 64
_ON: list[Path] = []  # the manifest file of the round being built, while one is
_Asked = tuple[Path, list[str], list[str], Path]
# The reading thread and its queue, once started (``queue`` imported then: not by every
# new process's build, which never reads ahead).
_THREAD: list[tuple[threading.Thread, queue.Queue[_Asked | None]]] = []


@contextmanager
def reading_ahead(manifest: Path | None) -> Iterator[None]:
    """Within: ``start`` reads ahead for a build on the SQLite manifest at ``manifest``
    (None: it does nothing)."""
    _ON[:] = [manifest] if manifest is not None else []
    try:
        yield
    finally:
        _ON.clear()


def start(manifest: Path, paths: list[str], files: list[str], output: Path) -> bool:
    """Read ahead the rows of ``paths`` in ``pages``, of ``files`` in ``files`` and the
    output files ``files`` under ``output``, on the reading thread; whether it was asked
    to (False: not reading ahead for ``manifest``, or too many pages)."""
    if not _ON or _ON[0] != manifest or not paths or len(paths) > MOST_PAGES:
        return False
    # One thread for the process's rounds: a thread started each round cost the round
    # the wait for its start (``Thread.start``: 6.8 ms a round at 100,000 posts, load 5).
    if not _THREAD or not _THREAD[0][0].is_alive():
        import queue

        asked: queue.Queue[_Asked | None] = queue.Queue()
        _THREAD[:] = [(threading.Thread(target=_reading, args=(asked,),
                                        name="ssgen-read-ahead", daemon=True), asked)]
        _THREAD[0][0].start()
    _THREAD[0][1].put((manifest, paths, files, output))
    return True


def wait() -> None:
    """Until what was asked so far has been read (tests)."""
    if _THREAD:
        _THREAD[0][1].join()


def stop(timeout: float | None = 10.0) -> None:
    """End the reading thread once what was asked is read (serve stops: a thread left
    running turns off the forks that wait for a process with one thread,
    ``ssgen.sources.parallel``)."""
    if _THREAD:
        thread, asked = _THREAD.pop()
        asked.put(None)
        thread.join(timeout)


def _reading(asked: queue.Queue[_Asked | None]) -> None:
    while True:
        found = asked.get()
        try:
            if found is None:
                return
            _read(*found)
        finally:
            asked.task_done()


def _read(manifest: Path, paths: list[str], files: list[str], output: Path) -> None:
    with suppress(sqlite3.Error):  # the round reads them itself
        read_rows(manifest, paths, files)
    for relpath in files:
        with suppress(OSError):  # a new page's file: its folder was looked up on the way
            os.stat(os.path.join(output, relpath))


def read_rows(manifest: Path, paths: list[str], files: list[str]) -> int:
    """The rows of ``paths`` in ``pages`` and of ``files`` in ``files`` read on a new
    read-only connection, each page's tags whole; how many were found."""
    conn = sqlite3.connect(f"{manifest.as_uri()}?mode=ro", uri=True, isolation_level=None,
                           check_same_thread=False)
    try:
        found = conn.execute(
            f"SELECT count(length(tags)) FROM pages WHERE path IN ({_marks(paths)})",
            paths).fetchone()[0]
        if files:
            found += conn.execute(
                f"SELECT count(hash) FROM files WHERE relpath IN ({_marks(files)})",
                files).fetchone()[0]
        return int(found)
    finally:
        conn.close()


def _marks(values: list[str]) -> str:
    return ", ".join("?" * len(values))


__all__ = ["MOST_PAGES", "read_rows", "reading_ahead", "start", "stop", "wait"]
