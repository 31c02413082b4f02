"""The mirror's files in ``.ssgen/mirror/``: the committed snapshot and the resumable partial.

``<dataset>.ndjson`` holds every document (raw: drafts included when the token reads
them), one a line with trailing spaces of slack (``ndjson.slack``), ordered by ``_id``;
``<dataset>.index.json`` their ``[_id, _rev]`` in the same order, with the snapshot's
stat stamp (so a sync knows the revisions, and which
line is which, without parsing a document); ``<dataset>.state.json`` says which project
and dataset it mirrors and from when the next delta must look (``since``). A sync
commits by writing them to temp files and renaming them, snapshot and index first: a
crash leaves the old snapshot or the new one, never half of one (an index whose stamp is
not the snapshot's is ignored and the snapshot parsed), and an old state only makes the
next delta look further back. ``<dataset>.partial.ndjson`` (+ ``.partial.json``) collects documents
while a first sync streams them, so an interrupted one resumes instead of starting over.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import orjson

from ssgen.errors import SourceError
from ssgen.sources.atomic import write_atomic
from ssgen.sources.ndjson import SLACK, SLOT, slack

Lines = dict[str, tuple[str | None, bytes]]  # _id -> (_rev, the document's JSON line)


def encode(doc: dict[str, Any]) -> bytes:
    """One document as a mirror line: the serialisation ``ssgen pull`` writes."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def entry(line: bytes) -> tuple[str, str | None, bytes] | None:
    """``(_id, _rev, line)`` of a JSON line; None for a line that is not a document
    (a truncated tail) or a system document (``_.``)."""
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    doc_id = doc.get("_id") if isinstance(doc, dict) else None
    if not isinstance(doc_id, str) or not isinstance(doc.get("_type"), str) or \
            doc_id.startswith("_."):
        return None
    rev = doc.get("_rev")
    return doc_id, rev if isinstance(rev, str) else None, line


class MirrorStore:
    """The files of one mirrored dataset under ``folder``."""

    def __init__(self, folder: Path, dataset: str) -> None:
        self.folder = folder
        self.path = folder / f"{dataset}.ndjson"
        self.state_path = folder / f"{dataset}.state.json"
        self.index_path = folder / f"{dataset}.index.json"
        self.partial_path = folder / f"{dataset}.partial.ndjson"
        self.partial_state_path = folder / f"{dataset}.partial.json"

    def state(self, key: str) -> dict[str, Any] | None:
        """The committed state, when it is for ``key`` and its snapshot exists."""
        found = _read_json(self.state_path)
        if found is None or found.get("key") != key or not self.path.is_file():
            return None
        return found

    def revisions(self) -> dict[str, str | None]:
        """``_id`` -> ``_rev`` of the committed snapshot (from its index when it has one)."""
        index = self._index()
        if index is not None:
            return dict(index)
        return {doc_id: rev for doc_id, (rev, _) in self.load().items()}

    def load(self) -> Lines:
        """The committed snapshot's documents."""
        index = self._index()
        if index is not None:
            try:
                data = self.path.read_bytes()
            except OSError as exc:
                raise SourceError(f"mirror: cannot read {self.path}: {exc}") from exc
            rows = data.split(b"\n")[:-1] if data else []
            if len(rows) == len(index):
                return {doc_id: (rev, row) for (doc_id, rev), row in zip(index, rows, strict=True)}
        return _read_lines(self.path)

    def commit(self, lines: Lines, state: dict[str, Any]) -> None:
        """Replace the snapshot, its index and its state (in that order), then drop the
        partial."""
        self.folder.mkdir(parents=True, exist_ok=True)
        order = sorted(lines)
        write_atomic(self.path, b"".join(_slotted(lines[doc_id][1]) for doc_id in order),
                     "mirror")
        rows = [[doc_id, lines[doc_id][0]] for doc_id in order]
        index = {"stamp": _stamp(self.path), "rows": rows}
        write_atomic(self.index_path, orjson.dumps(index), "mirror")
        self.commit_state(state)
        self.drop_partial()

    def write_snapshot(self, data: bytes | bytearray, rows: list[list[str | None]]) -> None:
        """Replace the snapshot and its index (the state stays: its ``since`` predates
        every change the bytes hold that the last committed snapshot lacked)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, data, "mirror")
        index = {"stamp": _stamp(self.path), "rows": rows}
        write_atomic(self.index_path, orjson.dumps(index), "mirror")

    def commit_state(self, state: dict[str, Any]) -> None:
        """Replace the state alone (a sync that found nothing to change)."""
        write_atomic(self.state_path, json.dumps(state, sort_keys=True).encode(), "mirror")

    def _index(self) -> list[tuple[str, str | None]] | None:
        try:
            raw = orjson.loads(self.index_path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        if not isinstance(raw, dict) or raw.get("stamp") != _stamp(self.path):
            return None
        return [(row[0], row[1]) for row in raw.get("rows") or []]

    # -- the partial of an interrupted first sync ---------------------------------------

    def partial(self, key: str) -> tuple[Lines, dict[str, Any]] | None:
        """What an interrupted first sync for ``key`` had received, and its state."""
        found = _read_json(self.partial_state_path)
        if found is None or found.get("key") != key or not self.partial_path.is_file():
            return None
        return _read_lines(self.partial_path), found

    def start_partial(self, state: dict[str, Any]) -> IO[bytes]:
        """A fresh partial: its state is written, its documents are appended to the handle."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.drop_partial()
        write_atomic(self.partial_state_path, json.dumps(state, sort_keys=True).encode(), "mirror")
        try:
            return open(self.partial_path, "ab", buffering=1 << 20)
        except OSError as exc:
            raise SourceError(f"mirror: cannot write {self.partial_path}: {exc}") from exc

    def drop_partial(self) -> None:
        """Forget an interrupted sync."""
        self.partial_path.unlink(missing_ok=True)
        self.partial_state_path.unlink(missing_ok=True)


def append(handle: IO[bytes], lines: Iterable[bytes]) -> None:
    """Add received documents to a partial (buffered: a kill loses at most the last
    buffer's worth, which the resume fetches again)."""
    handle.write(b"".join(line + b"\n" for line in lines))


def _slotted(line: bytes) -> bytes:
    """The line with its slack (``ndjson.slack``: serve patches a grown document in
    place) and its newline; a line read back from the snapshot has its slack already."""
    core = line.rstrip(b" ")
    return core + _SPACES[slack(len(core))]


_SPACES = [b" " * size + b"\n" for size in range(SLOT + SLACK)]


def _stamp(path: Path) -> list[int]:
    try:
        stat = path.stat()
    except OSError:
        return []
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]


def _read_lines(path: Path) -> Lines:
    lines: Lines = {}
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"mirror: cannot read {path}: {exc.strerror or exc}") from exc
    for raw in data.split(b"\n"):
        found = entry(raw) if raw.strip() else None
        if found is not None:
            lines[found[0]] = (found[1], found[2])
    return lines


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


