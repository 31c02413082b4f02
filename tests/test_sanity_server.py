"""SanitySource against the protocol-faithful test server: real HTTP on 127.0.0.1.

Covers the Query API (GET/POST, params, perspectives, auth, error bodies), faults
(429 storms, 5xx, drops, truncated and malformed bodies, timeouts), batching, freshness
after a write, the Listen API over real SSE, and ``pull``. Results must equal ssgen.groq
evaluated locally over the same documents.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sanity_server import SanityTestServer, view

from ssgen.config.load import load_config
from ssgen.errors import SourceError
from ssgen.groq import Dataset, parse
from ssgen.sources.pull import pull
from ssgen.sources.sanity import BatchLimits, SanitySource
from ssgen.sources.sanity.http import SanityError
from ssgen.sources.sanity.listen import Listener, ListenEvent, ListenOptions

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "sk-test-token-0123456789"
DOCS: list[dict[str, Any]] = [
    {"_id": "author-1", "_type": "author", "name": "Ada", "slug": {"current": "ada"}},
    {"_id": "author-2", "_type": "author", "name": "Brian", "slug": {"current": "brian"}},
    *[{"_id": f"post-{i}", "_type": "post", "title": f"Post {i}", "_rev": f"r{i}",
       "slug": {"current": f"p{i}"}, "n": i,
       "author": {"_type": "reference", "_ref": f"author-{1 + i % 2}"}} for i in range(12)],
    {"_id": "drafts.post-1", "_type": "post", "title": "Post 1 (draft)", "_rev": "d1",
     "slug": {"current": "p1"}, "n": 1},
    {"_id": "drafts.post-new", "_type": "post", "title": "Unpublished", "_rev": "d2",
     "slug": {"current": "new"}, "n": 99},
    {"_id": "_.groups.public", "_type": "system.group"},
]


@pytest.fixture(scope="module")
def server() -> Iterator[SanityTestServer]:
    with SanityTestServer(DOCS, token=TOKEN, keepalive=0.05) as srv:
        yield srv


@pytest.fixture
def fresh_server() -> Iterator[SanityTestServer]:
    with SanityTestServer(DOCS, token=TOKEN, keepalive=0.05) as srv:
        yield srv


def client(server: SanityTestServer, **kw: Any) -> SanitySource:
    return SanitySource(server.settings(**kw.pop("settings", {})), **kw)


def local(query: str, params: dict[str, Any] | None = None, perspective: str = "published",
          docs: list[dict[str, Any]] = DOCS) -> Any:
    return parse(query).evaluate(Dataset(view(docs, perspective, True)), params or {})


QUERIES = [
    ('*[_type == "post"] | order(n desc) {title, "author": author->name}', {}),
    ('*[_type == "post" && slug.current == $slug][0]{..., author->}', {"slug": "p3"}),
    ("count(*[_type == $t])", {"t": "post"}),
    ('*[_type == "author"]{name, "posts": count(*[_type == "post" && references(^._id)])}', {}),
    ("*[n in $ns].n", {"ns": [1, 5, 99]}),
    ('*[_id == "missing"][0]', {}),
]


# --- Query API ----------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "params"), QUERIES)
def test_results_equal_local_evaluation(server: SanityTestServer, query: str,
                                        params: dict[str, Any]) -> None:
    assert client(server).query(query, params).value == local(query, params)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(slug=st.sampled_from(["p0", "p7", "nope", "", "ü\"'$x"]), low=st.integers(-2, 14))
def test_param_decoding_matches_local(server: SanityTestServer, slug: str, low: int) -> None:
    query = '*[_type == "post" && (slug.current == $slug || n > $low)] | order(n asc).n'
    params = {"slug": slug, "low": low}
    assert client(server).query(query, params).value == local(query, params)


def test_wire_format_seen_by_the_server(server: SanityTestServer) -> None:
    server.clear_log()
    client(server).query("*[_type == $t][0]._id", {"t": "author"}, tag="ssgen.home")
    (record,) = server.log()
    assert record.method == "GET" and record.path == "/v2025-02-19/data/query/production"
    assert record.params == {"query": "*[_type == $t][0]._id", "$t": '"author"',
                             "perspective": "published", "returnQuery": "false",
                             "tag": "ssgen.home"}
    assert record.headers["authorization"] == f"Bearer {TOKEN}"


def test_long_queries_are_posted_with_the_same_result(server: SanityTestServer) -> None:
    server.clear_log()
    excluded = ", ".join(f'"nothing-{i}"' for i in range(1000))
    query = f'*[_type == "post" && n >= $min && !(_id in [{excluded}])].n'
    assert client(server).query(query, {"min": 10}).value == [10, 11]
    (record,) = server.log()
    assert record.method == "POST" and record.body == {"query": query, "params": {"min": 10}}


def test_server_echoes_the_query_unless_told_not_to(server: SanityTestServer) -> None:
    base = f"{server.url}/v2025-02-19/data/query/production"
    full = httpx.get(base, params={"query": "1 + 1"}).json()
    assert full["query"] == "1 + 1" and full["result"] == 2 and isinstance(full["ms"], int)
    assert "query" not in httpx.get(base, params={"query": "1", "returnQuery": "false"}).json()


def test_perspectives(server: SanityTestServer) -> None:
    query = '*[_type == "post" && n in [1, 99]] | order(n) {_id, _originalId, title}'
    published = client(server).query(query).value
    drafts = client(server, settings={"perspective": "drafts"}).query(query).value
    raw = client(server, settings={"perspective": "raw"}).query(query).value
    assert [d["title"] for d in published] == ["Post 1"]
    assert drafts == [
        {"_id": "post-1", "_originalId": "drafts.post-1", "title": "Post 1 (draft)"},
        {"_id": "post-new", "_originalId": "drafts.post-new", "title": "Unpublished"},
    ]
    assert sorted(d["_id"] for d in raw) == ["drafts.post-1", "drafts.post-new", "post-1"]
    ids = client(server, settings={"perspective": "drafts"}).query(query).ids
    assert {"post-1", "drafts.post-1", "drafts.post-new"} <= ids


def test_anonymous_callers_never_see_drafts(server: SanityTestServer) -> None:
    anon = client(server, settings={"token": None, "perspective": "drafts"})
    titles = anon.query('*[_type == "post" && n in [1, 99]].title').value
    assert titles == ["Post 1"]


def test_wrong_token_and_private_dataset_are_401s() -> None:
    with SanityTestServer(DOCS, token=TOKEN, private=True) as srv:
        for token in ("not-the-token", None):
            with pytest.raises(SanityError) as info:
                client(srv, settings={"token": token}).query("1")
            assert info.value.status == 401 and "SANITY_API_TOKEN" in str(info.value)
            assert "not-the-token" not in str(info.value)
        assert client(srv).query("1").value == 1


def test_parse_error_from_the_server_has_a_caret(server: SanityTestServer) -> None:
    query = '*[_type == "post"]{title,,}'
    with pytest.raises(SanityError) as info:
        client(server).query(query)
    err = info.value
    assert err.error_type == "queryParseError" and err.status == 400 and err.query == query
    text = str(err)
    assert query in text and "^" in text.splitlines()[-1]
    body = httpx.get(f"{server.url}/v2025-02-19/data/query/production",
                     params={"query": query}).json()["error"]
    assert body["type"] == "queryParseError" and body["end"] > body["start"] >= 0


def test_bad_param_and_bad_paths_are_clear(server: SanityTestServer) -> None:
    base = f"{server.url}/v2025-02-19/data/query/production"
    r = httpx.get(base, params={"query": "$x", "$x": "unquoted"})
    assert r.status_code == 400 and "Please quote string values" in r.text
    wrong = client(server, settings={"dataset": "staging"})
    with pytest.raises(SanityError, match='Dataset "staging" not found'):
        wrong.query("1")


# --- faults -------------------------------------------------------------------------------


def faulty(server: SanityTestServer, **kw: Any) -> tuple[SanitySource, list[float]]:
    slept: list[float] = []
    return client(server, sleep=slept.append, **kw), slept


@pytest.mark.parametrize(("kind", "options"), [
    ("status", {"status": 503}), ("status", {"status": 502}), ("drop", {}),
    ("truncate", {}), ("malformed", {}), ("rate_limit", {"retry_after": "1"}),
])
def test_transient_faults_are_survived(fresh_server: SanityTestServer, kind: str,
                                       options: dict[str, Any]) -> None:
    source, slept = faulty(fresh_server)
    fresh_server.inject(kind, 3, **options)
    query, params = QUERIES[1]
    assert source.query(query, params).value == local(query, params)
    assert len(fresh_server.log()) == 4 and len(slept) == 3
    if kind == "rate_limit":
        assert slept == [1.0, 1.0, 1.0]


def test_429_storm_beyond_the_budget_is_a_clear_error(fresh_server: SanityTestServer) -> None:
    source, slept = faulty(fresh_server, settings={"max_retries": 4})
    fresh_server.inject("rate_limit", 50, retry_after="2")
    with pytest.raises(SanityError) as info:
        source.query("*[_type == 'post']", tag="ssgen.post")
    assert "gave up after 5 attempts" in str(info.value) and info.value.status == 429
    assert "Too Many Requests" in str(info.value) and slept == [2.0] * 4


def test_truncated_bodies_never_become_results(fresh_server: SanityTestServer) -> None:
    source, _ = faulty(fresh_server, settings={"max_retries": 2})
    fresh_server.inject("truncate", 3)
    with pytest.raises(SourceError, match=r"connection failed|truncated"):
        source.query("*")


def test_timeout_then_recovery(fresh_server: SanityTestServer) -> None:
    source, _ = faulty(fresh_server, settings={"timeout": 0.2})
    fresh_server.inject("delay", 1, seconds=0.6)
    assert source.query("count(*)").value == local("count(*)")
    assert len(fresh_server.log()) == 2


# --- batching -----------------------------------------------------------------------------


def test_batched_per_page_queries_equal_one_by_one(fresh_server: SanityTestServer) -> None:
    query = '*[_type == "post" && slug.current == $slug][0]{title, "author": author->name}'
    requests = [(query, {"slug": f"p{i % 12}"}) for i in range(30)]
    requests += [('*[_type == "author"]._id', {}), ("count(*[_type == $t])", {"t": "post"})]
    source = client(fresh_server, batch=BatchLimits(max_items=8))
    batched = source.query_many(requests)
    assert len(fresh_server.log()) == 1 + 4  # the route query, then 31 per-page in 4 batches
    one_by_one = [source.query(q, p) for q, p in requests]
    assert batched == one_by_one
    assert [r.value for r in batched] == [local(q, p) for q, p in requests]


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(slugs=st.lists(st.sampled_from(["p0", "p5", "p11", "zz", "x$y", 'q"'])
                      | st.text(max_size=6), max_size=25),
       max_items=st.integers(1, 9), max_chars=st.integers(50, 3000))
def test_batching_property(server: SanityTestServer, slugs: list[str], max_items: int,
                           max_chars: int) -> None:
    queries = ['*[_type == "post" && slug.current == $slug][0]{title, "a": author->name}',
               '// $slug in a comment\n*[slug.current == $slug && title != "$slug"]._id',
               'count(*[_type == "post" && slug.current > $slug])']
    requests = [(queries[i % 3], {"slug": slug}) for i, slug in enumerate(slugs)]
    source = client(server, batch=BatchLimits(max_items=max_items, max_chars=max_chars))
    server.clear_log()
    results = source.query_many(requests)
    assert [r.value for r in results] == [local(q, p) for q, p in requests]
    assert len(server.log()) <= max(1, len(requests))


def test_batched_results_carry_ids_per_query(server: SanityTestServer) -> None:
    query = '*[_type == "post" && slug.current == $slug][0]{_id, author}'
    results = client(server).query_many([(query, {"slug": "p2"}), (query, {"slug": "p3"})])
    assert results[0].ids == {"post-2", "author-1"} and results[1].ids == {"post-3", "author-2"}


def test_default_site_routes_match_local_evaluation() -> None:
    docs = [json.loads(line) for line in (ROOT / "content/dataset.ndjson").read_text().splitlines()
            if line.strip()]
    config = load_config(ROOT)
    with SanityTestServer(docs) as srv:
        source = client(srv)
        for route in config.routes:
            text = route.each or route.query
            assert text is not None
            result = source.query(text, tag=f"ssgen.{route.name}").value
            assert result == local(text, docs=docs), route.name
            if route.each and route.query:
                per_page = [(route.query, item) for item in result]
                got = [r.value for r in source.query_many(per_page)]
                assert got == [local(route.query, item, docs=docs) for item in result]


# --- freshness ----------------------------------------------------------------------------


def test_expect_rev_waits_out_a_lagging_replica(fresh_server: SanityTestServer) -> None:
    updated = fresh_server.put({**DOCS[5], "title": "Edited"})
    fresh_server.serve_stale(3)
    source, slept = faulty(fresh_server)
    query = "*[_id == $id][0]{title, _rev}"
    result = source.query(query, {"id": updated["_id"]}, expect_rev={updated["_id"]:
                                                                      updated["_rev"]})
    assert result.value == {"title": "Edited", "_rev": updated["_rev"]}
    assert len(slept) == 3


# --- Listen API over SSE ------------------------------------------------------------------


def start_listener(server: SanityTestServer, on_event: Any, **kw: Any) -> tuple[Listener,
                                                                                threading.Thread]:
    options = ListenOptions(backoff_base=0.01, read_timeout=5.0)
    listener = Listener(server.settings(), '*[_type == "post"]', on_event, options=options, **kw)
    thread = threading.Thread(target=listener.run, daemon=True)
    thread.start()
    return listener, thread


def test_sse_framing_keepalives_and_welcome(server: SanityTestServer) -> None:
    url = f"{server.url}/v2025-02-19/data/listen/production"
    with httpx.stream("GET", url, params={"query": "*"}, timeout=5) as response:
        assert response.headers["content-type"] == "text/event-stream"
        lines = response.iter_lines()
        assert next(lines) == "event: welcome" and next(lines).startswith("data: {")
        assert next(lines) == "" and next(lines) == ":"


def test_listen_mutations_reconnect_and_resume(fresh_server: SanityTestServer) -> None:
    got: list[ListenEvent] = []
    done = threading.Event()

    def on_event(event: ListenEvent) -> None:
        got.append(event)
        mutation = event.mutation
        if mutation and mutation.document_id == "post-2":
            # while this connection is dropped, post-3 changes: resume must deliver it
            fresh_server.hub.drop_all()
            fresh_server.put({**DOCS[5], "title": "changed while away"})
        if mutation and mutation.document_id == "post-4":
            done.set()

    listener, thread = start_listener(fresh_server, on_event)
    assert fresh_server.hub.wait_for_connections(1)
    fresh_server.put({"_id": "author-9", "_type": "author"})  # outside the filter
    fresh_server.put({**DOCS[4], "title": "first"})
    assert fresh_server.hub.wait_for_connections(2)
    fresh_server.delete("post-4")
    assert done.wait(5)
    listener.stop()
    thread.join(5)
    mutations = [e.mutation for e in got if e.mutation]
    assert [(m.document_id, m.transition) for m in mutations] == [
        ("post-2", "update"), ("post-3", "update"), ("post-4", "disappear")]
    assert mutations[1].result is not None and mutations[1].result["title"] == (
        "changed while away")
    second = fresh_server.log("listen")[1]
    assert second.headers["last-event-id"] == mutations[0].event_id
    assert [e.kind for e in got].count("welcome") == 2 and not thread.is_alive()


def test_listen_disconnect_stops_and_bad_filter_is_an_error(fresh_server: SanityTestServer
                                                              ) -> None:
    got: list[ListenEvent] = []
    listener, thread = start_listener(fresh_server, got.append)
    assert fresh_server.hub.wait_for_connections(1)
    fresh_server.hub.send("disconnect", {"reason": "shutting down"})
    thread.join(5)
    assert not thread.is_alive() and listener.stopped and got[-1].kind == "disconnect"
    bad = Listener(fresh_server.settings(), "*[", got.append)
    with pytest.raises(SanityError, match=r"Listen API refused.*GROQ syntax error") as info:
        bad.run()
    assert info.value.error_type == "queryParseError" and info.value.status == 400


# --- pull ---------------------------------------------------------------------------------


def test_pull_snapshots_every_document_in_id_order(server: SanityTestServer,
                                                   tmp_path: Path) -> None:
    out = tmp_path / "content" / "dataset.ndjson"
    server.clear_log()
    count = pull(server.settings(), out, page_size=5)
    docs = [json.loads(line) for line in out.read_text().splitlines()]
    expected = sorted((d for d in server.documents() if not d["_id"].startswith("_.")),
                      key=lambda d: d["_id"])
    assert count == len(docs) == len(expected) == 16 and docs == expected
    assert len(server.log()) == 4  # 16 documents in pages of 5
    assert [p.name for p in out.parent.iterdir()] == ["dataset.ndjson"]


def test_failed_pull_leaves_the_old_snapshot(fresh_server: SanityTestServer,
                                             tmp_path: Path) -> None:
    out = tmp_path / "dataset.ndjson"
    out.write_text('{"_id":"old"}\n')
    fresh_server.inject("status", 20, status=500)
    with pytest.raises(SanityError, match="500"):
        pull(fresh_server.settings(max_retries=1), out, page_size=5)
    assert out.read_text() == '{"_id":"old"}\n' and len(list(tmp_path.iterdir())) == 1


def test_stop_unblocks_an_idle_stream() -> None:
    with SanityTestServer(DOCS, keepalive=30.0) as srv:
        got: list[ListenEvent] = []
        listener, thread = start_listener(srv, got.append)
        assert srv.hub.wait_for_connections(1)
        while not got:  # the welcome has been read; the stream is now idle
            thread.join(0.01)
        listener.stop()
        thread.join(5)
        assert not thread.is_alive() and [e.kind for e in got] == ["welcome"]


def test_token_stays_out_of_logs_over_real_http(fresh_server: SanityTestServer,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fresh_server.inject("status", 1, status=503)
    assert client(fresh_server).query("count(*)").value == local("count(*)")
    with pytest.raises(SanityError) as info:
        client(fresh_server).query("*[", tag="ssgen.bad")
    assert caplog.records and TOKEN not in caplog.text and TOKEN not in str(info.value)
