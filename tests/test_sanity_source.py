"""SanitySource over httpx.MockTransport: URLs, encoding, GET/POST, retries, errors, secrets."""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sanity_mock import TOKEN, make, ok, query_of, scripted

from ssgen.errors import ConfigError, SourceError
from ssgen.sources.sanity import settings_from
from ssgen.sources.sanity.http import (
    POST_THRESHOLD,
    SanityError,
    SanitySettings,
    backoff_delay,
    build_query_request,
    parse_retry_after,
    render_caret,
)

# --- URLs and encoding ------------------------------------------------------------------


def test_url_uses_project_host_version_dataset_and_options() -> None:
    seen: list[httpx.Request] = []
    source, _ = make(lambda r: seen.append(r) or ok([]))
    source.query('*[_type == "post" && slug.current == $slug]', {"slug": "hello", "n": 3},
                 tag="ssgen.post")
    url = urlsplit(str(seen[0].url))
    assert (url.scheme, url.netloc) == ("https", "proj1.api.sanity.io")
    assert url.path == "/v2025-02-19/data/query/production"
    assert query_of(seen[0]) == {
        "query": '*[_type == "post" && slug.current == $slug]', "$slug": '"hello"', "$n": "3",
        "perspective": "published", "returnQuery": "false", "tag": "ssgen.post",
    }
    assert seen[0].method == "GET"


def test_cdn_host_only_when_use_cdn_and_not_fresh() -> None:
    hosts: list[str] = []
    source, _ = make(lambda r: hosts.append(r.url.host) or ok(1), use_cdn=True)
    source.query("1")
    source.query("1", fresh=True)
    source.query("1", expect_rev={})
    source.revalidating().query("1")
    assert hosts == ["proj1.apicdn.sanity.io", "proj1.api.sanity.io", "proj1.api.sanity.io",
                     "proj1.api.sanity.io"]


def test_drafts_perspective_never_uses_cdn() -> None:
    hosts: list[str] = []
    source, _ = make(lambda r: hosts.append(r.url.host) or ok(1), use_cdn=True,
                     perspective="drafts", token=TOKEN)
    source.query("1")
    assert hosts == ["proj1.api.sanity.io"]


@pytest.mark.parametrize(("api_host", "expected"), [
    (None, "https://proj1.api.sanity.io/v2025-02-19"),
    ("https://api.sanity.io", "https://proj1.api.sanity.io/v2025-02-19"),
    ("http://127.0.0.1:8123", "http://127.0.0.1:8123/v2025-02-19"),
    ("https://sanity.example.com/", "https://sanity.example.com/v2025-02-19"),
])
def test_api_host_override(api_host: str | None, expected: str) -> None:
    s = SanitySettings(project_id="proj1", dataset="production", api_host=api_host)
    request = build_query_request(s, "1", None)
    assert request.url.startswith(expected + "/data/query/production?")


def test_previewdrafts_is_drafts_and_v_prefix_accepted() -> None:
    s = SanitySettings(project_id="p", dataset="d", api_version="v2021-10-21",
                       perspective="previewDrafts")
    assert (s.api_version, s.perspective) == ("2021-10-21", "drafts")


@pytest.mark.parametrize(("field", "value", "key"), [
    ("api_version", "2025-13-01", "source.api_version"),
    ("api_version", "latest", "source.api_version"),
    ("project_id", "Bad Id", "source.project_id"),
    ("dataset", "Prod!", "source.dataset"),
    ("perspective", "preview", "source.perspective"),
    ("api_host", "ftp://x", "source.api_host"),
])
def test_bad_settings_name_the_key(field: str, value: str, key: str) -> None:
    values = {"project_id": "p", "dataset": "d", field: value}
    with pytest.raises(ConfigError, match=key):
        SanitySettings(**values)


def overhead(tag: str = "ssgen") -> int:
    return len("?query=") + len(f"&perspective=published&returnQuery=false&tag={tag}")


