"""How long-running work talks to the terminal: messages, warnings and a progress bar.

The build and the server report through a ``Reporter`` so they never print directly;
``Reporter.quiet()`` is what tests and library callers get.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich is imported only by a reporter that prints
    from rich.console import Console


class Reporter:
    """Messages at three verbosity levels (0 quiet, 1 normal, 2 verbose) and progress bars."""

    def __init__(self, console: Console | None, verbosity: int = 1,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.console = console
        self.verbosity = verbosity
        self.clock = clock

    @classmethod
    def quiet(cls) -> Reporter:
        """A reporter that shows nothing."""
        return cls(None, 0)

    def info(self, message: str) -> None:
        """A normal message."""
        if self.console is not None and self.verbosity >= 1:
            self.console.print(message, highlight=False)

    def debug(self, message: str) -> None:
        """A message shown only with ``-v``."""
        if self.console is not None and self.verbosity >= 2:
            self.console.print(f"[dim]{message}[/dim]", highlight=False)

    def warn(self, message: str) -> None:
        """A warning; shown unless quiet."""
        if self.console is not None and self.verbosity >= 1:
            self.console.print(f"[yellow]warning:[/yellow] {message}", highlight=False)

    SLOW_STAGE = 2.0

    def slow_stage(self, stage: str, seconds: float) -> None:
        """Say that a build stage took ``SLOW_STAGE`` seconds or more, so a long build's
        log is not silent before (or after) its render progress."""
        if self.console is not None and self.verbosity >= 1 and seconds >= self.SLOW_STAGE:
            self.console.print(f"{stage}: done in {seconds:.1f}s", highlight=False, markup=False)

    @contextmanager
    def progress(self, description: str, total: int) -> Iterator[Callable[[int], None]]:
        """A progress bar for ``total`` steps; yields ``advance(n)``. Off a terminal (CI
        logs), plain lines instead (see ``PlainProgress``)."""
        if self.console is None or self.verbosity < 1:
            yield lambda n: None
            return
        if not self.console.is_terminal:
            yield PlainProgress(self.console, description, total, self.clock).advance
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        with bar:
            task = bar.add_task(description, total=total)
            yield lambda n: bar.advance(task, n)


class PlainProgress:
    """Progress as plain log lines: ``Rendering: 332/3318 (10%), 4.1s``. Quiet for the first
    ``QUIET_FOR`` seconds, so a small build's log stays one summary line."""

    PLAIN_EVERY = 5.0
    QUIET_FOR = 2.0

    def __init__(self, console: Console, description: str, total: int,
                 clock: Callable[[], float]) -> None:
        self.console, self.description, self.total, self.clock = console, description, total, clock
        self.done = 0
        self.started = self.last_time = clock()
        self.last_tenth = 0

    def advance(self, steps: int) -> None:
        """Count ``steps`` more; print a line when a tenth is crossed or time has passed."""
        self.done += steps
        now = self.clock()
        tenth = self.done * 10 // self.total if self.total else 10
        if now - self.started < self.QUIET_FOR:
            self.last_tenth = tenth
            return
        if tenth > self.last_tenth or now - self.last_time >= self.PLAIN_EVERY:
            self.last_tenth, self.last_time = tenth, now
            percent = self.done * 100 // self.total if self.total else 100
            self.console.print(
                f"{self.description}: {self.done}/{self.total} ({percent}%), "
                f"{now - self.started:.1f}s",
                highlight=False, markup=False,
            )
