"""A test hook: make a build die at a named point, as ``kill -9`` would.

``SSGEN_FAULT`` is unset in normal use and then costs one dictionary lookup per call.
Set it for crash tests only:

- ``SSGEN_FAULT=after-write:N``: the process exits (``os._exit(137)``, no cleanup) right
  after its N-th output file is renamed into place (each render worker counts its own);
- ``SSGEN_FAULT=at:NAME``: exits when the build reaches the point ``NAME``
  (``before-record``, ``after-record``, ``after-extras``).
"""

from __future__ import annotations

import os

_ENV = "SSGEN_FAULT"
_writes = 0


def after_write() -> None:
    """Called after each output file is renamed into place."""
    spec = os.environ.get(_ENV)
    if not spec or not spec.startswith("after-write:"):
        return
    global _writes
    _writes += 1
    if str(_writes) == spec.removeprefix("after-write:"):
        os._exit(137)


def point(name: str) -> None:
    """Called when the build reaches the named point."""
    if os.environ.get(_ENV) == f"at:{name}":
        os._exit(137)
