"""Page data hashes: what the planner compares to decide whether a page's data changed.

The hash a page's record keeps also covers its tags (``tagged``): a page renders when
its data or its tags changed, so that its record names every document it depends on.

A page's hash covers what is particular to it (its context less the site-wide ``site``
and ``data``, which are tracked as globals). Long lists in it (an author page's 4,000
post cards, at most two objects deep) are hashed as the sha256 of their items' hashes,
each item hashed on its own: the digest is a pure function of the value, and a rebuild
hashes only the items that are not the very objects hashed last time for that page (the
common prefix and suffix are found by identity, in C), so an 8 MB author page's data is
not serialised again for one edited post.

Memoised per (site, path) in this process: a page whose spec is the one last hashed (or
has its stamp, ``ssgen.stamp``), or whose context holds the same objects, reuses its
hash. Sound because query results are
never mutated once returned (see ``ssgen.groq.memo``). A snapshot carries each page's
memo without its own values (``own``: a new process knows the spec by its stamp only,
and hashes a spec made again afresh), so that they need not be the decoded items.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Set as AbstractSet
from dataclasses import field
from itertools import compress, count
from typing import Any

from ssgen import shells
from ssgen.fastclass import dataclass
from ssgen.groq.values import same_json
from ssgen.memos import site_memo
from ssgen.routes.page import PageSpec
from ssgen.routes.spec import data_hash

# Context keys that are shared by every page; their changes are tracked as globals.
SHARED_KEYS = frozenset({"site", "data"})
# Lists at least this long whose first item is an object or a list are hashed item by
# item (others: with the rest of the page, in one orjson call).
LONG_LIST = 32
# How deep in the page's context (dicts only) long lists are looked for.
_DEPTH = 2
_PLAIN = (str, int, float, bool, type(None))
# Stands for a long list in the structure that is hashed; a NUL cannot come from a
# page's own JSON keys by accident.
_ITEMS = "\x00items:"


@dataclass
class _ListHash:
    """A long list as last hashed (a copy) and the hash of each of its items."""

    items: list[Any]
    digests: list[str]


@dataclass
class _Known:
    """A page spec's hashed data: its own values, the digest and the hashed lists."""

    spec: PageSpec
    own: dict[str, Any] | None  # None: not kept (a snapshot carries the spec's stamp only)
    digest: str
    lists: dict[tuple[str, ...], _ListHash] = field(default_factory=dict)


# (site, path) -> what was last hashed for that page.
_KNOWN: dict[tuple[str, str], _Known] = site_memo()
_MISSES = [0]  # see ``misses``
# id -> (a long list of scalars, its hash). A paginated route hands the same list of page
# URLs to each of its pages; hashing it once per page made the archive O(pages^2). The list
# is kept so its id stays its own.
_SCALARS: dict[int, tuple[list[Any], str]] = site_memo()
_SCALARS_KEEP = 64
# tag -> its 64-bit hash (``tagged``); cleared past this many.
_TAG_HASHES: dict[str, int] = site_memo()
_TAG_HASHES_KEEP = 1 << 21
_MASK64 = (1 << 64) - 1
# (site, path) -> the tags of a page that has many and their sum (``tagged``).
_MANY_TAGS = 1024
_MANY: dict[tuple[str, str], tuple[frozenset[str], int]] = site_memo()


def page_data_hash(spec: PageSpec, site: str = "") -> str:
    """The hash of what is particular to one page (see the module doc)."""
    key = (site, spec.path)
    known = _KNOWN.get(key)
    if known is not None and (known.spec is spec or known.spec.stamp == spec.stamp):
        return known.digest
    own = {k: v for k, v in spec.context.items() if k not in SHARED_KEYS}
    if known is not None and known.own is not None \
            and (known.spec.tags is spec.tags or known.spec.tags == spec.tags) \
            and (_same_refs(known.own, own) or (
                type(own.get("page")) is list and _filled(own) and same_json(known.own, own))):
        # Keep the newer objects: the next comparison is then an identity check.
        _KNOWN[key] = _Known(spec, own, known.digest, known.lists)
        return known.digest
    lists: dict[tuple[str, ...], _ListHash] = {}
    shells.fill_reachable(own)  # past the identities: the values are read
    digest = tagged(composed_hash(own, {} if known is None else known.lists, lists),
                    spec.tags, key)
    _KNOWN[key] = _Known(spec, own, digest, lists)
    _MISSES[0] += 1
    return digest


def tagged(digest: str, tags: frozenset[str], key: tuple[str, str] | None = None) -> str:
    """``digest`` (a page's data) joined with its tags, order aside: what its record
    keeps. A page whose tags changed with its data the same (a document its query read
    only in a filter or an ``order()``, a list's first page that now carries the ids no
    item holds) then renders again, and its record names them; else an edit of one of
    them would reach no page. ``key``: the page's (site, path), whose last sum a page of
    many tags (a home page reading every post) updates by the tags that changed."""
    total = _tag_sum(tags) if key is None or len(tags) < _MANY_TAGS else _many(tags, key)
    return hashlib.sha256(f"{digest}:{total & _MASK64:016x}".encode()).hexdigest()


def _tag_sum(tags: AbstractSet[str]) -> int:
    """The sum of the tags' 64-bit hashes, each hashed once per process."""
    try:
        return sum(map(_TAG_HASHES.__getitem__, tags))
    except KeyError:
        if len(_TAG_HASHES) > _TAG_HASHES_KEEP:
            _TAG_HASHES.clear()
        for tag in set(tags).difference(_TAG_HASHES):
            _TAG_HASHES[tag] = int.from_bytes(
                hashlib.blake2b(tag.encode(), digest_size=8).digest(), "little")
        return sum(map(_TAG_HASHES.__getitem__, tags))