def test_get_below_threshold_post_at_threshold() -> None:
    s = SanitySettings(project_id="p", dataset="d")
    below = "a" * (POST_THRESHOLD - 1 - overhead())
    at = "a" * (POST_THRESHOLD - overhead())
    get = build_query_request(s, below, None)
    post = build_query_request(s, at, {"slug": "x"})
    assert get.method == "GET" and len(urlsplit(get.url).query) + 1 == POST_THRESHOLD - 1
    assert post.method == "POST" and post.body is not None
    assert json.loads(post.body) == {"query": at, "params": {"slug": "x"}}
    assert "query=" not in post.url and "perspective=published" in post.url


def test_long_query_is_posted_with_params_end_to_end() -> None:
    seen: list[httpx.Request] = []
    source, _ = make(lambda r: seen.append(r) or ok([]), use_cdn=True)
    text = "*[_type == $t" + " && true" * 2000 + "]"
    source.query(text, {"t": "post"})
    assert seen[0].method == "POST" and seen[0].url.host == "proj1.api.sanity.io"
    assert json.loads(seen[0].content) == {"query": text, "params": {"t": "post"}}
    assert seen[0].headers["content-type"] == "application/json"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=4),
    max_leaves=12,
)
param_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(params=st.dictionaries(param_names, json_values, max_size=5))
def test_params_round_trip_through_the_url(params: dict[str, Any]) -> None:
    s = SanitySettings(project_id="p", dataset="d")
    request = build_query_request(s, "*[_id == $x]", params)
    decoded = {k[1:]: json.loads(v) for k, v in query_of(httpx.Request("GET", request.url)).items()
               if k.startswith("$")}
    assert decoded == params


def test_non_json_param_is_a_clear_error() -> None:
    source, _ = make(lambda r: ok(1))
    with pytest.raises(SourceError, match=r"\$when: not JSON-serializable"):
        source.query("$when", {"when": object()})


# --- retries ----------------------------------------------------------------------------


def test_429_storm_honours_retry_after_then_succeeds() -> None:
    limited = httpx.Response(429, headers={"Retry-After": "3"}, json={"error": "Too Many"})
    handler, seen = scripted(limited, limited, limited, ok(["fine"]))
    source, slept = make(handler)
    assert source.query("*").value == ["fine"]
    assert len(seen) == 4 and slept == [3.0, 3.0, 3.0]


def test_5xx_backoff_is_exponential_with_jitter() -> None:
    handler, _seen = scripted(httpx.Response(502), httpx.Response(503), httpx.Response(504),
                             ok(1))
    source, slept = make(handler)
    assert source.query("1").value == 1
    # base 0.1 s doubling, plus jitter 0.5 * 0.1 s (rand pinned to 0.5)
    assert slept == pytest.approx([0.15, 0.25, 0.45])


def test_gives_up_with_a_clear_error_after_max_retries() -> None:
    handler, seen = scripted(httpx.Response(503, json={"error": "Service Unavailable",
                                                       "message": "try later"}))
    source, slept = make(handler, max_retries=3)
    with pytest.raises(SanityError) as info:
        source.query('*[_type == "post"]', tag="ssgen.blog")
    assert len(seen) == 4 and len(slept) == 3
    message = str(info.value)
    assert "gave up after 4 attempts" in message and "503" in message
    assert "ssgen.blog" in message and '*[_type == "post"]' in message
    assert info.value.status == 503 and info.value.query == '*[_type == "post"]'


def test_connection_errors_are_retried() -> None:
    handler, seen = scripted(httpx.ConnectError("refused"), httpx.RemoteProtocolError("drop"),
                             ok([1]))
    source, _ = make(handler)
    assert source.query("*").value == [1] and len(seen) == 3


def test_timeouts_retry_then_fail_clearly() -> None:
    handler, seen = scripted(httpx.ReadTimeout("slow"))
    source, _ = make(handler, max_retries=2, timeout=7.0)
    with pytest.raises(SourceError, match=r"timed out after 7.0s"):
        source.query("*")
    assert len(seen) == 3


def test_client_errors_are_not_retried() -> None:
    handler, seen = scripted(httpx.Response(400, json={"error": {"type": "queryExecutionError",
                                                                 "description": "boom"}}))
    source, slept = make(handler)
    with pytest.raises(SanityError, match="queryExecutionError: boom"):
        source.query("*")
    assert len(seen) == 1 and slept == []


