"""A file of marshalled values kept beside ssgen's code for the processes after this one.

Owns ``read``, ``write``, ``replace`` and ``chosen``, what ``fastclass`` (compiled
``__init__``s) and ``fastre`` (regular expressions' engine code) keep in ``__pycache__``
(``fastimport`` writes its own file with ``replace``): the file is a
magic line naming its kind and interpreter, a BLAKE2b digest of the body, then the body
(``marshal``); one that is missing, damaged or another's reads as nothing. A write goes
to a temporary file replaced over the old one, so a reader sees one whole file or the
other; one that fails leaves the old file.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

_K = TypeVar("_K")
_V = TypeVar("_V")


def read(path: str, magic: bytes) -> object | None:
    """The value the file at ``path`` holds under ``magic`` (None: no such file)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    head, body = data[:len(magic) + 16], data[len(magic) + 16:]
    if head != magic + hashlib.blake2b(body, digest_size=16).digest():
        return None
    try:
        value: object = marshal.loads(body)
    except (EOFError, ValueError, TypeError):
        return None
    return value


def write(path: str, magic: bytes, value: dict[Any, Any]) -> bool:
    """``value`` written to ``path`` under ``magic``; False when it could not be."""
    try:
        body = marshal.dumps(value)
    except ValueError:  # not expected: the callers keep plain values and code objects
        return False
    return replace(path, (magic + hashlib.blake2b(body, digest_size=16).digest() + body,))


def replace(path: str, chunks: Iterable[bytes | memoryview]) -> bool:
    """``path`` replaced whole by a temporary file of ``chunks``, renamed over it (a
    reader sees one whole file or the other); False, the old file left, when it could
    not be."""
    temp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(temp, "wb") as handle:
            handle.writelines(chunks)
        os.replace(temp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        return False
    return True


def chosen(known: Mapping[_K, _V], used: Iterable[_K], most: int) -> dict[_K, _V]:
    """What to keep of ``known``: every entry this process ``used``, then the others
    while there are at most ``most`` of them."""
    kept = {key: known[key] for key in used}
    wanted = len(kept) + most
    for key, value in known.items():
        if len(kept) >= wanted:
            break
        kept.setdefault(key, value)
    return kept
