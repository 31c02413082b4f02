"""The quick build's children: the Markdown files' and the output's stats against the plan.

Owns ``inputs(plan)`` (the Markdown listing and each file's stamp: which files changed)
and ``output(plan)`` (each owned output file's size and mtime, racy ones included: which
to hash; and the temp files a killed writer left in the output folder), each run by
``fork`` in a child whose answer ``answer`` takes (or here, without a child), and
``reap``. See ``ssgen.build.quick``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ssgen.build.quick import plan as plans
from ssgen.forking import fork_answering


def answer(child: tuple[int, int] | None, work: Callable[[dict[str, Any]], Any],
            plan: dict[str, Any]) -> Any:
    """What ``work`` found: the child's answer, or found here without a child."""
    return work(plan) if child is None else receive(*child)


def fork(work: Callable[[dict[str, Any]], Any], plan: dict[str, Any]) -> tuple[int, int] | None:
    """A child running ``work(plan)``, its answer marshalled down a pipe (None: no fork)."""
    def answer(write_fd: int) -> None:
        import marshal

        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(marshal.dumps(work(plan)))

    return fork_answering(answer)


def receive(pid: int, fd: int) -> Any:
    """The child's answer (None: it sent none, or one that does not load)."""
    import marshal

    parts = []
    while part := os.read(fd, 1 << 16):
        parts.append(part)
    try:
        return marshal.loads(b"".join(parts)) if parts else None
    except (ValueError, EOFError, TypeError):
        return None


def reap(pid: int, fd: int) -> None:
    import contextlib
    import signal

    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    os.close(fd)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def inputs(plan: dict[str, Any]) -> list[tuple[int, str]] | None:
    """The Markdown files whose stamp is not the plan's (or not trusted by it), as
    (index, relpath); None: a file added or removed."""
    import marshal
    from pathlib import Path

    from ssgen.sources.listing import listed_files

    rels = listed_files(Path(plan["markdown"]), plan["suffixes"], Path(plan["listing"]))
    if rels != marshal.loads(plan["rels"]):
        return None
    stamps, trusted, pack, size = plan["stamps"], plan["trusted"], plans.STAMP.pack, \
        plans.STAMP.size
    changed: list[tuple[int, str]] = []
    stat = os.stat
    try:
        fd = os.open(plan["markdown"], os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None
    try:  # stat'ed relative to the folder's descriptor (as ``damage_ahead.suspects``)
        for at, rel in enumerate(rels):
            try:
                info = stat(rel, dir_fd=fd)
            except OSError:
                return None
            if not trusted[at] or pack(info.st_mtime_ns, info.st_size, info.st_ino,
                                       info.st_ctime_ns) != stamps[at * size:(at + 1) * size]:
                changed.append((at, rel))
    finally:
        os.close(fd)
    return changed


def output(plan: dict[str, Any]) -> list[Any]:
    """The output's child: ``suspects``, and the temp files a killed writer left in the
    output folder (None: not listed), which a build's first write sweeps (listing the
    folder's 16k entries, as ``damage_ahead``'s child does for the ordinary build)."""
    prefix = plan["temp_prefix"]
    try:
        with os.scandir(plan["output"]) as entries:
            temps: list[str] | None = [entry.name for entry in entries
                                       if entry.name.startswith(prefix)]
    except OSError:
        temps = None
    return [suspects(plan), temps]


def suspects(plan: dict[str, Any]) -> list[int]:
    """The indexes of the owned output files whose stat is not the plan's, or racy (as
    ``ssgen.build.damage_ahead.suspects``, over the plan's packed columns)."""
    import marshal

    files, stats, racy = marshal.loads(plan["files"]), plan["stats"], plan["racy"]
    unpack, size = plans.OUTPUT.unpack_from, plans.OUTPUT.size
    try:
        fd = os.open(plan["output"], os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return list(range(len(files)))
    found: list[int] = []
    stat = os.stat
    try:
        for at, rel in enumerate(files):
            try:
                info = stat(rel, dir_fd=fd)
                recorded, mtime = unpack(stats, at * size)
                if info.st_mtime_ns == mtime and info.st_size == recorded and mtime < racy:
                    continue
            except OSError:
                pass
            found.append(at)
    finally:
        os.close(fd)
    return found


__all__ = ["answer", "fork", "inputs", "output", "reap", "suspects"]
