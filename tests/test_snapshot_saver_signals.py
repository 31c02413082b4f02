"""A serve's forked snapshot saver ends on SIGTERM although the server's own SIGTERM
handler (uvicorn's only flags a shutdown) was installed when it forked."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from types import FrameType

import pytest

from ssgen.sources.snapshot import background

Runner = Callable[[Callable[[], None]], object]


@pytest.fixture()
def flagging_handler() -> Iterator[None]:
    """A handler like uvicorn's: it notes the signal and returns."""
    def flag(signum: int, frame: FrameType | None) -> None:
        pass

    previous = signal.signal(signal.SIGTERM, flag)
    yield
    signal.signal(signal.SIGTERM, previous)


def _status_after_sigterm(runs: Runner) -> int:
    """Fork a child whose ``runs`` runs a 30 s save, SIGTERM it once it runs, and return
    its wait status (SIGKILLed after 5 s when it outlived the SIGTERM)."""
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ready_r)

        def save() -> None:
            os.write(ready_w, b"x")
            time.sleep(30)

        try:
            runs(save)
        finally:
            os._exit(3)
    os.close(ready_w)
    os.read(ready_r, 1)
    os.close(ready_r)
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    return os.waitpid(pid, 0)[1]


def _killed_by_sigterm(status: int) -> bool:
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM


def test_the_saver_ends_on_sigterm(flagging_handler: None) -> None:
    assert _killed_by_sigterm(_status_after_sigterm(background.as_child))


def test_mutant_saver_keeping_the_servers_handler_is_caught(flagging_handler: None) -> None:
    def keeping(work: Callable[[], None]) -> None:
        try:
            work()
        finally:
            os._exit(0)

    assert not _killed_by_sigterm(_status_after_sigterm(keeping))
