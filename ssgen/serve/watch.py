"""``serve --watch``: file changes under the site -> ``Change`` -> the rebuild worker.

Owns the mapping from changed files to changes: ``ssgen.toml`` -> everything (and the
config is reloaded), ``templates/<name>`` -> ``Change.templates``, ``content/``, the
source's dataset files and ``static/`` -> a plain rebuild (the build diffs the documents
against the manifest and copies static files). Folders are watched with watchfiles;
single files outside them (``ssgen.toml``, a dataset named in ``[source] files``) are
polled by stat between watchfiles timeouts, so editors that save by rename still count.
Edits count only once they have settled: every changed file's (mtime_ns, size) unchanged
for ``settle`` seconds (0.2), a file newly 0 bytes for ``empty_wait`` (1.0: an editor's
in-place save truncates, then writes), and never longer than ``max_wait`` (2.0) after the
first change of the batch; so a file being written is not read half-way. Should a writer
pause longer than that, the worker keeps the old config (``serve/worker/reload``: a config
that fails to load or defines no pages is refused), logs the error with its file:line and
reloads again on the next change.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple, Protocol

import watchfiles

from ssgen.build.change import Change
from ssgen.config.load import Config

log = logging.getLogger("ssgen.serve")

_Stamp = tuple[int, int] | None
_UNKNOWN: _Stamp = (-1, -1)  # a watched file not yet seen: its size may have been >0
_TICK_MS = 100  # how often a quiet watcher looks again at files still settling


class _Seen(NamedTuple):
    """A changed file while it settles: its stamp, held since, first seen changing."""

    stamp: _Stamp
    since: float
    first: float


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
                 *, debounce_ms: int = 50, settle: float = 0.2, empty_wait: float = 1.0,
                 max_wait: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.worker = worker
        self.debounce_ms = debounce_ms
        self.settle = settle
        self.empty_wait = empty_wait
        self.max_wait = max_wait
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.folders, self.files = _targets(config, extra)
        self._known: dict[Path, _Stamp] = {f: _stamp(f) for f in self.files}  # as submitted
        self._pending: dict[Path, _Seen] = {}

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
            while not self._stop.wait(_TICK_MS / 1000):
                self._handle(set())
            return
        batches = watchfiles.watch(
            *self.folders, stop_event=self._stop, debounce=self.debounce_ms,
            rust_timeout=_TICK_MS, yield_on_timeout=True, raise_interrupt=False)
        for batch in batches:
            self._handle({Path(p) for _, p in batch})

    def _handle(self, changed: set[Path]) -> None:
        now = self._clock()
        self._note(changed | self._polled(), now)
        ready = self._settled(now)
        if not ready:
            return
        change, reload_config = classify(self.config, ready)
        log.info("changed: %s", ", ".join(sorted(str(p) for p in ready)[:5]),
                 extra={"event": "watch", "files": len(ready)})
        try:
            self.worker.submit(change, reload_config=reload_config)
        except Exception:  # keep watching: the next edit may succeed
            log.exception("cannot queue a watched change")

    def _polled(self) -> set[Path]:
        """The polled files whose stamp differs from the one last submitted."""
        return {path for path in self.files if _stamp(path) != self._known[path]}

    def _note(self, changed: set[Path], now: float) -> None:
        output = self.config.output_dir.resolve()
        state = self.config.state_dir.resolve()
        for path in changed:
            if path in self._pending or _inside(path, output) or _inside(path, state) \
                    or _editor_temp(path):
                continue
            self._pending[path] = _Seen(_stamp(path), now, now)

    def _settled(self, now: float) -> set[Path]:
        """The pending files, once every one of them has held still long enough; those
        back to the stamp last submitted are dropped (nothing to rebuild)."""
        for path, seen in self._pending.items():
            stamp = _stamp(path)
            if stamp != seen.stamp:
                self._pending[path] = seen._replace(stamp=stamp, since=now)
        if not all(self._still(path, seen, now) for path, seen in self._pending.items()):
            return set()
        ready = {path for path, seen in self._pending.items()
                 if seen.stamp != self._known.get(path, _UNKNOWN)}
        self._known.update((path, seen.stamp) for path, seen in self._pending.items())
        self._pending.clear()
        return ready

    def _still(self, path: Path, seen: _Seen, now: float) -> bool:
        if now - seen.first >= self.max_wait:
            return True
        before = self._known.get(path, _UNKNOWN)
        emptied = (seen.stamp is not None and seen.stamp[1] == 0
                   and (before is None or before[1] != 0))
        return now - seen.since >= (self.empty_wait if emptied else self.settle)


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
