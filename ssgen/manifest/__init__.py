"""Build state in SQLite: pages, tags, documents, owned files, failures, the durable queue.

``schema`` creates and migrates the tables; ``pages`` holds the in-memory page records;
``state`` the documents, owned files and failures; ``queue`` the accepted changes;
``store`` the ``Manifest`` that combines them; ``lock`` the one-builder-at-a-time lock.
Exposes ``Manifest``. May import routes, errors.
"""

from ssgen.manifest.store import Manifest

__all__ = ["Manifest"]
