"""``ssgen serve``: webhook-driven revalidation (ISR for static hosting) and a dev server.

app.py (Starlette routes), webhooks.py (auth, signatures, payload -> Change), worker.py
(coalescing rebuilds over the manifest's durable queue, retries, time-based
revalidation), watch.py (file edits -> Change), static.py (the output folder over HTTP),
livereload.py (dev reloads), cli.py (the ``serve`` command). See docs/serve.md.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# Imported on first use: `ssgen build` loads the serve command's module (for --help),
# and Starlette, uvicorn and asyncio would add ~60 ms to every build's start.
_LAZY = {"ServeSettings": "app", "create_app": "app", "RebuildResult": "worker",
         "RebuildWorker": "worker"}

__all__ = ["RebuildResult", "RebuildWorker", "ServeSettings", "create_app"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ssgen.serve' has no attribute {name!r}")
    return getattr(import_module(f"ssgen.serve.{module}"), name)