def _many(tags: frozenset[str], key: tuple[str, str]) -> int:
    last = _MANY.get(key)
    if last is None:
        total = _tag_sum(tags)
    elif last[0] is tags:
        return last[1]
    else:
        total = last[1] - _tag_sum(last[0] - tags) + _tag_sum(tags - last[0])
    _MANY[key] = (tags, total)
    return total


def _filled(own: dict[str, Any]) -> bool:
    """True, once the unfilled snapshot shells ``own`` holds are filled (``ssgen.shells``)."""
    shells.fill_reachable(own)
    return True


def adopt_digest(spec: PageSpec, site: str, digest: str) -> bool:
    """Remember ``digest`` as ``spec``'s hash, taken by another process (a full build's
    render worker) with ``page_data_hash``; False, remembering nothing, when the page has
    long lists, whose per-item hashes (which the next hash of the page reuses) only
    hashing it here gives."""
    own = {k: v for k, v in spec.context.items() if k not in SHARED_KEYS}
    shells.check_filled(own, "a page's data")
    if _has_long_list(own, 0):
        return False
    _KNOWN[(site, spec.path)] = _Known(spec, own, digest)
    return True


def _has_long_list(value: dict[str, Any], depth: int) -> bool:
    """Whether ``_shape`` would hash a list of ``value`` item by item."""
    for item in value.values():
        kind = type(item)
        if kind is list and len(item) >= LONG_LIST and type(item[0]) in (dict, list):
            return True
        if kind is dict and depth + 1 < _DEPTH and _has_long_list(item, depth + 1):
            return True
    return False


def misses() -> int:
    """Pages hashed afresh (not from the memo) since the last ``adopt``: many of them
    after a resumed snapshot mean its memo lacked them, and it is worth saving again."""
    return _MISSES[0]


def composed_hash(value: dict[str, Any], last: dict[tuple[str, ...], _ListHash] | None = None,
                  fresh: dict[tuple[str, ...], _ListHash] | None = None) -> str:
    """``data_hash`` of ``value`` with each long list replaced by the hash of its items'
    hashes. ``last``: the lists hashed last time (by key path), whose items that are the
    very same objects are not hashed again; ``fresh`` receives this call's."""
    return data_hash(_shape(value, (), last or {}, {} if fresh is None else fresh))


def _shape(value: dict[str, Any], at: tuple[str, ...], last: dict[tuple[str, ...], _ListHash],
           fresh: dict[tuple[str, ...], _ListHash]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, item in value.items():
        kind = type(item)
        if kind is list and len(item) >= LONG_LIST and type(item[0]) in (dict, list):
            where = (*at, str(name))
            hashed = fresh[where] = _hash_list(item, last.get(where))
            out[name] = _ITEMS + hashlib.sha256("".join(hashed.digests).encode()).hexdigest()
        elif kind is list and len(item) >= LONG_LIST:
            out[name] = _ITEMS + _scalars_hash(item)
        elif kind is dict and len(at) + 1 < _DEPTH:
            out[name] = _shape(item, (*at, str(name)), last, fresh)
        else:
            out[name] = item
    return out


def _scalars_hash(items: list[Any]) -> str:
    known = _SCALARS.get(id(items))
    if known is not None:  # the entry keeps its list alive: no other object has its id
        return known[1]
    digest = data_hash(items)
    _SCALARS[id(items)] = (items, digest)
    while len(_SCALARS) > _SCALARS_KEEP:
        del _SCALARS[next(iter(_SCALARS))]
    return digest


def _hash_list(items: list[Any], last: _ListHash | None) -> _ListHash:
    """Each item's hash; those in the common prefix and suffix (by identity) with the
    list hashed last time are taken from it."""
    if last is None:
        return _ListHash(list(items), [data_hash(item) for item in items])
    old = last.items
    shortest = min(len(items), len(old))
    head = next(compress(count(), map(operator.is_not, items, old)), shortest)
    tail_most = shortest - head
    tail = next(compress(count(), map(operator.is_not, reversed(items), reversed(old))),
                tail_most)
    tail = min(tail, tail_most)
    middle = [data_hash(item) for item in items[head:len(items) - tail]]
    digests = last.digests[:head] + middle + last.digests[len(old) - tail:]
    return _ListHash(list(items), digests)


def _same_refs(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Same keys; each value the very same object, or an equal scalar of the same type."""
    if old.keys() != new.keys():
        return False
    for name, value in new.items():
        before = old[name]
        if before is value:
            continue
        if type(value) not in _PLAIN or type(before) is not type(value) or before != value:
            return False
    return True


def export(site: str) -> list[tuple[str, _Known]]:
    """What was last hashed for ``site``'s pages (a pure memo: see ``ssgen.build.memo.carry``)."""
    return [(path, known) for (owner, path), known in _KNOWN.items() if owner == site]


def adopt(site: str, exported: list[tuple[str, _Known]]) -> None:
    """Take unpickled ``export``ed hashes for ``site``."""
    _MISSES[0] = 0
    for path, known in exported:
        _KNOWN.setdefault((site, path), known)


def forget(site: str) -> None:
    """Drop what is kept for ``site`` (tests that compare against a cold start)."""
    for key in [key for key in _KNOWN if key[0] == site]:
        del _KNOWN[key]


__all__ = ["LONG_LIST", "SHARED_KEYS", "adopt_digest", "composed_hash", "forget", "misses",
           "page_data_hash"]
