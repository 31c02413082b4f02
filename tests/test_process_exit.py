"""How a command's process ends (``ssgen.cli.plain.exit_process``): a stopped server
ends without the interpreter's teardown of its heap (gigabytes of kept source at
100,000 posts), its streams flushed and its exit code kept; other commands exit as
usual."""

from __future__ import annotations

import socket
import subprocess
import sys
from types import SimpleNamespace

from ssgen.cli import plain
from ssgen.cli.serve import run_until_stopped

PROBE = """
import atexit, sys
from ssgen.cli import plain
atexit.register(lambda: print("torn down"))
print("flushed", end="")
sys.stderr.write("and stderr")
if sys.argv[1] == "serve":
    plain.leave_heap_for_exit()
plain.exit_process(int(sys.argv[2]))
"""


def _end(command: str, code: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PROBE, command, str(code)],
                          capture_output=True, text=True, timeout=60)


def test_a_stopped_server_ends_without_the_teardown_with_its_streams_flushed() -> None:
    for code in (0, 3):
        ended = _end("serve", code)
        assert ended.returncode == code
        assert ended.stdout == "flushed" and ended.stderr.endswith("and stderr")


def test_other_commands_end_with_the_interpreters_teardown() -> None:
    """The probe sees a teardown when there is one (so the test above can fail)."""
    ended = _end("other", 0)
    assert ended.returncode == 0 and ended.stdout == "flushedtorn down\n"


def test_serve_leaves_its_heap_for_the_exit_once_stopped() -> None:
    """``run_until_stopped`` returns once uvicorn stopped (the worker finished and saved);
    only then is the heap left for the exit."""
    seen: list[bool] = []
    server = SimpleNamespace(config=SimpleNamespace(port=0), should_exit=False,
                             run=lambda: seen.append(bool(plain._HEAP_LEFT)))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        run_until_stopped(server, sock)
        assert seen == [False] and plain._HEAP_LEFT
    finally:
        plain._HEAP_LEFT.clear()
