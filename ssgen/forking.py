"""A forked child that answers down a pipe: ``fork_answering``.

A module of its own at the bottom of the layers, importing only ``os``: the quick build
(``ssgen.build.quick``) forks its stat children before anything else of a build loads,
and ``ssgen.sources.parallel`` (whose package imports cost ~20 ms) forks the same way.
"""

from __future__ import annotations

import os
from collections.abc import Callable


def fork_answering(answer: Callable[[int], None]) -> tuple[int, int] | None:
    """A forked child that runs ``answer`` on the write end of a pipe, then exits without
    running the caller's code: (its pid, the pipe's read end), or None when the pipe or
    the fork could not be made (the caller then does the work itself)."""
    read_fd, write_fd = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        return None
    if pid == 0:
        try:
            os.close(read_fd)
            answer(write_fd)
        finally:
            os._exit(0)
    os.close(write_fd)
    return pid, read_fd
