"""``Output``: the only writer of the site's files, atomic and only when bytes change.

Every relpath is checked twice: lexically (``ssgen.routes.paths``), and on disk, where
each folder is checked once per ``Output``; temp files are ``temps``'s, single-file
operations ``fileops``'s.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

from ssgen.build import faults
from ssgen.build.output.fileops import (
    copy_into,
    file_stat,
    problem,
    same_bytes,
    same_file,
    walk_files,
    write_all,
)
from ssgen.build.output.temps import (
    SWEPT,
    displace,
    sweep_temps,
    temp_name,
    unlink_quietly,
)
from ssgen.errors import OutputError
from ssgen.routes.paths import checked_relpath, safe_relpath


class Output:
    """Writes files under ``root`` atomically, only when their bytes change."""

    def __init__(self, root: Path, *, fsync: bool = False, unseen: bool = False) -> None:
        self.root = Path(root)
        self.fsync = fsync
        # No reader looks into ``root`` (a cold build's staging folder, ``staging``): a
        # new file is written in place, without a temp file and a rename.
        self.unseen = unseen
        self._real_root: str | None = None
        self._checked_dirs: set[str] = set()
        self._swept_dirs = SWEPT

    def path(self, relpath: str | PurePosixPath) -> Path:
        """The absolute path of ``relpath`` (checked lexically, not created)."""
        return self.root.joinpath(*safe_relpath(relpath).parts)

    def read(self, relpath: str | PurePosixPath) -> bytes | None:
        """The current bytes of ``relpath``, or None when it does not exist."""
        target = self.path(relpath)
        try:
            return target.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise OutputError(f"cannot read {target}: {problem(exc)}") from exc

    def stat(self, relpath: str | PurePosixPath) -> tuple[int, int]:
        """(size, mtime_ns) of an output file, or (-1, -1) when it cannot be read."""
        return file_stat(str(self.path(relpath)))

    def write(self, relpath: str | PurePosixPath, data: bytes) -> bool:
        """Write ``data`` to ``relpath`` atomically; False (file untouched) if identical."""
        return self.put(relpath, data)[0]

    def put(self, relpath: str | PurePosixPath, data: bytes) -> tuple[bool, bool]:
        """Like ``write``; returns ``(written, created)``: created when the file was new."""
        return self.put_stat(relpath, data)[:2]

    def put_stat(self, relpath: str | PurePosixPath, data: bytes) -> tuple[bool, bool, int, int]:
        """``put`` plus the file's ``(size, mtime_ns)`` afterwards, as ``stat`` gives them
        (taken from the open file when it was written: no second path lookup)."""
        rel = checked_relpath(relpath)
        folder, fresh = self._prepare_dir(rel)
        target = os.path.join(folder, rel.rpartition("/")[2])
        # A folder this call created holds no file yet: no need to look for one.
        same = None if fresh else same_bytes(target, data)
        if same:
            return (False, False, *file_stat(target))
        if same is None and self.unseen:
            info = self._create(target, data)
            return True, True, info.st_size, info.st_mtime_ns
        written: list[os.stat_result] = []

        def fill(fd: int) -> None:
            write_all(fd, data)
            written.append(os.fstat(fd))

        self._replace(folder, target, fill)
        return True, same is None, written[0].st_size, written[0].st_mtime_ns

    def remove(self, relpath: str | PurePosixPath, *, prune: bool = True) -> bool:
        """Delete ``relpath`` if it exists and prune emptied folders; True if removed."""
        rel = safe_relpath(relpath)
        target = self.root.joinpath(*rel.parts)
        self._check_inside(str(target.parent), rel)
        try:
            target.unlink()
        except FileNotFoundError:
            return False
        except IsADirectoryError as exc:
            raise OutputError(f"cannot remove {rel}: it is a folder") from exc
        except OSError as exc:
            raise OutputError(f"cannot remove {target}: {problem(exc)}") from exc
        if prune:
            self.prune([target.parent])
        return True

    def remove_stale(self, keep: set[str], owned: set[str]) -> list[str]:
        """Remove files ssgen owns (``owned``) that are no longer produced (not in ``keep``)."""
        removed = [rel for rel in sorted(owned - keep) if self.remove(rel, prune=False)]
        self.prune([self.path(rel).parent for rel in removed])
        return removed

    def sweep(self, relpaths: Iterable[str | PurePosixPath]) -> list[str]:
        """Delete the temp files that dead writers left beside ``relpaths`` now, even in
        folders this process swept before (a killed build or worker wrote there since);
        prune the folders that leaves empty. Returns the temp files' relpaths."""
        folders: dict[str, PurePosixPath] = {}
        for relpath in relpaths:
            rel = safe_relpath(relpath)
            folders.setdefault(os.path.join(str(self.root), *rel.parent.parts), rel)
        removed: list[str] = []
        for folder, rel in sorted(folders.items()):
            try:
                self._check_inside(folder, rel)
            except OutputError:  # a symlink out of the output: nothing of ours is there
                continue
            removed += sweep_temps(folder)
            self._swept_dirs.add(folder)
        self.prune([Path(path).parent for path in removed])
        return [Path(path).relative_to(self.root).as_posix() for path in removed]

    def copy_static(self, src: Path) -> list[str]:
        """Copy every file under ``src`` into the root; the relpaths whose bytes changed."""
        written: list[str] = []
        for rel, source in walk_files(Path(src)):
            if self.copy_file(source, rel):
                written.append(rel)
        return written

    def copy_file(self, source: Path, relpath: str | PurePosixPath) -> bool:
        """Copy ``source`` to ``relpath`` atomically; False (untouched) if identical."""
        rel = checked_relpath(relpath)
        folder, _ = self._prepare_dir(rel)
        target = Path(folder, rel.rpartition("/")[2])
        try:
            if same_file(source, target):
                return False
            with source.open("rb") as fsrc:
                self._replace(folder, target, lambda fd: copy_into(fsrc, fd))
        except OSError as exc:
            raise OutputError(f"cannot copy {source} to {rel}: {problem(exc)}") from exc
        return True

    def _replace(self, folder: str, target: str | Path, fill: Callable[[int], None]) -> None:
        temp = temp_name(folder)
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            try:
                fill(fd)
                if self.fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            faults.mid_write()
            displace(str(target))
            os.replace(temp, target)
        except BaseException as exc:
            unlink_quietly(temp)
            if isinstance(exc, OSError):
                raise OutputError(f"cannot write {target}: {problem(exc)}") from exc
            raise
        faults.after_write()

    def _create(self, target: str, data: bytes) -> os.stat_result:
        """A new file written in place (``unseen``); removed again if the write fails."""
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {problem(exc)}") from exc
        try:
            try:
                write_all(fd, data)
                if self.fsync:
                    os.fsync(fd)
                info = os.fstat(fd)
            finally:
                os.close(fd)
            faults.mid_write()
        except BaseException as exc:
            unlink_quietly(target)
            if isinstance(exc, OSError):
                raise OutputError(f"cannot write {target}: {problem(exc)}") from exc
            raise
        faults.after_write()
        return info

    def _root_real(self) -> str:
        if self._real_root is None:
            try:
                self.root.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                msg = f"cannot create output folder {self.root}: {problem(exc)}"
                raise OutputError(msg) from exc
            self._real_root = os.path.realpath(self.root)
            # Once a process, as every folder (``_prepare_dir``): each Output of a build
            # listed the root again (4 listings of 16k pages' folders: ~25 ms).
            if str(self.root) not in self._swept_dirs:
                sweep_temps(str(self.root))
            # Under both names: ``_prepare_dir`` sees the root as its real path.
            self._swept_dirs.update((str(self.root), self._real_root))
        return self._real_root

    def _check_inside(self, folder: str, rel: str | PurePosixPath) -> str:
        root = self._root_real()
        real = os.path.realpath(folder)
        if real != root and not real.startswith(root + os.sep):
            raise OutputError(f"output file {str(rel)!r} resolves outside {self.root} (symlink?)")
        return real

    def _prepare_dir(self, rel: str) -> tuple[str, bool]:
        """The checked folder of ``rel`` (created if needed) and whether this call made it."""
        self._root_real()
        head = rel.rpartition("/")[0]
        root = str(self.root)
        folder, fresh = self._ensure_dir(os.path.join(root, head) if head else root, rel)
        # Temp files only ever live beside their target: sweep the folders written into,
        # not every parent (listing public/blog/ with 10k pages is not free).
        if not fresh and folder not in self._swept_dirs:
            sweep_temps(folder)
        self._swept_dirs.add(folder)
        return folder, fresh

    def _ensure_dir(self, folder: str, rel: str) -> tuple[str, bool]:
        # One mkdir or lstat per new folder: a folder made by mkdir (or a real folder,
        # not a symlink) under a checked parent is inside the root without a realpath.
        if folder in self._checked_dirs or folder == str(self.root):
            return folder, False
        self._ensure_dir(os.path.dirname(folder), rel)
        try:
            os.mkdir(folder)
        except FileExistsError:
            return self._existing_dir(folder, rel), False
        except OSError as exc:
            raise OutputError(f"cannot create folder for {rel}: {problem(exc)}") from exc
        self._checked_dirs.add(folder)
        return folder, True

    def _existing_dir(self, folder: str, rel: str) -> str:
        try:
            mode = os.lstat(folder).st_mode
        except OSError as exc:
            raise OutputError(f"cannot create folder for {rel}: {problem(exc)}") from exc
        if stat.S_ISLNK(mode):
            self._check_inside(folder, rel)
            if not os.path.isdir(folder):
                raise OutputError(f"cannot create folder for {rel}: not a folder")
        elif not stat.S_ISDIR(mode):
            raise OutputError(f"cannot create folder for {rel}: a file is in the way")
        self._checked_dirs.add(folder)
        return folder

    def prune(self, folders: Iterable[Path]) -> None:
        """Remove the empty ones among ``folders`` and their ancestors, deepest first.

        Each folder is tried once: on a large folder ``rmdir`` itself is slow, so a batch
        of removals prunes once at the end rather than after every file.
        """
        root = Path(self._root_real())
        candidates: set[Path] = set()
        for folder in folders:
            current = Path(os.path.realpath(folder))
            while current != root and root in current.parents and current not in candidates:
                candidates.add(current)
                current = current.parent
        busy: set[Path] = set()
        for folder in sorted(candidates, key=lambda p: len(p.parts), reverse=True):
            if folder in busy:
                continue
            try:
                folder.rmdir()
            except OSError:
                busy.update(folder.parents)
        self._checked_dirs.clear()


__all__ = ["Output"]
