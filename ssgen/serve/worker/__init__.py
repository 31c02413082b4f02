"""The rebuild worker: one thread that turns queued changes into incremental builds.

Owns the serve side of the durable queue (``Manifest.enqueue/pending/ack``): a change is
queued before the HTTP reply, every round merges everything pending (plus routes whose
``revalidate`` period ran out) after a short settle window, reloads the source, builds
with ``change=...`` and acknowledges the queue ids only after the build returned. A
failed round keeps the last good pages (the build never deletes on failure), is logged
with its reason and retried with exponential backoff; work left in the queue by a crash
is replayed at start-up; content failures (see ``build.report``) wait for a fix instead.
Deploys (when ``[deploy]`` is configured) follow each rebuild and are retried the same way.

A package: ``rounds`` (``RebuildWorker``: the thread, its lifecycle and status) >
``plan`` (what a round takes from the queue) | ``run`` (the kept source and the build) |
``outcome`` (what a round reports) | ``book`` (the jobs queued, in flight and done) |
``reload`` (a changed ssgen.toml taken or refused) | ``timing`` (when a round is due);
re-exported here.
"""

from __future__ import annotations

from ssgen.serve.jobs import merge_entries
from ssgen.serve.worker.rounds import BuildFn, RebuildWorker

__all__ = ["BuildFn", "RebuildWorker", "merge_entries"]
