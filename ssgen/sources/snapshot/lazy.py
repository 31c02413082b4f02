"""A resumed snapshot's records filled on demand: the ``ssgen.shells.Pending`` of a command.

Owns ``ENABLED`` (the default; ``SSGEN_LAZY_SNAPSHOT=0``: eager, every record filled at
the open, as before round 26) and ``Lazy``, which holds a ``filling.Filling`` after the open for the
readers ``ssgen.shells`` teaches, and ``predict``: what a resumed command is about to
read, filled before it reads (the re-read's changed documents, what they reference and
what references them; everything when that is more than ``MOST``).

No record's CRC-32 is taken at the open: each fill checks those of the records it reads
(``fill_all`` one CRC-32 of all of them when none was filled, else each one's), so a
command reads and sums only the records it fills (at 10,000 posts the open no longer
reads the records' 57 MB, nor waits for their CRC-32). A record that fails
(``Refused``: damaged, forged, or the file changed under its map) is not built from: the
snapshot is removed and the build is done again from the files, saying so
(``SnapshotDamaged``, ``ssgen.build.pipeline.build``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ssgen import shells
from ssgen.errors import SnapshotDamaged
from ssgen.memos import on_forget
from ssgen.sources.snapshot import codec, filling

ENABLED = os.environ.get("SSGEN_LAZY_SNAPSHOT") != "0"
MOST = 256  # documents predicted: more, and every record is filled at the open
on_forget(shells.abandon)  # a process between sites leaves no filling pending


class Lazy:
    """A ``Filling`` held after the open (``ssgen.shells.hold``); ``leave``: where its
    decoder is put at once too (``codec.decode``'s: a process that exits right after
    keeps it until then, filled or not)."""

    def __init__(self, found: filling.Filling, path: Path, leave: list[object] | None) -> None:
        self._filling, self._path = found, path
        if leave is not None:
            leave.append(found.decoder)

    @property
    def unfilled(self) -> int:
        """The shells not filled yet."""
        return self._filling.unfilled

    def shell_id(self, obj: object) -> Any:
        """See ``ssgen.shells.Pending``."""
        return self._filling.shell_id(obj)

    def is_unfilled(self, obj: object) -> bool:
        """See ``ssgen.shells.Pending``."""
        return self._filling.is_unfilled(obj)

    def fill(self, ids: Iterable[str]) -> None:
        """See ``ssgen.shells.Pending``."""
        self._guarded(self._filling.fill, ids)

    def fill_objects(self, objs: Iterable[object]) -> None:
        """See ``ssgen.shells.Pending``."""
        self._guarded(self._filling.fill_objects, objs)

    def fill_all(self) -> None:
        """See ``ssgen.shells.Pending``; the decoder let go of after."""
        self._guarded(lambda _: self._filling.fill_all(), None)
        self.close()

    def close(self) -> None:
        """Let go of the decoder (but ``leave``'s reference) and the file's map."""
        self._filling.close()

    def _guarded(self, call: Any, argument: Any) -> None:
        try:
            call(argument)
        except codec.Refused as exc:
            shells.drop(self)
            self._path.unlink(missing_ok=True)
            raise SnapshotDamaged(f"the source snapshot {self._path} has a damaged record, "
                                  f"found after the open ({exc}); it was removed") from exc


def predict(dataset: Any, changed: frozenset[str] | None) -> None:
    """Fill what a command reads after a resume whose re-read changed ``changed`` (None:
    unknown): those documents, the ones they reference and the ones that reference
    them, and what those reference; all when that is more than ``MOST`` or unknown."""
    if not shells.lazy():
        return
    if changed is None or len(changed) > MOST:
        shells.fill_all()
        return
    from ssgen.groq.refindex import outgoing

    by_id = dataset.by_id
    shells.fill(changed)
    near = set(changed)
    for doc_id in changed:
        near.update(dataset.refs_of(doc_id))
        if len(near) > MOST:
            shells.fill_all()
            return
    shells.fill(near)
    reach = set(near)
    for doc_id in near:
        doc = by_id.get(doc_id)
        if doc is not None:
            reach.update(outgoing(doc))
    if len(reach) > MOST:
        shells.fill_all()
        return
    shells.fill(reach)


__all__ = ["ENABLED", "MOST", "Lazy", "predict"]
