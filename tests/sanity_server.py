"""A Sanity Content Lake stand-in for tests: Query and Listen APIs on 127.0.0.1.

Speaks the wire protocol ssgen relies on (see SANITY.md): ``GET/POST
/v<ver>/data/query/<dataset>`` with ``$param`` JSON decoding, perspectives
(published/drafts/raw) over a dataset with drafts, bearer-token auth (anonymous callers
never see drafts; a wrong token is a 401), Sanity error bodies (``queryParseError`` with
start/end), and ``GET /v<ver>/data/listen/<dataset>`` server-sent events (welcome,
mutation events with ``<txid>#<docId>`` ids, keep-alives, ``Last-Event-ID`` resume).
``GET /v<ver>/data/export/<dataset>`` streams the Export API's NDJSON (chunked; the
``cut`` fault breaks it off mid-line). Answers with ssgen's own GROQ engine. Tests mutate the dataset with ``put``/``delete``,
inject faults with ``inject``/``latency``/``serve_stale`` and assert on ``requests``.

    with SanityTestServer(docs, token="secret") as server:
        source = SanitySource(server.settings())
"""

from __future__ import annotations

import copy
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

try:
    from sanity_sse import ListenHub, Subscription
    from sanity_wire import Fault, Handler, RequestRecord, plain_error, typed_error
except ImportError:  # imported as tests.sanity_server
    from tests.sanity_sse import ListenHub, Subscription
    from tests.sanity_wire import Fault, Handler, RequestRecord, plain_error, typed_error

from ssgen.errors import GroqError, GroqSyntaxError
from ssgen.sources.sanity.http import SanitySettings

__all__ = ["Fault", "RequestRecord", "SanityTestServer", "view"]


