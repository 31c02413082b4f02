"""A test hook: make a build die at a named point, as ``kill -9`` would.

``SSGEN_FAULT`` is unset in normal use and then costs one dictionary lookup per call.
Set it for crash tests only:

- ``SSGEN_FAULT=after-write:N``: the process exits (``os._exit(137)``, no cleanup) right
  after its N-th output file is renamed into place (each process counts its own: the
  build process renders chunks too, so with forked render workers any of them may die);
- ``SSGEN_FAULT=mid-write:N``: exits after its N-th temp file is written, before the
  rename (a kill in the middle of a write: the temp file stays behind);
- ``SSGEN_FAULT=worker:after-write:N`` or ``worker:mid-write:N``: the same, in forked
  render workers only (the build process goes on, as when the kernel kills one worker);
- ``SSGEN_FAULT=at:NAME``: exits when the build reaches the point ``NAME``
  (``before-record``, ``after-record``, ``after-extras``).
"""

from __future__ import annotations

import os

_ENV = "SSGEN_FAULT"
_WORKER = "worker:"
_counts = {"after-write:": 0, "mid-write:": 0}
_parent: list[int] = []  # the pid of the process that forked the render workers


def _forked() -> None:
    for key in _counts:  # a forked process counts its own writes from zero
        _counts[key] = 0


os.register_at_fork(after_in_child=_forked)


def render_parent() -> None:
    """Called by the process about to fork render workers: it is not a worker."""
    _parent[:] = [os.getpid()]


def after_write() -> None:
    """Called after each output file is renamed into place."""
    _write_point("after-write:")


def mid_write() -> None:
    """Called after a temp file is written, before it is renamed into place."""
    _write_point("mid-write:")


def _write_point(kind: str) -> None:
    spec = os.environ.get(_ENV)
    if not spec:
        return
    if spec.startswith(_WORKER):
        if not _parent or os.getpid() == _parent[0]:
            return
        spec = spec.removeprefix(_WORKER)
    if not spec.startswith(kind):
        return
    _counts[kind] += 1
    if str(_counts[kind]) == spec.removeprefix(kind):
        os._exit(137)


def point(name: str) -> None:
    """Called when the build reaches the named point."""
    if os.environ.get(_ENV) == f"at:{name}":
        os._exit(137)
