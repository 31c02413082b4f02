"""One builder at a time: the site's build lock, and with shared state (PostgreSQL) the
one-builder lock across machines."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from ssgen.build.progress import Reporter
from ssgen.config.load import Config
from ssgen.manifest.connect import fence_held, set_fence
from ssgen.manifest.lock import BuildLock, BuildLockBusy


@contextmanager
def locked(config: Config, reporter: Reporter) -> Iterator[None]:
    """Hold the site's build lock; say so when another build makes us wait."""
    lock = BuildLock(config.site_dir, wait=False)
    try:
        lock.acquire()
    except BuildLockBusy as exc:
        holder = f" (pid {exc.pid})" if exc.pid else ""
        reporter.info(f"another build of this site is running{holder}; waiting for it to finish")
        lock = BuildLock(config.site_dir, wait=True)
        lock.acquire()
    try:
        with shared_builder(config, reporter):
            yield
    finally:
        lock.release()


@contextmanager
def shared_builder(config: Config, reporter: Reporter) -> Iterator[None]:
    """With shared state, be its one builder for the build (serve's builder already is)."""
    if config.state_url is None or fence_held():
        yield
        return
    import socket

    from ssgen.manifest.builder import BuilderLock

    lock = BuilderLock(config.state_url, f"ssgen build {socket.gethostname()}:{os.getpid()}")
    if not lock.try_acquire():
        reporter.info("another builder holds the shared state; waiting for it")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()
        set_fence(None)
