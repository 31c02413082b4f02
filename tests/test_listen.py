"""The Listen API client: SSE framing, event model, reconnect with resume, stop, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.sources.sanity.http import SanityError, SanitySettings
from ssgen.sources.sanity.listen import (
    Listener,
    ListenEvent,
    ListenOptions,
    SseMessage,
    SseParser,
    parse_sse,
    to_event,
)

SETTINGS = SanitySettings(project_id="proj1", dataset="production", token="sekrit-token")


def lines(text: str) -> list[str]:
    return text.splitlines()


# --- SSE framing ------------------------------------------------------------------------


def test_parses_fields_comments_and_multiline_data() -> None:
    stream = (": keep-alive\n\nevent: welcome\ndata: {\"listenerName\": \"x\"}\n\n"
              "id: tx1#a\nevent: mutation\ndata: line1\ndata:line2\n\n"
              "data: no event name\n\n")
    assert list(parse_sse(lines(stream))) == [
        SseMessage("welcome", '{"listenerName": "x"}', None),
        SseMessage("mutation", "line1\nline2", "tx1#a"),
        SseMessage("message", "no event name", "tx1#a"),
    ]


def test_crlf_retry_and_ignored_fields() -> None:
    parser = SseParser()
    raw = "retry: 2500\r\nfoo: bar\r\nid\r\nevent: x\r\ndata\r\n\r\n"
    out = [m for line in raw.split("\r\n") if (m := parser.feed(line)) is not None]
    # a bare "id" resets the last id; a bare "data" is one empty data line, still an event
    assert parser.retry_ms == 2500
    assert out == [SseMessage("x", "", "")]
    parser2 = SseParser()
    assert [parser2.feed(line) for line in ["event: a", "data:", "data:", ""]][-1] == (
        SseMessage("a", "\n", None))


def test_blank_lines_without_data_dispatch_nothing_and_reset_event() -> None:
    parser = SseParser()
    assert parser.feed("event: lonely") is None and parser.feed("") is None
    parser.feed("data: x")
    assert parser.feed("") == SseMessage("message", "x", None)


events = st.lists(st.tuples(
    st.sampled_from(["welcome", "mutation", "reconnect", "channelError"]),
    st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"],
                                   blacklist_characters="\r\n\u2028\u2029\x85"), max_size=30),
    st.none() | st.from_regex(r"tx[0-9]{1,4}#[a-z.]{1,8}", fullmatch=True),
), max_size=6)


@settings(max_examples=80, deadline=None)
@given(events, st.booleans())
def test_serialised_events_parse_back(items: list[tuple[str, str, str | None]],
                                      crlf: bool) -> None:
    text, expected, last = "", [], None
    for kind, data, event_id in items:
        text += ":ka\n" + (f"id: {event_id}\n" if event_id else "")
        text += f"event: {kind}\ndata: {data}\n\n"
        last = event_id or last
        expected.append(SseMessage(kind, data, last))
    if crlf:
        text = text.replace("\n", "\r\n")
    assert list(parse_sse(httpx.Response(200, content=text.encode()).iter_lines())) == expected


def test_mutation_event_becomes_a_change() -> None:
    data = {"documentId": "post-1", "transactionId": "tx9", "transition": "disappear",
            "previous": {"_id": "post-1", "_type": "post"}, "timestamp": "2026-01-01T00:00:00Z"}
    event = to_event(SseMessage("mutation", json.dumps(data), "tx9#post-1"))
    assert event.mutation is not None
    m = event.mutation
    assert (m.document_id, m.transition, m.transaction_id, m.event_id, m.document_type) == (
        "post-1", "disappear", "tx9", "tx9#post-1", "post")
    assert m.operation == "delete"
    appear = to_event(SseMessage("mutation", '{"documentId": "x", "transition": "appear"}', "i"))
    assert appear.mutation is not None and appear.mutation.operation == "create"
    assert appear.mutation.document_type is None


def test_bad_event_data_is_a_clear_error() -> None:
    with pytest.raises(SanityError, match="malformed JSON in a 'mutation' event"):
        to_event(SseMessage("mutation", "{nope", "x"))
    with pytest.raises(SanityError, match="without documentId"):
        to_event(SseMessage("mutation", "{}", "x"))


# --- Listener over MockTransport --------------------------------------------------------


class Failing(httpx.SyncByteStream):
    """A body that delivers some bytes, then the connection breaks."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __iter__(self) -> Iterator[bytes]:
        yield self.data
        raise httpx.ReadError("connection reset")


def sse(*messages: tuple[str, Any, str | None]) -> bytes:
    out = ":\n\n"
    for kind, data, event_id in messages:
        out += (f"id: {event_id}\n" if event_id else "") + f"event: {kind}\n"
        out += f"data: {json.dumps(data)}\n\n"
    return out.encode()


WELCOME = ("welcome", {"listenerName": "l1"}, None)


def mutation(doc: str, tx: str) -> tuple[str, Any, str]:
    return ("mutation", {"documentId": doc, "transactionId": tx, "transition": "update"},
            f"{tx}#{doc}")


def run_listener(responses: list[httpx.Response], **kw: Any
                 ) -> tuple[Listener, list[ListenEvent], list[httpx.Request], list[float]]:
    seen: list[httpx.Request] = []
    got: list[ListenEvent] = []
    slept: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return responses.pop(0)

    listener = Listener(SETTINGS, '*[_type == "post"]', got.append,
                        transport=httpx.MockTransport(handler), sleep=slept.append,
                        rand=lambda: 1.0, **kw)
    listener.run()
    return listener, got, seen, slept


