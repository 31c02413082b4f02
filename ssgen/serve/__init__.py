"""``ssgen serve``: webhook-driven revalidation (ISR for static hosting) and a dev server.

app.py (Starlette routes), webhooks.py (auth, signatures, payload -> Change), worker.py
(coalescing rebuilds over the manifest's durable queue, retries, time-based
revalidation), watch.py (file edits -> Change), static.py (the output folder over HTTP),
livereload.py (dev reloads), cli.py (the ``serve`` command). See docs/serve.md.
"""

from __future__ import annotations

from ssgen.serve.app import ServeSettings, create_app
from ssgen.serve.worker import RebuildResult, RebuildWorker

__all__ = ["RebuildResult", "RebuildWorker", "ServeSettings", "create_app"]
