"""Which per-document entries of a maintained query a change reaches (maintained/).

An entry (one candidate document's evaluation) depends on the documents it read (its
trace: the document itself, those it dereferenced, those its subqueries returned) and
on the index keys its subqueries looked up: a document that did not pass a subquery
can only start to pass it by having one of those keys. So after a change the entries
to re-evaluate are the changed ones, those that read a changed document, those whose
keys a changed document has now (its old keys matter only if it passed, and then it
was read), those that watch a changed id (``WATCH`` keys), and those that scanned the
dataset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ssgen.groq.dataset import AttrPath, get_path
from ssgen.groq.refindex import outgoing
from ssgen.groq.runtime import ALL_KEYS, WATCH
from ssgen.groq.values import hash_key


class Dependents:
    """Reverse maps from read ids and looked-up keys to the entries that used them."""

    def __init__(self) -> None:
        self._readers: dict[str, set[str]] = {}
        self._keyed: dict[Any, set[str]] = {}
        self._kinds: dict[AttrPath | None, int] = {}  # key kind -> how many keys use it
        self._scanning: set[str] = set()
        self._watchers: dict[str, set[str]] = {}

    def add(self, entry: str, reads: Iterable[str], keys: Iterable[Any]) -> None:
        """Register what one entry's evaluation read and looked up."""
        for read in reads:
            if read != entry:
                self._readers.setdefault(read, set()).add(entry)
        for key in keys:
            if key == ALL_KEYS:
                self._scanning.add(entry)
                continue
            if key[0] == WATCH:
                self._watchers.setdefault(key[1], set()).add(entry)
                continue
            self._keyed.setdefault(key, set()).add(entry)
            self._kinds[key[0]] = self._kinds.get(key[0], 0) + 1

    def remove(self, entry: str, reads: Iterable[str], keys: Iterable[Any]) -> None:
        """Forget what ``add`` registered for the entry (same reads and keys)."""
        for read in reads:
            _discard(self._readers, read, entry)
        for key in keys:
            if key == ALL_KEYS:
                self._scanning.discard(entry)
                continue
            if key[0] == WATCH:
                _discard(self._watchers, key[1], entry)
                continue
            _discard(self._keyed, key, entry)
            left = self._kinds[key[0]] - 1
            if left:
                self._kinds[key[0]] = left
            else:
                del self._kinds[key[0]]

    def keys(self) -> frozenset[Any]:
        """Every key registered (ALL_KEYS when an entry scanned)."""
        found = frozenset(self._keyed)
        return found | {ALL_KEYS} if self._scanning else found

    def stale(self, changed: Iterable[str], documents: Mapping[str, dict[str, Any]],
              refs: Callable[[dict[str, Any]], frozenset[str]] = outgoing) -> set[str]:
        """The entries to re-evaluate after the documents of ``changed`` changed
        (``documents``: the new ones by id, a changed id missing from it was deleted;
        ``refs``: the ids a document references, e.g. ``Dataset.refs_of``)."""
        changed = list(changed)
        out = set(changed)
        if out and self._scanning:
            out |= self._scanning
        for doc_id in changed:
            out |= self._readers.get(doc_id, set())
            if self._watchers:
                out |= self._watchers.get(doc_id, set())
            doc = documents.get(doc_id)
            if doc is not None and self._kinds:
                for key in self._keys_of(doc, refs):
                    out |= self._keyed.get(key, set())
        return out

    def _keys_of(self, doc: dict[str, Any],
                 refs: Callable[[dict[str, Any]], frozenset[str]]) -> Iterator[Any]:
        for kind in self._kinds:
            if kind is None:
                yield from ((None, ref) for ref in refs(doc))
            else:
                hashed = hash_key(get_path(doc, kind))
                if hashed is not None:
                    yield (kind, hashed)


def _discard(index: dict[Any, set[str]], key: Any, entry: str) -> None:
    entries = index.get(key)
    if entries is not None:
        entries.discard(entry)
        if not entries:
            del index[key]
