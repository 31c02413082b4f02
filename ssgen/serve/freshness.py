"""Read-your-writes for serve: the source a webhook round queries sees the webhook's write.

Owns ``fresh_source`` (switch a remote source off its CDN) and ``expect_revisions``
(before building, wait until the API returns the ``_rev``s the webhooks carried, using
the Sanity source's ``expect_rev``; sources without it are left alone).
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

from ssgen.build.change import Change
from ssgen.errors import SsgenError
from ssgen.sources import Source

log = logging.getLogger("ssgen.serve")


def fresh_source(source: Source) -> Source:
    """A remote source switched to read-your-writes (never the CDN), when it supports it."""
    revalidating = getattr(source, "revalidating", None)
    if callable(revalidating):
        revalidating()
    return source


def expect_revisions(source: Source, change: Change) -> None:
    """Wait out replication lag for the webhook ``_rev``s, where the source supports it.

    A mirrored source pulls the changed documents into its mirror instead (errors go to
    the worker, which retries the round: the change must not be built from an old copy).
    """
    apply_change = getattr(source, "apply_change", None)
    if callable(apply_change):
        apply_change(change)
        return
    revs = {d.id: d.rev for d in change.documents if d.rev and d.operation != "delete"}
    if not revs:
        return
    try:
        if "expect_rev" not in inspect.signature(source.query).parameters:
            return
        from ssgen.groq import parse

        probe = parse("*[_id in $ids]{_id, _rev}")
        query: Any = source.query
        query(probe, {"ids": sorted(revs)}, expect_rev=revs)
    except SsgenError as exc:
        log.warning("freshness check failed, building anyway: %s", exc,
                    extra={"event": "freshness"})


__all__ = ["expect_revisions", "fresh_source"]
