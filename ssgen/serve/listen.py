"""``serve --listen``: the Sanity Listen API as a trigger, for VMs that webhooks cannot reach.

A background thread keeps a Listen subscription open (the client reconnects and resumes
with ``Last-Event-ID``) and turns each ``mutation`` event into a ``Change`` for the same
rebuild worker that webhooks feed. The event id is the queue's delivery key, so an event
replayed after a reconnect is not applied twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from ssgen.build.change import Change, DocChange, Operation
from ssgen.errors import SsgenError
from ssgen.sources.sanity.listen import ListenEvent

log = logging.getLogger("ssgen.serve")


class Submits(Protocol):
    """The part of the rebuild worker the bridge uses."""

    def submit(self, change: Change, key: str | None = None) -> Any:
        """Durably queue a change."""
        ...


def mutation_change(event: ListenEvent) -> Change | None:
    """The change a Listen event stands for (None for events that are not mutations)."""
    mutation = event.mutation
    if mutation is None:
        return None
    operation: Operation = mutation.operation  # type: ignore[assignment]
    rev = mutation.result.get("_rev") if isinstance(mutation.result, dict) else None
    doc = DocChange(
        mutation.document_id,
        mutation.document_type,
        operation,
        rev if isinstance(rev, str) else None,
    )
    return Change(documents=(doc,), reasons=(f"listen {mutation.transition}",))


class ListenBridge:
    """Runs a Listen subscription in a thread and submits its mutations to the worker."""

    def __init__(
        self,
        listen: Callable[[Callable[[ListenEvent], None]], Any],
        worker: Submits,
    ) -> None:
        self._listener = listen(self._on_event)
        self._worker = worker
        self._thread = threading.Thread(target=self._run, name="ssgen-listen", daemon=True)
        self.error: str | None = None

    def start(self) -> None:
        """Open the subscription in the background."""
        self._thread.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Close the subscription and wait for the thread."""
        self._listener.stop()
        self._thread.join(timeout)

    def _on_event(self, event: ListenEvent) -> None:
        change = mutation_change(event)
        if change is None:
            return
        key = f"listen:{event.id}" if event.id else None
        self._worker.submit(change, key)

    def _run(self) -> None:
        try:
            self._listener.run()
        except SsgenError as exc:
            self.error = str(exc)
            log.error("listen: subscription ended: %s", exc)
