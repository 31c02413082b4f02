"""A snapshot file's checksums, taken on a thread of their own while the body decodes.

Owns ``Checksum``: ``zlib.crc32`` lets go of the GIL, so the file's CRC-32 (and the
records' one, taken first) cost the decode's core nothing (``ssgen.sources.snapshot``).
"""

from __future__ import annotations

import threading
import zlib

from ssgen.sources.snapshot import records


class Checksum:
    """The CRC-32 of buffers taken as one, and each of others' own, taken on a thread of
    its own (``result`` waits for it)."""

    def __init__(self, chained: list[memoryview], each: list[memoryview]) -> None:
        self._chained, self._each = chained, each
        self._crc: int | None = None
        self._crcs: list[int] = []
        self._each_done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="snapshot-crc", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._crcs = records.crcs(self._each)
        finally:
            self._each_done.set()
        crc = 0
        for part in self._chained:
            crc = zlib.crc32(part, crc)
        self._crc = crc

    def each(self) -> list[int]:
        """Each other buffer's CRC-32, taken first (waited for, not the chained one)."""
        self._each_done.wait()
        return self._crcs

    def result(self) -> tuple[int | None, list[int]]:
        """The chained checksum (None if the thread failed) and each other's; the buffers
        released."""
        self._thread.join()
        for part in (*self._chained, *self._each):
            part.release()
        return self._crc, self._crcs


__all__ = ["Checksum"]
