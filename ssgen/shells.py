"""The empty shells a lazily resumed source snapshot leaves, and the readers' ways past them.

A snapshot resumed lazily (``ssgen.sources.snapshot``; unless ``SSGEN_LAZY_SNAPSHOT=0``) holds
each document and its maintained items as an empty dict (a shell) until its record is
filled (``filling.Filling``). This module holds that filling while it is pending
(``hold``), so that the readers below the sources' layer can reach it without importing
them: ``id_of`` / ``ids_of`` give a shell's ``_id`` from the snapshot's table without
filling it (an ``_id``-ordered bisection, a route's item ids), ``fill`` fills the named
documents, ``fill_reachable`` every shell a page's data holds, ``fill_all`` the rest
(every reader not taught: a full evaluation, a merge of all files, a save).

A page built from an unfilled shell is a wrong page, silently: under ``SSGEN_STRICT_SHELLS=1``
(the test suite's) a shell is a ``StrictShell`` until filled, which raises ``UnfilledRead``
on any Python-level read, and turns into a plain ``dict`` (the very object, its type
swapped: no other code path is taken) once filled; ``check_filled`` then finds any
unfilled shell a page's data or a save's input holds.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from itertools import repeat
from typing import Any, Protocol

STRICT = os.environ.get("SSGEN_STRICT_SHELLS") == "1"
UNKNOWN = object()  # a shell's ``_id`` not in the table (not a string): fill it to tell


class UnfilledRead(AssertionError):
    """A reader read a shell its filling had not filled (``SSGEN_STRICT_SHELLS`` only)."""


class Pending(Protocol):
    """A lazily decoded snapshot's records not all filled yet (``filling``)."""

    @property
    def unfilled(self) -> int:
        """The shells not filled yet."""

    def shell_id(self, obj: object) -> Any:
        """``obj``'s ``_id`` as ``dict.get`` gives it, from the table when it is an
        unfilled shell (``UNKNOWN`` when the table cannot tell); ``obj.get("_id")``
        otherwise."""

    def is_unfilled(self, obj: object) -> bool:
        """Whether ``obj`` is one of its shells, not filled yet."""

    def fill(self, ids: Iterable[str]) -> None:
        """Fill the documents ``ids`` (their groups)."""

    def fill_objects(self, objs: Iterable[object]) -> None:
        """Fill the groups of those of ``objs`` that are its unfilled shells."""

    def fill_all(self) -> None:
        """Fill every shell left; it is done then."""

    def close(self) -> None:
        """Let go of the decoder and the file's map, the shells left as they are."""


_pending: Pending | None = None


def hold(pending: Pending) -> None:
    """``pending`` is the process's filling from here on. A command resumes one snapshot;
    a process that resumes another (the test suite's "new processes") is done with the
    source of the last one, which is let go of unfilled (``abandon``)."""
    if _pending is not pending:
        abandon()
    globals()["_pending"] = pending


def abandon() -> None:
    """Let go of the pending filling, its shells left unfilled: for a process done with
    its source (its file may have been changed since, even in place)."""
    global _pending
    pending, _pending = _pending, None
    if pending is not None:
        pending.close()


def drop(pending: Pending) -> None:
    """``pending`` was given up (its source not used): no reader asks it any more."""
    global _pending
    if _pending is pending:
        _pending = None


def lazy() -> bool:
    """Whether a filling is pending."""
    return _pending is not None


def id_of(doc: dict[str, Any]) -> Any:
    """``doc.get("_id")``, told from the snapshot's table when ``doc`` is an unfilled shell."""
    pending = _pending
    if pending is None:
        return doc.get("_id")
    found = pending.shell_id(doc)
    if found is UNKNOWN:
        pending.fill_objects((doc,))
        return doc.get("_id")
    return found


def ids_of(items: Iterable[Any]) -> Iterator[Any]:
    """``map(dict.get, items, repeat("_id"))`` (items all dicts), unfilled shells told
    from the table."""
    if _pending is None:
        return map(dict.get, items, repeat("_id"))
    return map(id_of, items)


def filled(doc: Any) -> Any:
    """``doc``, filled first when it is an unfilled shell (an unfilled shell is empty, or
    a ``StrictShell``: a non-empty plain dict is never asked about)."""
    if _pending is not None and doc is not None and (type(doc) is not dict or not doc):
        _pending.fill_objects((doc,))
    return doc