def test_reconnects_after_a_drop_and_resumes_with_last_event_id() -> None:
    first = httpx.Response(200, stream=Failing(sse(WELCOME, mutation("a", "tx1"))))
    second = httpx.Response(200, content=sse(WELCOME, mutation("b", "tx2"),
                                             ("disconnect", {"reason": "bye"}, None)))
    listener, got, seen, slept = run_listener([first, second])
    assert [e.kind for e in got] == ["welcome", "mutation", "welcome", "mutation", "disconnect"]
    assert [e.mutation.document_id for e in got if e.mutation] == ["a", "b"]
    assert "last-event-id" not in seen[0].headers
    assert seen[1].headers["last-event-id"] == "tx1#a"
    assert listener.last_event_id == "tx2#b" and listener.stopped and len(slept) == 1


def test_request_shape() -> None:
    _, _, seen, _ = run_listener([httpx.Response(200, content=sse(("disconnect", {}, None)))],
                                 resume_event_id="tx0#z")
    url = seen[0].url
    assert url.host == "proj1.api.sanity.io" and url.path == "/v2025-02-19/data/listen/production"
    assert dict(url.params) == {"query": '*[_type == "post"]', "includeResult": "true",
                                "includePreviousRevision": "false", "visibility": "query",
                                "tag": "ssgen.listen"}
    assert seen[0].headers["authorization"] == "Bearer sekrit-token"
    assert seen[0].headers["accept"] == "text/event-stream"
    assert seen[0].headers["last-event-id"] == "tx0#z"


def test_reconnect_event_and_5xx_back_off_then_continue() -> None:
    responses = [
        httpx.Response(200, content=sse(WELCOME, ("reconnect", {}, None), mutation("x", "t9"))),
        httpx.Response(503),
        httpx.Response(503),
        httpx.Response(200, content=sse(WELCOME, ("disconnect", {"reason": "done"}, None))),
    ]
    _, got, seen, slept = run_listener(responses, options=ListenOptions(backoff_base=1.0))
    assert [e.kind for e in got] == ["welcome", "reconnect", "welcome", "disconnect"]
    assert len(seen) == 4
    assert slept == [1.0, 1.0, 2.0]  # reset after a welcome, doubled per failure


def test_429_retry_after_is_honoured() -> None:
    responses = [httpx.Response(429, headers={"Retry-After": "7"}),
                 httpx.Response(200, content=sse(WELCOME, ("disconnect", {}, None)))]
    _, got, _, slept = run_listener(responses, options=ListenOptions(backoff_base=1.0))
    assert slept == [7.0] and [e.kind for e in got] == ["welcome", "disconnect"]


def test_gives_up_after_max_failures() -> None:
    with pytest.raises(SanityError, match="gave up after 3 failed connections"):
        run_listener([httpx.Response(502)] * 5, options=ListenOptions(max_failures=2))


def test_auth_failure_is_fatal_and_hides_the_token() -> None:
    body = {"error": "Unauthorized", "message": "Session sekrit-token not found"}
    with pytest.raises(SanityError) as info:
        run_listener([httpx.Response(401, json=body)])
    assert info.value.status == 401 and "sekrit-token" not in str(info.value)
    assert "Listen API refused" in str(info.value)


def test_channel_error_is_raised() -> None:
    body = sse(WELCOME, ("channelError", {"message": "bad filter"}, None))
    with pytest.raises(SanityError, match="channel error: bad filter"):
        run_listener([httpx.Response(200, content=body)])


def test_stop_from_the_callback_ends_run() -> None:
    got: list[ListenEvent] = []
    body = sse(WELCOME, mutation("a", "t1"), mutation("b", "t2"))
    listener: Listener

    def on_event(event: ListenEvent) -> None:
        got.append(event)
        if event.kind == "mutation":
            listener.stop()

    listener = Listener(SETTINGS, "*", on_event,
                        transport=httpx.MockTransport(lambda r: httpx.Response(200, content=body)))
    listener.run()
    assert [e.kind for e in got] == ["welcome", "mutation"] and listener.stopped


class Chunked(httpx.SyncByteStream):
    """A body delivered in the given chunk sizes (lines and CRLFs split across reads)."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        self.data, self.sizes = data, sizes

    def __iter__(self) -> Iterator[bytes]:
        pos = 0
        for size in self.sizes:
            if pos >= len(self.data):
                return
            yield self.data[pos:pos + size]
            pos += size
        if pos < len(self.data):
            yield self.data[pos:]


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(1, 40), max_size=60), crlf=st.booleans())
def test_events_survive_arbitrary_chunking(sizes: list[int], crlf: bool) -> None:
    body = sse(WELCOME, mutation("a", "tx1"), mutation("dé.ü", "tx2"),
               ("disconnect", {"reason": "x"}, None))
    if crlf:
        body = body.replace(b"\n", b"\r\n")
    _, got, _, _ = run_listener([httpx.Response(200, stream=Chunked(body, sizes))])
    assert [(e.kind, e.id) for e in got] == [("welcome", None), ("mutation", "tx1#a"),
                                            ("mutation", "tx2#dé.ü"), ("disconnect", "tx2#dé.ü")]
