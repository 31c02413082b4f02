"""Unit tests for ssgen.serve.webhooks: signatures, the three request styles, errors."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssgen.build.change import DocChange
from ssgen.errors import WebhookError
from ssgen.serve.webhooks import (
    json_change,
    parse_request,
    sign,
    slug_paths,
    verify_signature,
)

VECTORS = [
    ("test", 1633519811129, b'{"_id":"resume"}',
     "t=1633519811129,v1=tLa470fx7qkLLEcMOcEUFuBbRSkGujyskxrNXcoh0N0"),
    ("try-me", 1633518820676, b'{"title":"GROQ-Hooks are neat"}',
     "t=1633518820676,v1=e7C9h2sfbFfc4V7TEz7PSOp4IoNzl0UdVsBV-1wgdeA"),
]
ROUTES = ["/blog/{slug}/", "/authors/{slug}/", "/blog/", "/{lang}/{slug}/"]


@pytest.mark.parametrize(("secret", "t", "body", "header"), VECTORS)
def test_design_vectors_sign_and_verify(secret: str, t: int, body: bytes, header: str) -> None:
    assert sign(secret, t, body) == header
    assert verify_signature(header, body, secret, now=t / 1000) == t
    spaced = header.replace(",", ", ")
    assert verify_signature(spaced, body, secret, now=t / 1000 + 299) == t


@pytest.mark.parametrize(("secret", "t", "body", "header"), VECTORS)
def test_forged_and_replayed_signatures_are_401_without_hint(
    secret: str, t: int, body: bytes, header: str
) -> None:
    cases = [
        (header, body + b" ", secret, t / 1000),            # body changed
        (header, body, secret + "x", t / 1000),             # wrong secret
        (header.replace("v1=", "v1=A"), body, secret, t / 1000),  # signature changed
        (header, body, secret, t / 1000 + 301),             # outside the replay window
        (header, body, secret, t / 1000 - 301),             # from the future
        ("v1=abc", body, secret, t / 1000),                 # malformed header
        (f"t={t + 1},v1={header.split('v1=')[1]}", body, secret, t / 1000),  # t changed
    ]
    messages = set()
    for given_header, given_body, given_secret, now in cases:
        with pytest.raises(WebhookError) as info:
            verify_signature(given_header, given_body, given_secret, now=now)
        assert info.value.status == 401
        messages.add(str(info.value))
    assert messages == {"unauthorized"}


def test_replay_window_is_configurable() -> None:
    secret, t, body, header = VECTORS[0]
    assert verify_signature(header, body, secret, now=t / 1000 + 3000, window=3600) == t
    with pytest.raises(WebhookError):
        verify_signature(header, body, secret, now=t / 1000 + 11, window=10)


@given(st.text(min_size=1, max_size=30), st.binary(max_size=300),
       st.integers(min_value=0, max_value=2**45))
def test_sign_verify_round_trip(secret: str, body: bytes, t: int) -> None:
    header = sign(secret, t, body)
    assert verify_signature(header, body, secret, now=t / 1000) == t
    with pytest.raises(WebhookError):
        verify_signature(header, body + b"!", secret, now=t / 1000)


def _sanity(body: dict[str, object], operation: str = "update", **extra: str) -> dict[str, str]:
    raw = json.dumps(body).encode()
    headers = {"sanity-webhook-signature": sign("k", 1_000_000, raw),
               "sanity-operation": operation, "idempotency-key": "idem-1", **extra}
    return headers


def _parse(headers: dict[str, str], body: bytes, secret: str | None = "k",
           query: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    lowered = {k.lower(): v for k, v in headers.items()}
    return parse_request(lowered, query or {}, body, secret=secret, now=1000.0,
                         route_paths=ROUTES)


@pytest.mark.parametrize("operation", ["create", "update", "delete"])
def test_sanity_webhook_becomes_a_document_change(operation: str) -> None:
    body = {"_id": "p1", "_type": "post", "_rev": "r9", "_updatedAt": "2026-01-02T03:04:05Z"}
    delivery = _parse(_sanity(body, operation), json.dumps(body).encode())
    assert delivery.change.documents == (DocChange("p1", "post", operation, "r9"),)  # type: ignore[arg-type]
    assert delivery.key == "idem-1"
    assert delivery.signed == "1000000." + _sanity(body)["sanity-webhook-signature"].split("v1=")[1]


@pytest.mark.parametrize(("before", "tags"), [
    ("article", {"type:article"}), ("post", set()), (None, set())])
def test_sanity_webhook_names_the_type_before_a_retype(before: str | None,
                                                       tags: set[str]) -> None:
    """The projection's ``typeBefore`` (``before()._type``) adds the old type's tag when
    the type changed: the lists of that type re-query, even those without ``_id``."""
    body = {"_id": "p1", "_type": "post", "typeBefore": before}
    change = _parse(_sanity(body), json.dumps(body).encode()).change
    assert change.tags == tags and change.documents[0].type == "post"


def test_item08_unsigned_headers_cannot_change_what_a_signed_delivery_is() -> None:
    """Issue 13 item 8: only the body and ``t`` are signed; ordering headers are ignored."""
    body = {"_id": "p1", "_type": "post", "_updatedAt": "2026-01-02T03:04:05Z"}
    raw = json.dumps(body).encode()
    plain = _parse(_sanity(body), raw)
    future = _parse(_sanity(body, **{"sanity-transaction-time": "9999-12-31T23:59:59Z",
                                      "idempotency-key": "new-key"}), raw)
    assert future.change == plain.change
    assert future.signed == plain.signed  # a replay of the same bytes, whatever its headers
    assert not hasattr(future, "event_time")


def test_sanity_webhook_without_id_uses_the_document_id_header() -> None:
    body = {"title": "x"}
    headers = _sanity(body, **{"sanity-document-id": "drafts.p2"})
    assert _parse(headers, json.dumps(body).encode()).change.documents[0].id == "drafts.p2"


@pytest.mark.parametrize(("body", "operation", "reason"), [
    (b"{not json", "update", "not valid JSON"),
    (b"[1, 2]", "update", "must be a JSON object"),
    (b"", "update", "empty body"),
    (b'{"title": "no id"}', "update", "`_id`"),
    (b'{"_id": "p1"}', "publish", "sanity-operation must be"),
    (b'{"_id": "p1", "typeBefore": 3}', "update", "`typeBefore` must be a string"),
])
def test_malformed_sanity_bodies_are_400_with_the_reason(
    body: bytes, operation: str, reason: str
) -> None:
    headers = {"sanity-webhook-signature": sign("k", 1_000_000, body),
               "sanity-operation": operation}
    with pytest.raises(WebhookError) as info:
        _parse(headers, body)
    assert info.value.status == 400
    assert reason in str(info.value)


def test_signature_is_checked_before_the_body_is_parsed() -> None:
    headers = {"sanity-webhook-signature": sign("wrong", 1_000_000, b"{bad")}
    with pytest.raises(WebhookError) as info:
        _parse(headers, b"{bad")
    assert info.value.status == 401


def test_bearer_token() -> None:
    body = json.dumps({"tags": ["posts"], "paths": ["blog/x"],
                       "documents": [{"id": "p1", "type": "post", "operation": "delete"}]})
    delivery = _parse({"Authorization": "Bearer k"}, body.encode())
    assert delivery.change.tags == frozenset({"posts"})
    assert delivery.change.paths == frozenset({"/blog/x/"})  # as pages are recorded
    assert delivery.change.documents == (DocChange("p1", "post", "delete"),)
    for bad in ("Bearer nope", "Basic k", "Bearer", "k"):
        with pytest.raises(WebhookError) as info:
            _parse({"Authorization": bad}, body.encode())
        assert (info.value.status, str(info.value)) == (401, "unauthorized")


def test_nextjs_body_secret_and_query_secret() -> None:
    body = {"secret": "k", "tags": ["post:hello"], "slug": "hello"}
    change = _parse({}, json.dumps(body).encode()).change
    assert change.tags == frozenset({"post:hello"})
    assert change.paths == frozenset({"/blog/hello/", "/authors/hello/"})
    plain = json.dumps({"tags": "posts"}).encode()
    assert _parse({}, plain, query={"secret": "k"}).change.tags == frozenset({"posts"})
    for wrong in ({"secret": "K", "tags": ["x"]}, {"tags": ["x"]}, {"secret": 1, "tags": ["x"]}):
        with pytest.raises(WebhookError) as info:
            _parse({}, json.dumps(wrong).encode())
        assert (info.value.status, str(info.value)) == (401, "unauthorized")


def test_nextjs_type_and_id_fields() -> None:
    change = _parse({}, b'{"secret": "k", "_type": "post"}').change
    assert change.tags == frozenset({"type:post"})
    change = _parse({}, b'{"secret": "k", "_id": "p1", "_type": "post", "_rev": "r"}').change
    assert change.documents == (DocChange("p1", "post", "update", "r"),)


@pytest.mark.parametrize(("payload", "reason"), [
    ({"secret": "k"}, "nothing to revalidate"),
    ({"secret": "k", "tags": [1]}, "`tags` must be"),
    ({"secret": "k", "paths": {"a": 1}}, "`paths` must be"),
    ({"secret": "k", "slug": "a/b"}, "`slug` must be"),
    ({"secret": "k", "documents": [{"id": ""}]}, "non-empty string `id`"),
    ({"secret": "k", "documents": [{"id": "x", "operation": "publish"}]}, "operation must be"),
])
def test_malformed_json_bodies_name_the_key(payload: dict[str, object], reason: str) -> None:
    with pytest.raises(WebhookError) as info:
        _parse({}, json.dumps(payload).encode())
    assert info.value.status == 400
    assert reason in str(info.value)


def test_dev_mode_without_secret_accepts_unauthenticated() -> None:
    assert _parse({}, b'{"tags": ["a"]}', secret=None).change.tags == frozenset({"a"})
    body = b'{"_id": "p1"}'
    headers = {"sanity-webhook-signature": "t=1,v1=forged"}
    assert _parse(headers, body, secret=None).change.documents[0].id == "p1"


def test_slug_paths_only_for_routes_with_a_lone_slug_placeholder() -> None:
    assert slug_paths("x", ROUTES) == {"/blog/x/", "/authors/x/"}
    assert slug_paths("x", ["/{lang}/{slug}/", "/about/"]) == set()


def test_json_change_is_a_pure_function_of_the_payload() -> None:
    a = json_change({"tags": ["b", "a"], "paths": ["/x"]})
    b = json_change({"paths": "/x", "tags": ["a", "b"]})
    assert a == b
