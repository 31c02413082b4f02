"""What ``GET /api/status`` shows to whom: counts and states to anyone, details to the owner.

The worker's status document holds error text, template and dataset paths (absolute
server paths among them) and the files each rebuild wrote. Anyone may see the public
view: states, counts and timings. The full document needs ``Authorization: Bearer
<secret>`` (or dev mode, which has no secret). Public keys are a fixed list, so a detail
added to the worker's document later stays private until it is listed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PUBLIC_KEYS = ("state", "queue_depth", "rebuilds", "generation", "retry_in", "pages",
               "failed_pages", "revalidate")
PUBLIC_REBUILD_KEYS = ("ok", "seconds", "finished")
PUBLIC_DEPLOY_KEYS = ("configured", "deploys", "owed", "failed")


def full_status(worker_status: Mapping[str, Any]) -> dict[str, Any]:
    """The whole document, plus the counts the public view shows (same keys, same meaning)."""
    view = dict(worker_status)
    view["failed_pages"] = len(view.get("failures") or [])
    if isinstance(view.get("deploy"), Mapping):
        view["deploy"] = {**view["deploy"], "failed": bool(view["deploy"].get("error"))}
    return view


def public_status(worker_status: Mapping[str, Any]) -> dict[str, Any]:
    """A subset of ``full_status``: states, counts and timings; no error text, paths or files."""
    full = full_status(worker_status)
    view = {key: full[key] for key in PUBLIC_KEYS if key in full}
    view["last_rebuild"] = _subset(full.get("last_rebuild"), PUBLIC_REBUILD_KEYS)
    view["deploy"] = _subset(full.get("deploy"), PUBLIC_DEPLOY_KEYS)
    return view


def _subset(value: Any, keys: tuple[str, ...]) -> dict[str, Any] | None:
    if not isinstance(value, Mapping):
        return None
    return {key: value[key] for key in keys if key in value}


__all__ = ["PUBLIC_KEYS", "full_status", "public_status"]
