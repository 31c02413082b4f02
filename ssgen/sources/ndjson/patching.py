"""A kept file's bytes patched in place with the move of their tail outside the GIL.

Owns ``patch_in_place``: ``data[start:stop] = middle`` on a ``bytearray``, changing its
size. The slice assignment moves every byte after ``stop`` with the GIL held (~700 MB
at 100,000 posts: tens of ms); serve patches after a round's replies are handed to its
event loop, and a reply still to be written waited for the whole move. Here a long tail
is moved by libc's ``memmove`` through ``ctypes``, which lets go of the GIL during the
call, so the loop writes its replies meanwhile.
"""

from __future__ import annotations

# Tails shorter than this are moved by the slice assignment: a few ms at most.
MOVE_APART = 1 << 20


def patch_in_place(data: bytearray, start: int, stop: int, middle: bytes) -> bytearray:
    """``data[start:stop] = middle``, a long tail moved with the GIL let go; ``data``.
    Raises ``BufferError``, ``data`` as it was, when a view of ``data`` exported elsewhere
    forbids resizing it."""
    delta = len(middle) - (stop - start)
    tail = len(data) - stop
    if not delta or tail < MOVE_APART:
        data[start:stop] = middle
        return data
    size = len(data)
    data.extend(bytes(max(delta, 0) or 1))  # a shrink's extra byte: can it resize?
    _move(data, stop + delta, stop, tail)
    data[start:start + len(middle)] = middle
    try:
        del data[size + delta:]
    except BufferError:  # another thread took a view during the move: a patched copy
        return bytearray(memoryview(data)[:size + delta])
    return data


def _move(data: bytearray, to: int, start: int, count: int) -> None:
    """``count`` bytes of ``data`` from ``start`` to ``to`` (may overlap), outside the
    GIL (a ``CFUNCTYPE`` call, as ``ctypes.memmove`` is, releases it)."""
    import ctypes  # here: a cold build imports this module (``diff``) but never moves

    view = (ctypes.c_char * len(data)).from_buffer(data)
    try:
        base = ctypes.addressof(view)
        ctypes.memmove(base + to, base + start, count)
    finally:
        del view  # the export let go: ``data`` may be resized again


__all__ = ["MOVE_APART", "patch_in_place"]