@pytest.mark.parametrize("body", [b'{"ms":1,"result":[{"_id":"a"},{"_id"', b"<html>oops</html>",
                                  b'{"ms": 1}', b""])
def test_truncated_or_malformed_bodies_never_yield_a_result(body: bytes) -> None:
    handler, seen = scripted(httpx.Response(200, content=body))
    source, _ = make(handler, max_retries=1)
    with pytest.raises(SourceError, match=r"malformed or truncated|no 'result'"):
        source.query("*")
    assert len(seen) == 2


def test_malformed_body_then_good_body_gives_the_good_result() -> None:
    handler, _ = scripted(httpx.Response(200, content=b'{"result": [1, 2'), ok([1, 2, 3]))
    source, _ = make(handler)
    assert source.query("*").value == [1, 2, 3]


def test_retry_after_http_date_and_caps() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("soon", now=0) is None and parse_retry_after("5", now=0) == 5.0
    s = SanitySettings(project_id="p", dataset="d", max_retry_after=20.0)
    assert backoff_delay(0, s, 3600.0, lambda: 0.0) == 20.0
    assert backoff_delay(3, s, None, lambda: 1.0) == pytest.approx(0.9)


def test_concurrent_requests_are_capped() -> None:
    active, peak, lock = [0], [0], threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.01)
        with lock:
            active[0] -= 1
        return ok(query_of(request)["query"])

    source, _ = make(handler, max_concurrency=2)
    requests = [(f"{i}", {}) for i in range(12)]
    results = source.query_many(requests)
    assert [r.value for r in results] == [str(i) for i in range(12)]
    assert peak[0] == 2


# --- errors and secrets -----------------------------------------------------------------


def test_query_parse_error_shows_a_caret_and_carries_the_query() -> None:
    text = '*[_type == "post"]{title,'
    body = {"error": {"type": "queryParseError", "description": "expected '}'",
                      "query": text, "start": 25, "end": 26}}
    handler, _ = scripted(httpx.Response(400, json=body))
    source, _ = make(handler)
    with pytest.raises(SanityError) as info:
        source.query(text)
    lines = str(info.value).splitlines()
    assert "expected '}'" in lines[0] and "line 1, column 26" in lines[0]
    assert lines[1].strip() == text and lines[2].index("^") == lines[1].index(text) + 25
    assert info.value.query == text and info.value.error_type == "queryParseError"


def test_caret_in_a_long_line_is_windowed() -> None:
    text = "*[" + " && ".join(f"a{i} == {i}" for i in range(200)) + " &&& x]"
    offset = text.index("&&&") + 2
    lines = render_caret("unexpected '&'", text, offset, width=40).splitlines()
    assert len(lines[1]) <= 45 and lines[1].strip().startswith("…")
    assert lines[1][lines[2].index("^")] == text[offset]


def test_token_is_sent_but_never_shown(caplog: pytest.LogCaptureFixture) -> None:
    echo = {"error": "Unauthorized", "message": f"token {TOKEN} is not valid"}
    handler, seen = scripted(httpx.Response(502), httpx.Response(401, json=echo))
    source, _ = make(handler, token=TOKEN)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SanityError) as info:
        source.query("*")
    assert seen[0].headers["authorization"] == f"Bearer {TOKEN}"
    shown = [str(info.value), repr(info.value), repr(source), repr(source.settings),
             repr(source.runner), caplog.text]
    assert all(TOKEN not in text for text in shown)
    assert "SANITY_API_TOKEN" in str(info.value) and "***" in str(info.value)


def test_settings_from_source_config_and_config() -> None:
    from ssgen.config.load import SourceConfig

    cfg = SourceConfig(type="sanity", project_id="abc", dataset="prod", token=TOKEN,
                       api_host="http://127.0.0.1:9")

    class Config:
        source = cfg

    for given_config in (cfg, Config()):
        s = settings_from(given_config)
        assert (s.project_id, s.dataset, s.token, s.api_host) == ("abc", "prod", TOKEN,
                                                                  "http://127.0.0.1:9")
    assert settings_from(cfg, drafts=True).perspective == "drafts"