@dataclass
class State:
    """The dataset and its revision bookkeeping (guarded by ``lock``)."""

    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    stale_documents: dict[str, dict[str, Any]] | None = None
    stale_reads: int = 0
    revision: int = 0
    datasets: dict[tuple[str, bool], Any] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client killed mid-request (the properties' kill -9 rounds) resets its
        # connection: no error of the server's to print.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class SanityTestServer:
    """The server; start with ``with`` or ``start()``/``stop()``. See the module docstring."""

    def __init__(
        self,
        documents: Iterable[dict[str, Any]] = (),
        *,
        project_id: str = "test",
        dataset: str = "production",
        token: str | None = None,
        private: bool = False,
        keepalive: float = 15.0,
        now: str | None = None,
    ) -> None:
        self.project_id = project_id
        self.dataset = dataset
        self.token = token
        self.private = private
        self.now = now
        self.latency = 0.0
        self.export_enabled = True
        self.state = State({doc["_id"]: copy.deepcopy(doc) for doc in documents})
        self.requests: list[RequestRecord] = []
        self.faults: list[Fault] = []
        self.hub = ListenHub(keepalive=keepalive)
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------

    def start(self) -> SanityTestServer:
        """Bind a free port on 127.0.0.1 and serve in a daemon thread."""
        from ssgen.groq import parse

        # ssgen.groq.functions loads its registry lazily and not thread-safely: warm it
        # before handler threads parse concurrently.
        parse("count(*)")
        httpd = _Server(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        httpd.app = self  # type: ignore[attr-defined]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close listeners, stop serving and release the port."""
        self.hub.close()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> SanityTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``: the ``api_host`` for clients."""
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def settings(self, **overrides: Any) -> SanitySettings:
        """Client settings pointing at this server (fast retries for tests)."""
        values: dict[str, Any] = {"project_id": self.project_id, "dataset": self.dataset,
                                  "api_host": self.url, "token": self.token, "use_cdn": False,
                                  "backoff_base": 0.001, "backoff_jitter": 0.001,
                                  "timeout": 5.0}
        values.update(overrides)
        return SanitySettings(**values)

    # --- test controls --------------------------------------------------------------

    def inject(self, kind: str, count: int = 1, *, after: int = 0, **options: Any) -> None:
        """Make ``count`` requests (of ``api``, default query) fail with ``kind``, once
        ``after`` more have been answered normally."""
        api = options.get("api", "query")
        with self._lock:
            self.faults.extend(Fault("none", api=api) for _ in range(after))
            self.faults.extend(Fault(kind, **options) for _ in range(count))

    def serve_stale(self, count: int) -> None:
        """Answer the next ``count`` queries from the dataset before the last mutation."""
        with self.state.lock:
            self.state.stale_reads = count

    def clear_log(self) -> None:
        """Forget the request log."""
        with self._lock:
            self.requests.clear()

    def log(self, api: str = "query") -> list[RequestRecord]:
        """Logged requests whose path is under ``/data/<api>/``."""
        with self._lock:
            return [r for r in self.requests if f"/data/{api}/" in r.path]

    def documents(self) -> list[dict[str, Any]]:
        """A copy of every stored document (raw, drafts included)."""
        with self.state.lock:
            return copy.deepcopy(list(self.state.documents.values()))

    def put(self, doc: dict[str, Any]) -> dict[str, Any]:
        """createOrReplace: new ``_rev``/``_updatedAt``; emits a mutation event. Returns it."""
        with self.state.lock:
            before = self.state.documents.get(doc["_id"])
            after = self._stamp(copy.deepcopy(doc), before)
            self._commit(doc["_id"], before, after)
            return copy.deepcopy(after)

    def delete(self, doc_id: str) -> None:
        """Delete a document; emits a mutation event when it existed."""
        with self.state.lock:
            before = self.state.documents.get(doc_id)
            if before is not None:
                self._commit(doc_id, before, None)

    def _stamp(self, doc: dict[str, Any], before: dict[str, Any] | None) -> dict[str, Any]:
        self.state.revision += 1
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        doc["_rev"] = f"rev{self.state.revision:06d}"
        doc["_updatedAt"] = stamp
        doc.setdefault("_createdAt", (before or {}).get("_createdAt", stamp))
        return doc

    def _commit(self, doc_id: str, before: dict[str, Any] | None,
                after: dict[str, Any] | None) -> None:
        self.state.stale_documents = dict(self.state.documents)
        if after is None:
            del self.state.documents[doc_id]
        else:
            self.state.documents[doc_id] = after
        self.state.datasets.clear()
        self.hub.publish(f"tx{self.state.revision:06d}", doc_id, before, after)

    # --- query answering (called by the handler) ------------------------------------

    def take_fault(self, api: str) -> Fault | None:
        """The next injected fault for ``api``, consumed."""
        with self._lock:
            for i, fault in enumerate(self.faults):
                if fault.api == api:
                    return self.faults.pop(i)
        return None

    def record(self, record: RequestRecord) -> None:
        """Append to the request log."""
        with self._lock:
            self.requests.append(record)

    def authorize(self, headers: dict[str, str]) -> bool:
        """True for a valid token; anonymous is False; a wrong token (or none when private)
        is a 401 with Sanity's body."""
        header = headers.get("authorization", "")
        if not header:
            if self.private:
                raise plain_error(401, "Unauthorized", "Dataset is private: a token is required")
            return False
        if header != f"Bearer {self.token}" or self.token is None:
            raise plain_error(401, "Unauthorized", "Session not found")
        return True

    def answer_query(self, text: str, params: dict[str, Any], perspective: str,
                     authorized: bool) -> Any:
        """The ``result`` of a query, evaluated with ssgen.groq over the visible documents."""
        from ssgen.groq import parse

        try:
            query = parse(text)
        except GroqSyntaxError as exc:
            raise typed_error(400, "queryParseError", exc.message, query=text,
                               start=exc.offset, end=min(len(text), exc.offset + 1)) from exc
        dataset = self._dataset(perspective, authorized)
        try:
            return query.evaluate(dataset, params, self.now)
        except GroqError as exc:
            raise typed_error(400, "queryExecutionError", str(exc), query=text) from exc

    def _dataset(self, perspective: str, authorized: bool) -> Any:
        from ssgen.groq import Dataset

        with self.state.lock:
            if self.state.stale_reads > 0 and self.state.stale_documents is not None:
                self.state.stale_reads -= 1
                return Dataset(view(self.state.stale_documents.values(), perspective, authorized))
            key = (perspective, authorized)
            if key not in self.state.datasets:
                docs = view(self.state.documents.values(), perspective, authorized)
                self.state.datasets[key] = Dataset(docs)
            return self.state.datasets[key]

    def export_documents(self, authorized: bool) -> list[dict[str, Any]]:
        """What the Export API streams (drafts only for a token; system documents too, as
        Sanity's export has them): a snapshot, since a put replaces documents, never
        edits them."""
        with self.state.lock:
            return view(self.state.documents.values(), "raw", authorized)

    def subscribe(self, text: str, params: dict[str, str], authorized: bool,
                  last_event_id: str | None) -> Subscription:
        """A Listen API subscription (query parse errors are 400s like the Query API)."""
        from ssgen.groq import parse

        try:
            query = parse(text)
        except GroqSyntaxError as exc:
            raise typed_error(400, "queryParseError", exc.message, query=text,
                               start=exc.offset, end=min(len(text), exc.offset + 1)) from exc
        return self.hub.subscribe(query, params, authorized, last_event_id)


def view(docs: Iterable[dict[str, Any]], perspective: str,
         authorized: bool) -> list[dict[str, Any]]:
    """The documents a perspective shows (anonymous callers never see drafts/versions)."""
    visible = [d for d in docs if authorized or not _is_private(d["_id"])]
    if perspective == "raw":
        return visible
    published = [d for d in visible if not _is_private(d["_id"])]
    if perspective == "published":
        return published
    merged = {d["_id"]: {**d, "_originalId": d["_id"]} for d in published}
    for d in visible:
        if d["_id"].startswith("drafts."):
            base = d["_id"].removeprefix("drafts.")
            merged[base] = {**d, "_id": base, "_originalId": d["_id"]}
    return list(merged.values())


def _is_private(doc_id: str) -> bool:
    return doc_id.startswith(("drafts.", "versions."))


