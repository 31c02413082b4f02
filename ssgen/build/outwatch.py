"""Which output files may have changed since the last look: inotify over the output folder.

``find_damage`` stats every owned file before each incremental build (11k stats, ~40 ms
of CPU at 10k posts; ten times that at 100k). A long-lived process (serve) that builds
again and again can instead watch its output folder: Linux queues an inotify event in
the very system call that creates, writes, renames, deletes or touches a file, so
draining the queue at the start of a build names every file changed before it, ssgen's
own writes of the last build included. ``OutputWatch.touched`` returns those relpaths,
or None whenever it cannot vouch for the rest (the first look, a lost or overflowed
queue, a folder moved, no inotify): then every file is checked, as without a watch.

Not seen: writes through a shared ``mmap`` (the kernel sends no event for them) and
changes made while the folder is mounted elsewhere without the same inodes. A watch
is only ever set up by a process that asks for it (``ssgen serve``).
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ctypes

_MODIFY, _ATTRIB, _CLOSE_WRITE = 0x2, 0x4, 0x8
_MOVED_FROM, _MOVED_TO, _CREATE, _DELETE = 0x40, 0x80, 0x100, 0x200
_DELETE_SELF, _MOVE_SELF, _OVERFLOW, _IGNORED = 0x400, 0x800, 0x4000, 0x8000
_ONLYDIR, _ISDIR = 0x01000000, 0x40000000
_MASK = (_MODIFY | _ATTRIB | _CLOSE_WRITE | _MOVED_FROM | _MOVED_TO | _CREATE | _DELETE
         | _DELETE_SELF | _MOVE_SELF | _ONLYDIR)
_EVENT = struct.Struct("iIII")


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes.util  # here: ~1.5 ms of every build's start otherwise

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None
    return libc if hasattr(libc, "inotify_init1") and hasattr(libc, "inotify_add_watch") \
        else None


class OutputWatch:
    """inotify watches on every folder under ``root``; not thread-safe (one builder)."""

    def __init__(self, root: Path) -> None:
        self.root = os.path.abspath(root)
        self._libc = _libc()
        self._fd = -1
        self._dirs: dict[int, str] = {}  # watch descriptor -> folder relpath ("" = root)

    def touched(self) -> set[str] | None:
        """The relpaths of the files created, changed, renamed, touched or deleted since
        the last call, and of the folders created since (ending in ``/``: any file under
        them may have changed); None when every file must be checked (this call then
        starts a fresh watch, so the next call can tell again)."""
        if self._fd < 0:
            self._start()
            return None
        found: set[str] = set()
        try:
            while chunk := self._read():
                if not self._events(chunk, found):
                    self._start()
                    return None
        except OSError:
            self._start()
            return None
        return found

    def close(self) -> None:
        """Stop watching (the inotify descriptor is closed)."""
        if self._fd >= 0:
            os.close(self._fd)
        self._fd, self._dirs = -1, {}

    def _read(self) -> bytes:
        try:
            return os.read(self._fd, 1 << 16)
        except BlockingIOError:
            return b""

    def _events(self, chunk: bytes, found: set[str]) -> bool:
        """Add the files ``chunk``'s events name to ``found``; False when the watch can no
        longer vouch for every file (a folder moved, the root gone, lost events)."""
        offset = 0
        while offset < len(chunk):
            wd, mask, _, size = _EVENT.unpack_from(chunk, offset)
            name = os.fsdecode(chunk[offset + 16:offset + 16 + size].rstrip(b"\0"))
            offset += 16 + size
            if mask & _OVERFLOW or (wd in self._dirs and self._dirs[wd] == "" and mask & (
                    _DELETE_SELF | _MOVE_SELF | _IGNORED)):
                return False
            folder = self._dirs.get(wd)
            if mask & _IGNORED:
                self._dirs.pop(wd, None)  # its folder was deleted (its files said so first)
                continue
            if folder is None or not name:
                continue
            rel = f"{folder}/{name}" if folder else name
            if mask & _ISDIR:
                if mask & (_MOVED_FROM | _MOVED_TO):
                    return False  # a whole subtree left or arrived
                if mask & _CREATE:
                    # Its files made and deleted before the watch was on sent no event:
                    # the folder is named too ("rel/"), for every owned file under it.
                    found |= self._add_tree(rel)
                    found.add(f"{rel}/")
                continue
            found.add(rel)
        return True

    def _start(self) -> None:
        """A fresh inotify instance watching every folder now under the root."""
        self.close()
        if self._libc is None or not os.path.isdir(self.root):
            return
        fd = self._libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0:
            return
        self._fd = fd
        try:
            self._add_tree("")
        except OSError:  # out of watches (fs.inotify.max_user_watches): check every file
            self.close()

    def _add_tree(self, rel: str) -> set[str]:
        """Watch folder ``rel`` and every folder under it (watch first, then list, so no
        file made in between is missed); the files found in them."""
        files: set[str] = set()
        pending = [rel]
        while pending:
            folder = pending.pop()
            path = os.path.join(self.root, folder) if folder else self.root
            wd = self._libc.inotify_add_watch(self._fd, os.fsencode(path), _MASK) \
                if self._libc is not None else -1
            if wd < 0:
                import ctypes

                errno = ctypes.get_errno()
                if folder and errno in (2, 20):  # gone again, or not a folder: no files
                    continue
                raise OSError(errno, os.strerror(errno), path)
            self._dirs[wd] = folder
            try:
                entries = list(os.scandir(path))
            except FileNotFoundError:
                continue
            for entry in entries:
                child = f"{folder}/{entry.name}" if folder else entry.name
                if entry.is_dir(follow_symlinks=False):
                    pending.append(child)
                else:
                    files.add(child)
        return files


_WATCHES: dict[str, OutputWatch] = {}
# inotify instances are few per user (fs.inotify.max_user_instances, 128 by default) and
# shared with every other watcher of the user's: a process that forgets to unwatch
# (a test that never stops its worker) gives up its oldest watch, which is only slower.
_MAX_WATCHES = 4


def watch_output(output_dir: Path) -> None:
    """Watch ``output_dir`` for ``find_damage`` from now on (set up at its next look)."""
    key = os.path.abspath(output_dir)
    if key in _WATCHES:
        return
    while len(_WATCHES) >= _MAX_WATCHES:
        _WATCHES.pop(next(iter(_WATCHES))).close()
    _WATCHES[key] = OutputWatch(output_dir)


def unwatch_output(output_dir: Path) -> None:
    """Stop watching ``output_dir``."""
    watch = _WATCHES.pop(os.path.abspath(output_dir), None)
    if watch is not None:
        watch.close()


def touched_files(output_dir: Path) -> set[str] | None:
    """The files that may have changed under a watched ``output_dir`` since the last
    call; None when it is not watched or the watch cannot tell (check every file)."""
    watch = _WATCHES.get(os.path.abspath(output_dir))
    return None if watch is None else watch.touched()


__all__ = ["OutputWatch", "touched_files", "unwatch_output", "watch_output"]
