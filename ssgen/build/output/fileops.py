"""Bytes on disk for the output (one file at a time): hashes, stats, full writes,
comparisons and the OS error in words (with what to do about the common ones)."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from ssgen.build.output.temps import TEMP_PREFIX
from ssgen.errors import OutputError

_CHUNK = 1 << 20


def sha256(data: bytes) -> str:
    """The hex SHA-256 of ``data``: the output hash recorded in the manifest."""
    return hashlib.sha256(data).hexdigest()


_HINTS = {
    errno.EACCES: "check the output folder's owner and permissions",
    errno.EPERM: "check the output folder's owner and permissions",
    errno.EROFS: "the output folder is on a read-only file system; set site.output elsewhere",
    errno.ENOSPC: "the disk is full; free some space and build again",
}


def problem(exc: OSError) -> str:
    """The OS error in words, plus what to do about the common ones."""
    text = exc.strerror or str(exc)
    hint = _HINTS.get(exc.errno or 0)
    return f"{text} ({hint})" if hint else text


def file_stat(path: str) -> tuple[int, int]:
    """(size, mtime_ns) of a regular file, or (-1, -1) when missing or not a file."""
    try:
        info = os.stat(path)
    except OSError:
        return -1, -1
    if not stat.S_ISREG(info.st_mode):
        return -1, -1
    return info.st_size, info.st_mtime_ns


def write_all(fd: int, data: bytes) -> None:
    """All of ``data`` to ``fd`` (``os.write`` may write less than asked)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def copy_into(fsrc: BinaryIO, fd: int) -> None:
    """Copy the open file ``fsrc`` into ``fd`` in chunks."""
    with os.fdopen(os.dup(fd), "wb") as fdst:
        shutil.copyfileobj(fsrc, fdst, _CHUNK)


def same_bytes(target: str, data: bytes) -> bool | None:
    """True if ``target`` holds ``data``, False if other bytes, None if it does not exist."""
    try:
        info = os.stat(target)
        if stat.S_ISDIR(info.st_mode):
            raise OutputError(f"cannot write {target}: a folder is in the way")
        if info.st_size != len(data):
            return False
        with open(target, "rb") as handle:
            return handle.read() == data
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise OutputError(f"cannot read {target}: {problem(exc)}") from exc


def same_file(source: Path, target: Path) -> bool:
    """Whether ``target`` exists with the bytes of ``source``."""
    try:
        if source.stat().st_size != target.stat().st_size:
            return False
    except FileNotFoundError:
        return False
    with source.open("rb") as a, target.open("rb") as b:
        while True:
            chunk = a.read(_CHUNK)
            if chunk != b.read(_CHUNK):
                return False
            if not chunk:
                return True


def walk_files(src: Path) -> Iterable[tuple[str, Path]]:
    """Every file under ``src`` (temp files skipped) as ``(relpath, path)``, sorted."""
    if not src.is_dir():
        return
    for folder, dirs, files in os.walk(src):
        dirs.sort()
        base = Path(folder)
        rel_folder = base.relative_to(src).as_posix()
        for name in sorted(files):
            if name.startswith(TEMP_PREFIX):
                continue
            rel = name if rel_folder == "." else f"{rel_folder}/{name}"
            yield rel, base / name


__all__ = ["copy_into", "file_stat", "problem", "same_bytes", "same_file", "sha256",
           "walk_files", "write_all"]
