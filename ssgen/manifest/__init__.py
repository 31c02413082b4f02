"""Build state in SQLite: pages, tags, documents, owned files, failures, the durable queue.

``schema`` creates and migrates the tables; ``pages`` holds the in-memory page records;
``state`` the documents, owned files and failures; ``queue`` the accepted changes;
``store`` the ``Manifest`` that combines them; ``lock`` the one-builder-at-a-time lock.
Exposes ``Manifest``. May import routes, errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ssgen.manifest.store import Manifest

__all__ = ["Manifest"]


def __getattr__(name: str) -> Any:
    # Lazy: a new ``ssgen build`` takes the build lock (``lock``) before it forks the
    # Markdown parse; importing ``store`` (sqlite3, the schema: ~7 ms) then would delay
    # the fork, while after it the import overlaps the parse.
    if name == "Manifest":
        from ssgen.manifest.store import Manifest

        return Manifest
    raise AttributeError(f"module 'ssgen.manifest' has no attribute {name!r}")