def filled_all(docs: Any) -> Any:
    """``docs`` (a sequence of documents), each one filled first when a shell."""
    if _pending is not None:
        _pending.fill_objects(docs)
    return docs


def fill(ids: Iterable[str]) -> None:
    """Fill the documents ``ids`` (those that are shells) before they are read."""
    if _pending is not None:
        _pending.fill(ids)


def fill_objects(objs: Iterable[object]) -> None:
    """Fill those of ``objs`` that are unfilled shells (and their groups)."""
    if _pending is not None:
        _pending.fill_objects(objs)


def fill_all() -> None:
    """Fill every shell left (a reader not taught is about to read any document)."""
    global _pending
    pending, _pending = _pending, None
    if pending is not None:
        pending.fill_all()


def fill_reachable(value: Any) -> None:
    """Fill every unfilled shell ``value`` holds (a page's data, before it is hashed or
    rendered); under ``STRICT``, check none is left."""
    pending = _pending
    if pending is None:
        return
    found = _unfilled_in(value, pending)
    while found:
        pending.fill_objects(found)
        # What the filled shells hold, not ``value`` again: the rest was walked.
        found = _unfilled_in(found, pending)
    if STRICT:
        check_filled(value, "a page's data")


def _unfilled_in(value: Any, pending: Pending) -> list[Any]:
    """The unfilled shells ``value`` holds. Only an empty dict or a ``StrictShell`` is
    asked about (as ``filled`` does): a page's data holds thousands of filled dicts."""
    return [obj for obj in _walk(value)
            if (type(obj) is not dict or not obj) and pending.is_unfilled(obj)]


def check_filled(value: Any, where: str) -> None:
    """Under ``STRICT``: ``UnfilledRead`` when ``value`` holds an unfilled shell."""
    if not STRICT:
        return
    left = sum(1 for obj in _walk(value) if type(obj) is StrictShell)
    if left:
        raise UnfilledRead(f"{left} unfilled snapshot shell(s) in {where}")


def _walk(value: Any) -> Iterator[Any]:
    """Every dict ``value`` holds (itself included), through dicts, lists, tuples and
    other sequences of ssgen's (``Chunks``), each once."""
    stack, seen = [value], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            yield node
            if type(node) is StrictShell:
                continue
            stack.extend(dict.values(node))
        elif isinstance(node, list | tuple) or type(node).__name__ == "Chunks":
            stack.extend(node)


def _refuse(self: Any, *args: Any, **kwargs: Any) -> Any:
    raise UnfilledRead("an unfilled snapshot shell was read")


class StrictShell(dict):  # type: ignore[type-arg]
    """A shell under ``STRICT``: any Python-level read raises until it is filled; the
    layout of a ``dict`` (no slots), so that ``become_dict`` can make it one."""

    __slots__ = ()
    __getitem__ = __iter__ = __len__ = __contains__ = __eq__ = __ne__ = _refuse
    get = keys = values = items = copy = setdefault = pop = __reduce_ex__ = _refuse
    __hash__ = None


def become_dict(shell: dict[str, Any]) -> None:
    """Make a ``StrictShell`` a plain ``dict`` in place (its type pointer swapped, the
    references to both types moved along): the same object, the paths a dict takes."""
    if type(shell) is not StrictShell:
        return
    import ctypes  # only under ``STRICT``: a cold build imports none of it

    at = id(shell) + ctypes.sizeof(ctypes.c_ssize_t)  # ``ob_type`` follows ``ob_refcnt``
    ctypes.c_void_p.from_address(at).value = id(dict)
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(dict))
    ctypes.pythonapi.Py_DecRef(ctypes.py_object(StrictShell))


__all__ = [
    "STRICT",
    "UNKNOWN",
    "Pending",
    "StrictShell",
    "UnfilledRead",
    "abandon",
    "become_dict",
    "check_filled",
    "drop",
    "fill",
    "fill_all",
    "fill_objects",
    "fill_reachable",
    "filled",
    "filled_all",
    "hold",
    "id_of",
    "ids_of",
    "lazy",
]
