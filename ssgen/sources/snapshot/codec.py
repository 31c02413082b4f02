"""The snapshot's body: plain data and ssgen's own state classes, nothing that runs code.

Owns the encoding of what a snapshot carries (the local source's parsed files, view,
dataset and maintained results, and the route memos) and the one decoder that reads it
back. The stream is pickle's opcode format, read by an unpickler that resolves no name
but those of ``ALLOWED``: ssgen's state classes (registered with ``allow``), whose
construction only assigns fields (no I/O, no callable taken from the data), and
``collections.deque``. Everything else a stream can name (``os.system``, ``eval``,
``builtins.getattr``, an extension code, a persistent id) is refused, so a file written
by someone else (a poisoned CI cache) yields plain values and instances of those classes
or an error, never a call of their choosing. Decoding errors of any kind are ``Refused``.

The encoder refuses to write what the decoder would refuse (an instance of a class not
allowed, a function): the snapshot is then not written at all. An allowed class with a
``construct`` function is written as a call of the class with the arguments it returns:
a decoder that would otherwise set the fields of ~60k maintained entries one by one
calls their constructors instead (which only assign fields, as allowed classes must).

A ``pickle.PickleBuffer`` in the value (an NDJSON file's kept bytes, ``Cached``) is
written out of band when the caller asks (``encode``'s ``buffers``): the body then names
it by its place in that list, and the decoder takes the buffer from ``decode``'s
``buffers`` in that order (the snapshot's maps of them); a body naming more buffers than
it is given is refused.

The per-document records after the body (``records``) are written and read by
``filling``, with this module's encoder and decoder."""

from __future__ import annotations

import io
import pickle
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, cast

_Name = tuple[str, str]
ALLOWED: dict[_Name, type] = {}
_DEQUE: _Name = ("collections", "deque")
ALLOWED[_DEQUE] = deque


class Refused(Exception):
    """The body cannot be decoded into the snapshot's data (damaged, forged, foreign)."""


def allow(*classes: type) -> None:
    """Let the snapshot hold instances of ``classes`` (state classes whose construction
    only assigns fields: a hostile stream may construct them with values of its own)."""
    for cls in classes:
        ALLOWED[(cls.__module__, cls.__qualname__)] = cls


def construct(cls: type, arguments: Callable[[Any], tuple[Any, ...]]) -> None:
    """Encode the instances of the allowed class ``cls`` as ``cls(*arguments(obj))``."""
    if not _allowed_type(cls):
        raise ValueError(f"{cls.__qualname__} is not allowed in a source snapshot")
    _REDUCERS[cls] = lambda obj: (cls, arguments(obj))


_REDUCERS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


def _allowed_type(cls: type) -> bool:
    return ALLOWED.get((cls.__module__, cls.__qualname__)) is cls


class _Encoder(pickle.Pickler):
    """A pickler that refuses (``PicklingError``) any object the decoder would refuse.

    ``reducer_override`` sees every object that is not a plain value or container: an
    allowed instance goes the usual way (its ``construct`` function, if any, by
    ``dispatch_table``), anything else stops the encoding."""

    dispatch_table = _REDUCERS

    def reducer_override(self, obj: Any) -> Any:
        if _allowed_type(type(obj)) or (isinstance(obj, type) and _allowed_type(obj)):
            return NotImplemented  # an allowed instance, or its class (named by NEWOBJ)
        raise pickle.PicklingError(f"a {type(obj).__module__}.{type(obj).__qualname__} "
                                   "is not allowed in a source snapshot")


class _Decoder(pickle.Unpickler):
    """An unpickler that resolves only the allowed names (see the module docstring)."""

    def find_class(self, module: str, name: str) -> Any:
        cls = ALLOWED.get((module, name))
        if cls is None:
            raise Refused(f"{module}.{name} is not allowed in a source snapshot")
        return cls

    def persistent_load(self, pid: Any) -> Any:
        raise Refused("a persistent id is not allowed in a source snapshot")


def encode(value: Any, buffers: list[pickle.PickleBuffer] | None = None) -> bytes:
    """``value`` as bytes ``decode`` reads back (shared objects stay shared); raises
    ``pickle.PicklingError`` (or ``TypeError``, ``RecursionError``) for what it refuses.
    ``buffers``: the value's ``PickleBuffer``s are appended to it, not written in the body
    (else they are, as bytes or bytearrays)."""
    out = io.BytesIO()
    _Encoder(out, protocol=5, buffer_callback=None if buffers is None else buffers.append
             ).dump(value)
    return out.getvalue()


class _InPlace:
    """A stream over a buffer (a snapshot file's map) that offers the decoder all of it
    at once (``peek`` may return more than asked): the decoder then reads its opcodes
    from the buffer itself, neither copied (156 MB at 10,000 posts, each page of it a
    fault) nor fetched a call at a time. What it skips comes back as views, not copies."""

    def __init__(self, data: memoryview) -> None:
        self._data, self._at, self._end = data, 0, len(data)

    def seek(self, start: int, end: int) -> None:
        """Read ``[start, end)`` next, and nothing past ``end``: a decoder that peeked
        to ``end`` and loaded to it holds nothing more, so its next ``load`` starts where
        this says (one whose load failed mid-way still holds the rest: ``filling``)."""
        self._at, self._end = start, min(end, len(self._data))

    @property
    def at(self) -> int:
        """How far the decoder has consumed (exact after each ``load``)."""
        return self._at

    def peek(self, size: int = 0) -> memoryview:
        return self._data[self._at:self._end]

    def read(self, size: int = -1) -> memoryview:
        end = self._end if size < 0 else min(self._end, self._at + size)
        chunk, self._at = self._data[self._at:end], end
        return chunk

    def readinto(self, buffer: memoryview) -> int:
        chunk = self.read(len(buffer))
        buffer[:len(chunk)] = chunk
        return len(chunk)

    def readline(self) -> memoryview:
        end = bytes(self._data[self._at:self._end]).find(b"\n")  # no opcode of protocol 5 uses it
        return self.read(-1 if end < 0 else end + 1)


def decode(data: bytes | memoryview, start: int = 0, buffers: Iterable[Any] = (),
           leave: list[object] | None = None) -> Any:
    """What ``encode`` wrote at ``data[start:]`` (bytes, or a view of a map), its
    out-of-band buffers taken from ``buffers`` in order (as they are: the caller's maps);
    ``Refused`` for anything else (never another error). Nothing decoded refers to
    ``data`` (every string and bytes value is a copy): a map of it can be closed after.

    ``leave``: a process that exits right after its build (``os._exit``) puts the
    decoder there instead of freeing it: its memo holds every object decoded (tens of
    millions at 100,000 posts), whose release costs ~0.3 s; the decoder then also holds
    ``data`` (a map of it stays open until the process exits)."""
    with memoryview(data) as view:
        decoder = _Decoder(cast(Any, _InPlace(view[start:])),  # views, not bytes: see there
                           buffers=buffers)
        try:
            found = decoder.load()
        except Refused:
            raise
        except Exception as exc:  # truncated, bit-flipped, forged: all just not a snapshot
            raise Refused(f"not a source snapshot: {exc!r}"[:300]) from exc
        else:
            if leave is not None:
                leave.append(decoder)
            return found
        finally:
            del decoder  # its hold on the buffer, before the view is released


__all__ = ["ALLOWED", "Refused", "allow", "construct", "decode", "encode"]
