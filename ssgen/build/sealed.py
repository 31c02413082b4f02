"""A cache file holding one marshalled ``(key, value)``, sealed by a magic line and a checksum.

Owns the format the template caches in ``.ssgen/`` share (``analysisfile``,
``templatecode``): the file's magic line, 16 bytes of SHA-256 over the body, then the
body. A file that is missing, damaged, of another key or whose value is not of the
expected shape reads as no file at all: each is only a cache, and a failed write leaves
the old file or none.
"""

from __future__ import annotations

import hashlib
import marshal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ssgen.errors import SsgenError
from ssgen.sources.atomic import write_atomic


def read_sealed(path: Path, magic: bytes, key: bytes,
                well_formed: Callable[[Any], bool]) -> Any | None:
    """The value saved in ``path`` under ``key``; None when there is none to trust."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head = len(magic) + 16
    body = data[head:]
    if data[:len(magic)] != magic or _checksum(body) != data[len(magic):head]:
        return None
    try:
        stored_key, value = marshal.loads(body)
    except (ValueError, TypeError, EOFError):
        return None
    return value if stored_key == key and well_formed(value) else None


def write_sealed(path: Path, magic: bytes, key: bytes, value: Any, what: str) -> None:
    """Replace ``path`` with ``value`` under ``key`` (``what`` names it in errors); a
    read-only ``.ssgen/`` is no error: the next process works it out again."""
    body = marshal.dumps((key, value))
    try:
        write_atomic(path, magic + _checksum(body) + body, what, durable=False)
    except (SsgenError, OSError):
        return


def _checksum(body: bytes) -> bytes:
    return hashlib.sha256(body).digest()[:16]


__all__ = ["read_sealed", "write_sealed"]
