"""An NDJSON file's kept bytes read from a map of the snapshot file, not copied.

Owns ``Mapped``: a read-only ``mmap`` of the bytes a snapshot wrote out of band (the kept
bytes of each NDJSON file, ``ssgen.sources.snapshot``), with the few ``bytes`` methods
the re-parse of the file against them uses (``diff.reparse``, ``match``) that ``mmap``
lacks: ``startswith``, ``endswith`` and ``count``. The comparisons run on the mapped
pages at ``find``'s speed; nothing copies the 70 MB a 10,000-post file has, nor faults
in new memory for them. ``Kept``: the old bytes a re-parse takes (read, or mapped).
"""

from __future__ import annotations

import mmap

Buffer = bytes | bytearray | memoryview


class Mapped(mmap.mmap):
    """A read-only map of kept bytes (see the module docstring); unmapped when the last
    reference (or view) goes."""

    def startswith(self, prefix: Buffer, start: int = 0) -> bool:
        """Whether ``self[start:]`` starts with ``prefix`` (as ``bytes.startswith``)."""
        size = len(prefix)
        return start + size <= len(self) and self.find(prefix, start, start + size) == start

    def endswith(self, suffix: Buffer, start: int = 0, end: int | None = None) -> bool:
        """Whether ``self[start:end]`` ends with ``suffix`` (as ``bytes.endswith``)."""
        end = len(self) if end is None else min(end, len(self))
        at = end - len(suffix)
        return at >= start and self.find(suffix, at, end) == at

    def count(self, sub: bytes, start: int = 0, end: int | None = None) -> int:
        """How often ``sub`` occurs in ``self[start:end]`` (the span copied: the re-parse
        counts newlines within one document's line)."""
        return self[start:len(self) if end is None else end].count(sub)


Kept = bytes | bytearray | Mapped

__all__ = ["Kept", "Mapped"]
