"""How long-running work talks to the terminal: messages, warnings and a progress bar.

The build and the server report through a ``Reporter`` so they never print directly;
``Reporter.quiet()`` is what tests and library callers get.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class Reporter:
    """Messages at three verbosity levels (0 quiet, 1 normal, 2 verbose) and progress bars."""

    def __init__(self, console: Console | None, verbosity: int = 1) -> None:
        self.console = console
        self.verbosity = verbosity

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

    @contextmanager
    def progress(self, description: str, total: int) -> Iterator[Callable[[int], None]]:
        """A progress bar for ``total`` steps; yields ``advance(n)``."""
        if self.console is None or self.verbosity < 1 or not self.console.is_terminal:
            yield lambda n: None
            return
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
