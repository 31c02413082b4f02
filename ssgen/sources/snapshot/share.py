"""Equal short strings of a snapshot's documents made one object before it is encoded.

Owns ``strings``: orjson gives each occurrence of a string in a parsed document its own
object ("block", "span", "normal", a referenced ``_ref``, a repeated ``_key``), and the
snapshot's encoder writes every object it has not seen as a new one, which the next
process decodes and allocates again: at 10,000 starter posts the documents hold 1.85
million strings of which 43,000 are distinct. Walked once before a save, each document's
short strings are replaced, in place, by one object per value; the encoder then writes a
repeat as a reference to the first, and the decoder makes one object. Only the
strings' identities change, never a value: documents stay equal to what was parsed, so
nothing a build reads from them can differ (a memo that compares by identity finds
more objects the same, each equal by value). Long strings are left alone (hashing them
for the look-up costs more than it saves: they rarely repeat).

The pool is kept between walks and written in the snapshot (``pool``, ``adopt``): a
resumed process's new documents share the strings its decoded ones hold, and the
snapshot's per-document records refer to the pool's strings instead of writing their own
(``filling``). A walk of documents none of which was walked before starts a new pool.

A document walked before, or decoded from a snapshot whose documents were walked, is
not walked again (``walked``): a resumed process that saves walks the documents it
parsed itself. The record is by ``id()``: a document freed and another made at its
address is skipped, which leaves its strings unshared and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

SHORT = 64  # characters: longer strings are not shared
_WALKED: set[int] = set()  # ids of the documents whose strings are shared
_POOL: dict[str, str] = {}  # the one object of each short string walked or adopted
_KEYS: dict[str, str] = {}  # a key object of each key walked (orjson's: see ``_walk``)
_ADOPTED: list[list[Any]] = []  # a decoded pool not made part of ``_POOL`` yet (``_pool``)


def strings(documents: Iterable[dict[str, Any]]) -> int:
    """Share the short strings of ``documents`` (in place) not walked before; how many
    documents were walked."""
    pool = _pool()
    docs = list(documents)
    if not any(id(doc) in _WALKED for doc in docs):
        pool.clear()  # a source loaded whole: its own strings, not another's
        _KEYS.clear()
    count = 0
    for doc in docs:
        if id(doc) not in _WALKED:
            _walk(doc, pool, _KEYS)
            count += 1
    walked(docs)
    return count


def walked(documents: Iterable[dict[str, Any]]) -> None:
    """Record ``documents`` (and only them) as walked: their strings are shared already
    (walked, or decoded from a snapshot whose encoder saw them shared)."""
    _WALKED.clear()
    _WALKED.update(map(id, documents))


def _walk(value: dict[str, Any], pool: dict[str, str], keys: dict[str, str]) -> None:
    """One document, depth first, without recursion (a deep document cannot overflow);
    its dicts' keys noted in ``keys`` (orjson makes one object of a key it parsed before:
    the documents share them already)."""
    stack: list[Any] = [value]
    pop, push, share = stack.pop, stack.append, pool.setdefault
    while stack:
        node = pop()
        if type(node) is dict:
            keys.update(zip(node, node, strict=True))  # the keys stay the objects they are
            pairs: Iterable[tuple[Any, Any]] = node.items()
        else:
            pairs = enumerate(node)
        for key, item in pairs:
            kind = type(item)
            if kind is str:
                if len(item) <= SHORT and (one := share(item, item)) is not item:
                    node[key] = one
            elif kind is dict or kind is list:
                push(item)


def pool() -> list[str]:
    """The shared strings (each one object): written in a snapshot's value, so that the
    per-document records refer to them instead of writing their own (``filling``)."""
    shared = _pool()
    keys = (key for text, key in _KEYS.items() if shared.get(text) is not key)
    return [*shared.values(), *keys]


def adopt(strings: object) -> None:
    """Take a decoded snapshot's pool (the very objects its documents hold) as the pool
    later walks share into; anything but a list of strings leaves the pool empty. Made
    the pool on first use (``_pool``): a command that saves no snapshot never hashes
    its strings (~45,000 at 10,000 posts, ~8 ms)."""
    _POOL.clear()
    _KEYS.clear()
    _ADOPTED.clear()
    if type(strings) is list:
        _ADOPTED.append(strings)


def _pool() -> dict[str, str]:
    """``_POOL``, the adopted pool's strings put in first when not yet."""
    if _ADOPTED:
        strings = _ADOPTED.pop()
        if not set(map(type, strings)) <= {str}:  # a hostile pool: its strings only
            strings = [text for text in strings if type(text) is str]
        _POOL.update(zip(strings, strings, strict=True))  # in C
    return _POOL


__all__ = ["SHORT", "adopt", "pool", "strings", "walked"]
