"""Whole-file replacement for what the sources keep on disk (``ssgen pull``'s snapshot,
the mirror's files): a temp file in the same folder, fsync'd, then renamed over the target,
so a reader never sees half a file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ssgen.errors import SourceError


def write_atomic(path: Path, data: bytes | bytearray | list[bytes | memoryview], what: str, *,
                 durable: bool = True) -> None:
    """Replace ``path`` with ``data`` (or its parts, one after the other);
    ``SourceError("<what>: cannot write ...")`` on failure. ``durable=False``: no fsync
    (a cache that checks itself on reading)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            for part in data if isinstance(data, list) else [data]:
                handle.write(part)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise SourceError(f"{what}: cannot write {path}: {exc}") from exc
