"""The per-site memos: what a process keeps of the sites it built (kept pages, route and
data-hash memos, the sitemap's and feed's, the renderer, the manifest's page index), each
a module's dict keyed by site folder, manifest or output path, registered here so that a
long-lived process can let go of every site at once (``forget_sites``).

A memo only saves work: each is checked against what it was made from before it is used,
so a process that forgot them builds what a new process would. ``forget_sites`` is for a
process between sites (the test suite between tests, an embedding that builds many
sites), never during a build. Registries that are not per site (compiled patterns, the
database pools, the process's own lock fence) are not registered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_MEMOS: list[dict[Any, Any]] = []
_FORGETS: list[Callable[[], None]] = []


def site_memo() -> dict[Any, Any]:
    """A new, empty memo dict that ``forget_sites`` clears."""
    memo: dict[Any, Any] = {}
    _MEMOS.append(memo)
    return memo


def on_forget(forget: Callable[[], None]) -> Callable[[], None]:
    """Register ``forget`` (a module's own, for memos that hold files or mappings to
    close) to run in ``forget_sites``; returned as is, so it serves as a decorator."""
    _FORGETS.append(forget)
    return forget


def forget_sites() -> None:
    """Drop what every registered memo holds: the state of a process that built no site
    yet (of the modules imported so far)."""
    for memo in _MEMOS:
        memo.clear()
    for forget in _FORGETS:
        forget()


__all__ = ["forget_sites", "on_forget", "site_memo"]
