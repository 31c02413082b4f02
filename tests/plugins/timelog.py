"""Opt-in per-test timing log: wall, CPU of pytest itself and of its children, RSS, load.

Not loaded by default. Enable it with ``-p plugins.timelog`` (``tests`` is on pytest's
``pythonpath``) and name the output with ``TIMELOG=/path/to/file.tsv``::

    TIMELOG=/tmp/suite.tsv CI=true .venv/bin/python -m pytest -p plugins.timelog

Each finished test appends one tab-separated line: node id, wall seconds, CPU seconds of
the pytest process, CPU seconds of the child processes it waited for, the pytest
process's resident set after the test (MB) and the one-minute load average. Lines are
appended, so a file can gather several runs; ``bench/testlog.py`` sums it per file.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Generator
from typing import IO

import pytest

_OUT: list[IO[str]] = []  # the log, opened by the first test, closed with the run
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _cpu() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE / 1e6


def _out() -> IO[str]:
    if not _OUT:
        _OUT.append(open(os.environ.get("TIMELOG", "timelog.tsv"), "a", buffering=1))  # noqa: SIM115
    return _OUT[0]


def pytest_unconfigure(config: pytest.Config) -> None:
    while _OUT:
        _OUT.pop().close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    start = time.monotonic()
    own, children = _cpu()
    yield
    own_end, children_end = _cpu()
    _out().write(
        f"{item.nodeid}\t{time.monotonic() - start:.3f}\t{own_end - own:.3f}\t"
        f"{children_end - children:.3f}\t{_rss_mb():.0f}\t{os.getloadavg()[0]:.1f}\n")
