"""The Listen API half of the Sanity test server: event history, subscriptions, SSE frames.

``ListenHub`` keeps every mutation event (``<txid>#<docId>`` ids) so a client that
reconnects with ``Last-Event-ID`` gets what it missed; each ``Subscription`` turns the
history into SSE frames for its filter (appear/update/disappear transitions), sends
``:`` keep-alives when idle, and can be sent control events or dropped by the test.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Recorded:
    """One mutation as it happened: the document before and after."""

    event_id: str
    transaction_id: str
    document_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    timestamp: str


def frame(event: str, data: Any, event_id: str | None = None) -> bytes:
    """One SSE message (``id:`` first when given, then ``event:``, ``data:``)."""
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {event}\ndata: {json.dumps(data)}\n\n".encode()


@dataclass
class Subscription:
    """One open Listen connection; ``frames()`` yields bytes until closed or dropped."""

    hub: ListenHub
    query: Any
    params: dict[str, str]
    authorized: bool
    position: int
    control: list[tuple[str, Any]] = field(default_factory=list)
    dropped: bool = False

    def frames(self) -> Iterator[bytes]:
        """Welcome, then mutation/control events and keep-alives, until the end."""
        yield frame("welcome", {"listenerName": f"test-listener-{id(self):x}"})
        while True:
            pending, control, done = self.hub.wait(self)
            if done:
                return
            if not pending and not control:
                yield b":\n\n"
            for record in pending:
                data = self._mutation(record)
                if data is not None:
                    yield frame("mutation", data, record.event_id)
            for kind, payload in control:
                yield frame(kind, payload)
                if kind in ("disconnect", "channelError"):
                    return

    def _mutation(self, record: Recorded) -> dict[str, Any] | None:
        if not self.authorized and record.document_id.startswith(("drafts.", "versions.")):
            return None
        was, now = self._matches(record.before), self._matches(record.after)
        if not was and not now:
            return None
        transition = "update" if was and now else ("appear" if now else "disappear")
        data: dict[str, Any] = {
            "eventId": record.event_id, "documentId": record.document_id,
            "transactionId": record.transaction_id, "transition": transition,
            "identity": "test-user", "visibility": "query", "timestamp": record.timestamp,
            "mutations": [{"delete": {"id": record.document_id}} if record.after is None
                          else {"createOrReplace": record.after}],
            "resultRev": (record.after or {}).get("_rev"),
            "previousRev": (record.before or {}).get("_rev"),
            "transactionTotalEvents": 1, "transactionCurrentEvent": 1,
        }
        if self.params.get("includeResult") == "true" and record.after is not None:
            data["result"] = record.after
        if self.params.get("includePreviousRevision") == "true" and record.before is not None:
            data["previous"] = record.before
        return data

    def _matches(self, doc: dict[str, Any] | None) -> bool:
        if doc is None:
            return False
        from ssgen.groq import Dataset

        values = {k[1:]: json.loads(v) for k, v in self.params.items() if k.startswith("$")}
        result = self.query.evaluate(Dataset([doc]), values)
        return bool(result) if isinstance(result, list) else result is not None


class ListenHub:
    """Mutation history and open subscriptions, shared with the HTTP handler threads."""

    def __init__(self, keepalive: float = 15.0) -> None:
        self.keepalive = keepalive
        self.history: list[Recorded] = []
        self.subscriptions: list[Subscription] = []
        self.closed = False
        self.total = 0
        self._cond = threading.Condition()

    def publish(self, transaction_id: str, doc_id: str, before: dict[str, Any] | None,
                after: dict[str, Any] | None) -> Recorded:
        """Record a mutation and wake the listeners."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        record = Recorded(f"{transaction_id}#{doc_id}", transaction_id, doc_id, before, after,
                          stamp)
        with self._cond:
            self.history.append(record)
            self._cond.notify_all()
        return record

    def subscribe(self, query: Any, params: dict[str, str], authorized: bool,
                  last_event_id: str | None) -> Subscription:
        """A subscription that starts now, or right after ``last_event_id`` when known."""
        with self._cond:
            position = len(self.history)
            for i, record in enumerate(self.history):
                if record.event_id == last_event_id:
                    position = i + 1
            sub = Subscription(self, query, params, authorized, position)
            self.subscriptions.append(sub)
            self.total += 1
            self._cond.notify_all()
            return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Forget a finished subscription."""
        with self._cond:
            if sub in self.subscriptions:
                self.subscriptions.remove(sub)
            self._cond.notify_all()

    def wait(self, sub: Subscription) -> tuple[list[Recorded], list[tuple[str, Any]], bool]:
        """New records and control events for ``sub`` (empty after a keep-alive period)."""
        with self._cond:
            self._cond.wait_for(
                lambda: self.closed or sub.dropped or sub.control
                or len(self.history) > sub.position,
                timeout=self.keepalive,
            )
            if self.closed or sub.dropped:
                return [], [], True
            pending = self.history[sub.position:]
            sub.position = len(self.history)
            control, sub.control = sub.control, []
            return pending, control, False

    def send(self, kind: str, data: Any) -> int:
        """Send a control event (reconnect, channelError, disconnect) to every listener."""
        with self._cond:
            for sub in self.subscriptions:
                sub.control.append((kind, data))
            self._cond.notify_all()
            return len(self.subscriptions)

    def drop_all(self) -> int:
        """End every open stream abruptly (the client sees the connection close)."""
        with self._cond:
            for sub in self.subscriptions:
                sub.dropped = True
            self._cond.notify_all()
            return len(self.subscriptions)

    def wait_for_connections(self, total: int, timeout: float = 5.0) -> bool:
        """Block until ``total`` subscriptions were ever opened (test synchronisation)."""
        with self._cond:
            return self._cond.wait_for(lambda: self.total >= total, timeout)

    def close(self) -> None:
        """End every stream (server shutdown)."""
        with self._cond:
            self.closed = True
            self._cond.notify_all()
