"""``serve --watch``: file changes under the site -> ``Change`` -> the rebuild worker.

Owns the mapping from changed files to changes: ``ssgen.toml`` -> everything (and the
config is reloaded), ``templates/<name>`` -> ``Change.templates``, ``content/``, the
source's dataset files and ``static/`` -> a plain rebuild (the build diffs the documents
against the manifest and copies static files). Folders are watched with watchfiles;
single files outside them (``ssgen.toml``, a dataset named in ``[source] files``) are
polled by stat between watchfiles timeouts, so editors that save by rename still count.
A polled file counts only once it has settled (its size and mtime unchanged for
``settle`` seconds), so a file being written is never read half-way; should a writer
pause longer than that, the worker keeps the old config, logs the error with its
file:line and reloads again on the next change.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

import watchfiles

from ssgen.build.change import Change
from ssgen.config.load import Config

log = logging.getLogger("ssgen.serve")

_Stamp = tuple[int, int] | None


class Submitter(Protocol):
    """The part of the worker the watcher uses."""

    def submit(self, change: Change, key: str | None = None, *,
               reload_config: bool = False) -> object:
        """Queue a change."""
        ...


def classify(config: Config, paths: Iterable[Path]) -> tuple[Change, bool]:
    """The change a set of changed files means, and whether the config must be reloaded."""
    change = Change()
    reload_config = False
    templates = config.templates_dir.resolve()
    for path in paths:
        path = Path(path).resolve()
        if path == config.config_file.resolve():
            change = change.merge(Change(everything=True, reasons=("ssgen.toml changed",)))
            reload_config = True
        elif path.is_relative_to(templates):
            name = path.relative_to(templates).as_posix()
            change = change.merge(Change(templates=frozenset({name}),
                                         reasons=(f"template {name} changed",)))
        else:
            change = change.merge(Change(reasons=(f"{path.name} changed",)))
    return change, reload_config


class Watcher:
    """A thread that watches the site and submits a Change for each batch of edits."""

    def __init__(self, config: Config, worker: Submitter, extra: Iterable[Path] = (),
                 *, debounce_ms: int = 50, settle: float = 0.2,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.worker = worker
        self.debounce_ms = debounce_ms
        self.settle = settle
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.folders, self.files = _targets(config, extra)
        self._stamps = {f: _stamp(f) for f in self.files}  # as last submitted
        self._moving: dict[Path, tuple[_Stamp, float]] = {}  # a new stamp, first seen when

    def start(self) -> None:
        """Start watching."""
        self._thread = threading.Thread(target=self._run, name="ssgen-watch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop watching."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        if not self.folders:
            while not self._stop.wait(0.3):
                self._handle(set())
            return
        batches = watchfiles.watch(
            *self.folders, stop_event=self._stop, debounce=self.debounce_ms,
            rust_timeout=300, yield_on_timeout=True, raise_interrupt=False)
        for batch in batches:
            self._handle({Path(p) for _, p in batch})

    def _handle(self, changed: set[Path]) -> None:
        changed |= self._polled()
        output = self.config.output_dir.resolve()
        state = self.config.state_dir.resolve()
        changed = {p for p in changed
                   if not _inside(p, output) and not _inside(p, state) and not _editor_temp(p)}
        if not changed:
            return
        change, reload_config = classify(self.config, changed)
        log.info("changed: %s", ", ".join(sorted(str(p) for p in changed)[:5]),
                 extra={"event": "watch", "files": len(changed)})
        try:
            self.worker.submit(change, reload_config=reload_config)
        except Exception:  # keep watching: the next edit may succeed
            log.exception("cannot queue a watched change")

    def _polled(self) -> set[Path]:
        """The polled files whose new stamp has held for ``settle`` seconds."""
        now = self._clock()
        found = set()
        for path in self.files:
            stamp = _stamp(path)
            seen = self._moving.get(path)
            if stamp == self._stamps[path]:
                self._moving.pop(path, None)
            elif seen is None or seen[0] != stamp:
                self._moving[path] = (stamp, now)  # still being written, perhaps
            elif now - seen[1] >= self.settle:
                self._stamps[path] = stamp
                del self._moving[path]
                found.add(path)
        return found


def _targets(config: Config, extra: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """Existing folders to watch recursively, and single files to poll."""
    folders: list[Path] = []
    files: list[Path] = [config.config_file]
    candidates = [config.templates_dir, config.static_dir, config.content_dir, *extra]
    for path in candidates:
        path = Path(path)
        if path.is_dir():
            if not any(path.resolve().is_relative_to(f.resolve()) for f in folders):
                folders.append(path)
        elif path not in files:
            files.append(path)
    files = [f for f in files if not any(f.resolve().is_relative_to(d.resolve())
                                         for d in folders)]
    return folders, files


def _stamp(path: Path) -> _Stamp:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder)
    except OSError:
        return False


def _editor_temp(path: Path) -> bool:
    name = path.name
    return name.endswith(("~", ".swp", ".swx", ".tmp")) or name.startswith((".#", ".ssgen-tmp"))


__all__ = ["Watcher", "classify"]
