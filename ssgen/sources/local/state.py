"""The shape of a ``LocalSource``'s state (``__getstate__``) as a snapshot decodes it in
another process: ``checked``, called by ``LocalSource.from_state``. Imported only when a
snapshot is resumed, with the maintained queries' ``QueryCache`` it checks for."""

from __future__ import annotations

from typing import Any

from ssgen.sources.local.cached import Cached
from ssgen.sources.local.view import View
from ssgen.sources.query_cache import QueryCache

# The attributes a source's state has (``LocalSource.__getstate__``).
STATE_KEYS = frozenset((
    "_config", "_preread", "_prelisted", "_prestamps", "_files", "_read_at", "_kept",
    "perspective", "session", "_results", "resumed", "_cache", "_loaded_inputs",
    "_documents", "_view"))


def checked(state: object) -> dict[str, Any]:
    """``state`` when it has the shape of a local source's state; ``ValueError`` if not."""
    if type(state) is not dict or set(state) != STATE_KEYS:
        raise ValueError("not a local source's state")
    cache, view = state["_cache"], state["_view"]
    if type(cache) is not dict or not all(type(path) is str and type(cached) is Cached
                                          for path, cached in cache.items()) \
            or type(view) is not View or type(state["perspective"]) is not str \
            or not isinstance(state["_results"], QueryCache | None) \
            or type(state["_loaded_inputs"]) is not list:
        raise ValueError("not a local source's state")
    return state
