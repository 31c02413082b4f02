"""The redirects ``ssgen serve`` answers before looking for a file: ``redirects.json``
at the output root (written by the build), re-read whenever its size, mtime or inode
changes (the build replaces it by rename).

A moved page's old path gets a real 301 (or the status its ``[[redirects]]`` entry
names) to its current path; an unpublished document's path gets 410 with its stub page.
"""

from __future__ import annotations

import os
from pathlib import Path

from ssgen.config.redirects import path_key
from ssgen.render.redirects import JSON_FILE, load_redirects
from ssgen.routes.paths import canonical_path
from ssgen.routes.redirects import Redirect


class RedirectTable:
    """``redirects.json`` of one output folder, kept in step with the file."""

    def __init__(self, root: Path) -> None:
        self.file = Path(root) / JSON_FILE
        self._stamp: tuple[int, int, int] | None = None
        self._table: dict[str, Redirect] = {}

    def lookup(self, path: str) -> Redirect | None:
        """The redirect or 410 of the decoded URL ``path``, if it has one."""
        table = self._current()
        if not table:
            return None
        return table.get(path_key(canonical_path(path)))

    def _current(self) -> dict[str, Redirect]:
        try:
            stat = os.stat(self.file)
        except OSError:
            self._stamp, self._table = None, {}
            return self._table
        stamp = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
        if stamp != self._stamp:
            try:
                data = self.file.read_bytes()
            except OSError:
                data = b""
            self._stamp, self._table = stamp, load_redirects(data)
        return self._table


__all__ = ["RedirectTable"]
