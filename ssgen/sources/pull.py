"""``ssgen pull``: snapshot a remote Sanity dataset to NDJSON for offline builds.

Owns paging through every document (``*[_id > $last] | order(_id) [0...N]``, so pages
are stable while the dataset changes), leaving out system documents (``_.*``), and the
atomic write of the snapshot (temp file in the same folder, fsync, rename).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ssgen.errors import SourceError
from ssgen.sources.atomic import write_atomic
from ssgen.sources.sanity import SanitySource

PAGE_QUERY = '*[_id > $last && !(_id in path("_.**"))] | order(_id asc) [0...{size}]'


def pull(source_config: Any, out: Path, *, page_size: int = 1000, **source_options: Any) -> int:
    """Write every document to ``out`` (NDJSON, ordered by ``_id``); returns the count.

    ``source_config`` is a ``Config``, a ``SourceConfig`` or ``SanitySettings``. The
    perspective is ``raw`` so drafts come along when the token can read them.
    """
    source = SanitySource(source_config, perspective="raw", use_cdn=False, **source_options)
    try:
        lines = list(_documents(source, page_size))
    finally:
        source.close()
    write_atomic(out, "".join(line + "\n" for line in lines).encode("utf-8"), "pull")
    return len(lines)


def _documents(source: SanitySource, page_size: int) -> list[str]:
    lines: list[str] = []
    last = ""
    while True:
        query = PAGE_QUERY.format(size=int(page_size))
        page = source.query(query, {"last": last}, tag="ssgen.sources.pull", fresh=True).value
        if not isinstance(page, list):
            raise SourceError(f"pull: expected a list of documents, got {type(page).__name__}")
        for doc in page:
            if not isinstance(doc, dict) or not isinstance(doc.get("_id"), str):
                raise SourceError(f"pull: a result item has no _id: {str(doc)[:100]}")
            lines.append(json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
        if len(page) < page_size:
            return lines
        last = page[-1]["_id"]
