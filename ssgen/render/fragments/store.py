"""Included fragments kept across processes: keyed by value, not by object identity.

``FragmentCache`` (``ssgen.render.fragments``) keys an include's output by the identity of what it
reads, which only means something inside one process. A new process (``ssgen build``,
``ssgen revalidate``) after a one-post edit would render every post card of the author
and category pages again. ``PersistedFragments`` holds outputs keyed by a digest of
*values*: the template's name and, for each name it reads, its exact JSON encoding (key
order kept, ints and floats apart), its scalar value, or, for a helper it only calls, the
helper's type. What else an output depends on (every template's text, ssgen's code,
the configuration) is the key of the whole store, checked by the caller that loads
it (``ssgen.build.fragfile``): any difference there drops every entry. A value that has
no exact encoding (a non-JSON object, a non-string key) is never kept.

``activate`` makes a store the one ``FragmentCache.render`` consults; forked render
workers inherit it and hand back what they ``added``. Pure: no I/O here.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import jinja2
import orjson
from jinja2.utils import missing
from markupsafe import Markup

from ssgen.render.filters import PageUrl

# (output text, image variant tags it recorded, save generation it was last used in)
Entry = tuple[str, tuple[str, ...], int]

_SCALARS = (str, int, float, bool, type(None))


class Entries(Protocol):
    """Loaded entries by value key: a dict, or a file read on demand (``ssgen.build.fragfile``)."""

    def get(self, key: bytes, /) -> Entry | None: ...

    def update(self, more: Mapping[bytes, Entry], /) -> None: ...


class PersistedFragments:
    """Value-keyed include outputs: those loaded (``entries``), those a render used, and
    those it added. ``read=False``: look nothing up (a full build renders every fragment
    afresh, the reference the others are checked against, then saves them)."""

    def __init__(self, entries: Entries, generation: int, *, read: bool = True) -> None:
        self.read = read
        self.entries: Entries = entries if read else {}
        self.generation = generation
        self.used: set[bytes] = set()
        self.added: dict[bytes, Entry] = {}
        self.hits = 0

    def get(self, key: bytes) -> Entry | None:
        """The entry for ``key`` (loaded or added in this process), marked used."""
        if not self.read:
            return None
        found = self.added.get(key)
        if found is None:
            found = self.entries.get(key)
            if found is None:
                return None
            self.used.add(key)
        self.hits += 1
        return found

    def add(self, key: bytes, text: str, images: frozenset[str]) -> None:
        """Remember a freshly rendered output."""
        self.added[key] = (text, tuple(sorted(images)), self.generation)

    def merge(self, added: Mapping[bytes, Entry], used: set[bytes]) -> None:
        """Take what a render worker added and used."""
        self.added.update(added)
        self.used |= used


_ACTIVE: list[PersistedFragments] = []


def active() -> PersistedFragments | None:
    """The store renders in this process consult, if any."""
    return _ACTIVE[-1] if _ACTIVE else None


def activate(store: PersistedFragments | None) -> None:
    """Make ``store`` the active one (None: none)."""
    _ACTIVE.clear()
    if store is not None:
        _ACTIVE.append(store)


def value_key(template: jinja2.Template, names: tuple[str, ...], called: frozenset[str],
              context: jinja2.runtime.Context, local: Mapping[str, Any]) -> bytes | None:
    """The digest of everything ``template`` reads, by value; None when some value has
    no exact encoding."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(str(template.name).encode() + b"\0")
    for name in names:
        value = local.get(name, missing)
        if value is missing:
            value = context.resolve_or_missing(name)
        part = _encode(value, name in called)
        if part is None:
            return None
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.digest()


def _encode(value: Any, only_called: bool) -> bytes | None:
    if value is missing:
        return b"M"
    if only_called and callable(value):
        return b"C" + _helper_name(getattr(value, "helper", value)).encode()
    kind = type(value)
    if kind is PageUrl:
        return b"P" + str(value).encode()
    if kind is Markup:
        return b"K" + str(value).encode()
    if kind in _SCALARS:
        return b"S" + kind.__name__.encode() + b":" + repr(value).encode()
    if kind is dict or kind is list:
        try:
            encoded = orjson.dumps(value, default=_refuse, option=orjson.OPT_PASSTHROUGH_SUBCLASS)
        except (TypeError, orjson.JSONEncodeError):
            return None
        # orjson writes NaN and infinities as null: such a value must not share a key.
        if b"null" in encoded and not _finite(value):
            return None
        return b"J" + encoded
    return None


def _finite(value: Any) -> bool:
    stack = [value]
    while stack:
        current = stack.pop()
        kind = type(current)
        if kind is dict:
            stack.extend(current.values())
        elif kind is list:
            stack.extend(current)
        elif kind is float and not math.isfinite(current):
            return False
    return True


def _helper_name(helper: Callable[..., Any] | Any) -> str:
    # Helpers a fragment only calls are the renderer's pure globals (see fragments.py):
    # what they do is fixed by ssgen's code and the configuration, both in the store's key.
    target = helper if hasattr(helper, "__qualname__") else type(helper)
    return f"{getattr(target, '__module__', '')}.{getattr(target, '__qualname__', '')}"


def _refuse(value: Any) -> Any:
    raise TypeError(f"no exact encoding for {type(value).__name__}")
