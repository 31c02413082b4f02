"""Where a site's state lives, and opening it: ``.ssgen/manifest.sqlite`` by default.

Owns ``open_state(state_dir, *, reset_broken)``: the one place that chooses the manifest's
database, so the build, serve, deploy and status open the same one.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ssgen.errors import ManifestError
from ssgen.manifest.store import Manifest

log = logging.getLogger("ssgen.manifest")


def sqlite_path(state_dir: Path) -> Path:
    """The SQLite manifest file in a site's state folder."""
    return Path(state_dir) / "manifest.sqlite"


def open_state(state_dir: Path, *, reset_broken: bool = False) -> Manifest:
    """The site's manifest; with ``reset_broken`` an unreadable one is replaced (the
    next build is then full), else its ManifestError propagates."""
    path = sqlite_path(state_dir)
    try:
        return Manifest.open(path)
    except ManifestError as exc:
        if not reset_broken:
            raise
        log.warning("%s; starting with a new manifest", exc, extra={"event": "manifest_reset"})
        return Manifest.reset(path)


__all__ = ["open_state", "sqlite_path"]
