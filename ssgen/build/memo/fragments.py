"""Serve's hold on ``.ssgen/fragments.cache`` (``ssgen.build.fragfile``), kept across rounds.

A new process renders an unchanged post card from that file; serve rendered every card
of a list page that no round had rendered yet in its process: a webhook for one post of
the default site at 10,000 posts re-renders its blog, author and category pages, ~30
cards of unchanged posts, ~6 ms of a round's CPU. ``kept_fragments`` makes the file the
store a round's includes consult. Read only: the cards a round renders stay in the
process's own ``FragmentCache`` (by identity) and in the round's store (by value, so
the edited card is rendered once for its several lists), and the file is not written.

The file stays open and its index loaded while its (inode, size) and the store key stay
the same; the key is taken each round from the templates' texts as the shared renderer
read them for this round, with the code digest taken once per process (the code this
process runs; a file saved by another version of ssgen has another key and is not
used). Records are read at their offsets with ``pread``, not mapped: a file cut short by
some other program while serve holds it gives a short read, which the record's CRC-32
refuses (a miss), where a map would raise SIGBUS and end the server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ssgen.build.fragfile import FILE, FragmentFile, code_key, entries, key_of
from ssgen.config.load import Config
from ssgen.fastclass import dataclass
from ssgen.memos import on_forget
from ssgen.render.environment import Renderer
from ssgen.render.fragments import store as fragment_store
from ssgen.render.fragments.store import PersistedFragments


class FileBytes:
    """An open file's first ``size`` bytes by slice, each slice one ``pread``."""

    def __init__(self, file: BinaryIO, size: int) -> None:
        self._file, self._size = file, size

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, where: slice, /) -> bytes:
        start, stop, _ = where.indices(self._size)
        return os.pread(self._file.fileno(), max(0, stop - start), start)

    def close(self) -> None:
        """Close the file."""
        self._file.close()


@dataclass(slots=True)
class _Held:
    """One site's file as last opened: for ``key`` at ``stamp`` (inode, size)."""

    key: bytes
    stamp: tuple[int, int]
    data: FileBytes | None
    loaded: FragmentFile | None
    generation: int


_HELD: dict[Path, _Held] = {}  # by the file's path
_CODE: dict[Path, bytes] = {}  # the code digest, by state folder: taken once per process


@contextmanager
def kept_fragments(config: Config, renderer: Renderer) -> Iterator[None]:
    """Within the block, includes consult the site's persisted fragments (when the file
    is there and of this process's key), reading the file ``hold`` keeps open."""
    loaded, generation = hold(config, renderer)
    if loaded is None:
        yield
        return
    fragment_store.activate(PersistedFragments(loaded, generation))
    try:
        yield
    finally:
        fragment_store.activate(None)


def hold(config: Config, renderer: Renderer) -> tuple[FragmentFile | None, int]:
    """The entries of the site's fragments file, opened again only when its stamp or
    the store key changed since the last call; (None, 0) when there are none to use."""
    path = config.state_dir / FILE
    try:
        info = os.stat(path)
    except OSError:
        _forget(path)
        return None, 0
    key = key_of(config, _code(config),
                 ((name, renderer.template_source(name)) for name in renderer.list_templates()))
    held = _HELD.get(path)
    if held is None or held.key != key or held.stamp != (info.st_ino, info.st_size):
        _forget(path)
        held = _HELD[path] = _open(path, key)
    return held.loaded, held.generation


def _code(config: Config) -> bytes:
    found = _CODE.get(config.state_dir)
    if found is None:
        found = _CODE[config.state_dir] = code_key(config)
    return found


def _open(path: Path, key: bytes) -> _Held:
    try:
        file = open(path, "rb")  # noqa: SIM115 - kept open across rounds
    except OSError:
        return _Held(key, (-1, -1), None, None, 0)
    info = os.fstat(file.fileno())
    data = FileBytes(file, info.st_size)
    loaded, generation = entries(data, key, info.st_ino)
    if loaded is None:
        data.close()
        return _Held(key, (info.st_ino, info.st_size), None, None, 0)
    return _Held(key, (info.st_ino, info.st_size), data, loaded, generation)


@on_forget
def forget() -> None:
    """Let every held file go (a new process's state, for tests)."""
    for path in list(_HELD):
        _forget(path)
    _CODE.clear()


def _forget(path: Path) -> None:
    held = _HELD.pop(path, None)
    if held is not None and held.data is not None:
        held.data.close()
