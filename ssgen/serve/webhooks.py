"""Revalidation requests: authentication, Sanity signatures, and payload -> ``Change``.

Owns the three request styles ``POST /api/revalidate`` accepts (see docs/serve.md):

- Sanity GROQ-powered webhooks: ``sanity-webhook-signature: t=<ms>,v1=<sig>`` with
  ``sig = base64url_nopad(HMAC-SHA256(secret, f"{t}." + raw_body))``, a replay window,
  ``sanity-operation`` and the body's ``_id``/``_type``/``_rev`` -> a ``DocChange``. Only
  the body and ``t`` are signed: unsigned headers may pick what to re-query, never what
  a page shows, and no header orders or suppresses deliveries;
- ``Authorization: Bearer <secret>`` with a JSON body of tags/paths/documents;
- the Next.js body ``{"secret", "tags", "paths", "slug"}`` (or ``?secret=``).

Pure apart from the clock passed in: no I/O. Every rejection is a ``WebhookError``
carrying its HTTP status; 401s never say which part was wrong, and any payload that could
never be applied (wrong types, text that is not valid Unicode, nesting too deep) is a 400,
so Sanity does not retry it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from ssgen.build.change import OPERATIONS, Change, DocChange, Operation, normalize_path
from ssgen.errors import WebhookError

SIGNATURE_HEADER = "sanity-webhook-signature"
DEFAULT_REPLAY_WINDOW = 300.0
UNAUTHORIZED = "unauthorized"

_SIGNATURE = re.compile(r"^\s*t=(\d{1,16})\s*,\s*v1=([A-Za-z0-9_\-]+={0,2})\s*$")
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.]+)\}")


@dataclass(frozen=True)
class Delivery:
    """One accepted request: the change, its delivery key, and for a verified Sanity
    signature ``signed`` (``"<t>.<sig>"``: equal for a replay of the same bytes)."""

    change: Change
    key: str | None = None
    signed: str | None = None


def sign(secret: str, timestamp_ms: int, body: bytes) -> str:
    """The ``sanity-webhook-signature`` header value for ``body`` sent at ``timestamp_ms``."""
    return f"t={timestamp_ms},v1={_digest(secret, str(timestamp_ms), body)}"


def _digest(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def verify_signature(
    header: str, body: bytes, secret: str, *, now: float, window: float = DEFAULT_REPLAY_WINDOW
) -> int:
    """Check a Sanity signature over the raw body; returns its timestamp (ms).

    Raises WebhookError(401) for a malformed, forged or out-of-window signature, with
    the same message in every case.
    """
    match = _SIGNATURE.match(header)
    if match is None:
        raise WebhookError(UNAUTHORIZED, 401)
    timestamp, given = match.group(1), match.group(2).rstrip("=")
    expected = _digest(secret, timestamp, body)
    signed_ok = hmac.compare_digest(expected.encode(), given.encode())
    in_window = abs(now - int(timestamp) / 1000.0) <= window
    if not (signed_ok and in_window):
        raise WebhookError(UNAUTHORIZED, 401)
    return int(timestamp)


def secret_matches(given: str | None, secret: str) -> bool:
    """Constant-time comparison of a presented secret with the configured one."""
    if given is None:
        return False
    # surrogatepass: a JSON "secret" may hold lone surrogates; it must compare, not raise
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"),
                               secret.encode("utf-8", "surrogatepass"))


def bearer_matches(headers: Mapping[str, str], secret: str) -> bool:
    """True when ``Authorization: Bearer <secret>`` carries the configured secret."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and secret_matches(token.strip(), secret)


def parse_json(body: bytes) -> Any:
    """The body as JSON, or WebhookError(400) naming the problem."""
    if not body.strip():
        raise WebhookError("empty body: expected a JSON object", 400)
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WebhookError(f"body is not valid JSON: {exc}", 400) from exc
    except RecursionError:
        raise WebhookError("body is not valid JSON: nested too deeply", 400) from None


def parse_request(
    headers: Mapping[str, str],
    query: Mapping[str, str],
    body: bytes,
    *,
    secret: str | None,
    now: float,
    window: float = DEFAULT_REPLAY_WINDOW,
    route_paths: Sequence[str] = (),
) -> Delivery:
    """Authenticate a revalidation request and turn it into a ``Delivery``.

    ``headers`` must be case-insensitive (Starlette's are). ``secret`` None means
    development mode: every request is accepted unauthenticated. ``route_paths`` are the
    configured route path patterns, used to turn a Next.js ``slug`` into paths.
    """
    signature = headers.get(SIGNATURE_HEADER)
    if signature is not None:
        if secret is None:
            return sanity_delivery(headers, parse_json(body))
        stamp = verify_signature(signature, body, secret, now=now, window=window)
        signed = f"{stamp}.{_digest(secret, str(stamp), body)}"
        return Delivery(sanity_delivery(headers, parse_json(body)).change,
                        headers.get("idempotency-key"), signed)
    if headers.get("authorization") is not None:
        if secret is not None and not bearer_matches(headers, secret):
            raise WebhookError(UNAUTHORIZED, 401)
        return Delivery(json_change(_object(parse_json(body)), route_paths),
                        headers.get("idempotency-key"))
    payload = _object(parse_json(body))
    if secret is not None:
        given = payload.get("secret", query.get("secret"))
        if not secret_matches(given if isinstance(given, str) else None, secret):
            raise WebhookError(UNAUTHORIZED, 401)
    return Delivery(json_change(payload, route_paths), headers.get("idempotency-key"))


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise WebhookError(f"body must be a JSON object, not {type(value).__name__}", 400)
    return value


def sanity_delivery(headers: Mapping[str, str], payload: Any) -> Delivery:
    """A Sanity GROQ-powered webhook (already verified) as a document change."""
    body = _object(payload)
    operation = (headers.get("sanity-operation") or "update").strip().lower()
    if operation not in OPERATIONS:
        raise WebhookError(
            f"sanity-operation must be create, update or delete, not {operation!r}", 400
        )
    # the signed body's _id wins; the unsigned header only helps a projection without one
    doc_id = body.get("_id", headers.get("sanity-document-id"))
    if not isinstance(doc_id, str) or not doc_id:
        raise WebhookError(
            "the webhook body needs a string `_id` (include _id in the projection) "
            "or a sanity-document-id header", 400
        )
    doc = DocChange(
        doc_id,
        _optional_string(body, "_type"),
        operation,  # type: ignore[arg-type]  # checked against OPERATIONS above
        _optional_string(body, "_rev"),
    )
    change = Change(documents=(doc,), tags=_type_before(body, doc.type),
                    reasons=(f"sanity {operation} {doc_id}",))
    return Delivery(checked_text(change), headers.get("idempotency-key"))


def _type_before(body: Mapping[str, Any], doc_type: str | None) -> frozenset[str]:
    """The ``type:`` tag of the document's type before the change, when the projection
    gives it (``"typeBefore": before()._type``) and it differs: without a mirror, a list
    of the old type whose projection drops ``_id`` learns of a retype only by it."""
    before = _optional_string(body, "typeBefore")
    return frozenset({f"type:{before}"}) if before and before != doc_type else frozenset()


def json_change(payload: Mapping[str, Any], route_paths: Sequence[str] = ()) -> Change:
    """The Next.js / Bearer body: tags, paths, slug, documents, or one ``_id``/``_type``."""
    tags = set(_strings(payload.get("tags", payload.get("tag", [])), "tags"))
    paths = {normalize_path(p) for p in _strings(payload.get("paths", payload.get("path", [])),
                                                  "paths")}
    slug = payload.get("slug")
    if slug is not None:
        if not isinstance(slug, str) or not slug or "/" in slug:
            raise WebhookError("`slug` must be a non-empty string without '/'", 400)
        paths |= slug_paths(slug, route_paths)
    documents = _documents(payload.get("documents", []))
    doc_id, doc_type = _optional_string(payload, "_id"), _optional_string(payload, "_type")
    if doc_id:
        documents.append(DocChange(doc_id, doc_type, rev=_optional_string(payload, "_rev")))
    elif doc_type:
        tags.add(f"type:{doc_type}")
    change = Change(documents=tuple(documents), tags=frozenset(tags), paths=frozenset(paths),
                    reasons=("revalidate request",))
    if change.empty:
        raise WebhookError(
            "nothing to revalidate: give `tags`, `paths`, `slug`, `documents` or `_id`", 400
        )
    return checked_text(change)


def _documents(value: Any) -> list[DocChange]:
    """``documents``: a list of ids or ``{id, type, operation, rev}`` objects, strictly."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise WebhookError("`documents` must be a list of ids or {id, type, operation, rev} "
                           "objects", 400)
    return [_document(item) for item in value]


def _document(item: Any) -> DocChange:
    if isinstance(item, str) and item:
        return DocChange(item)
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
        raise WebhookError("each document needs a non-empty string `id`", 400)
    operation = item.get("operation") or "update"
    if not isinstance(operation, str) or operation not in OPERATIONS:
        raise WebhookError(
            f"document operation must be create, update or delete, not {operation!r}", 400
        )
    return DocChange(item["id"], _optional_string(item, "type"),
                     cast(Operation, operation), _optional_string(item, "rev"))


def _optional_string(payload: Mapping[str, Any], key: str) -> str | None:
    value = payload.get(key)
    if value is not None and not isinstance(value, str):
        raise WebhookError(f"`{key}` must be a string, not {type(value).__name__}", 400)
    return value


def checked_text(change: Change) -> Change:
    """``change`` when all its text is valid Unicode; WebhookError(400) otherwise.

    JSON can carry lone surrogates (``"\\ud800"``); they cannot be stored or matched, so
    such a payload can never succeed and must not be answered with a retryable 5xx.
    """
    texts = [*change.tags, *change.paths]
    for doc in change.documents:
        texts += [doc.id, doc.type or "", doc.rev or ""]
    for text in texts:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            shown = text[:60].encode("utf-8", "backslashreplace").decode()
            raise WebhookError(f"text is not valid Unicode (a lone surrogate): {shown!r}",
                               400) from None
    return change


def slug_paths(slug: str, route_paths: Sequence[str]) -> set[str]:
    """The page paths of every route whose only placeholder is ``{slug}``, filled in."""
    found = set()
    for pattern in route_paths:
        if _PLACEHOLDER.findall(pattern) == ["slug"]:
            found.add(normalize_path(pattern.replace("{slug}", slug)))
    return found


def _strings(value: Any, key: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise WebhookError(f"`{key}` must be a string or a list of non-empty strings", 400)
    return list(value)


__all__ = [
    "DEFAULT_REPLAY_WINDOW",
    "SIGNATURE_HEADER",
    "Delivery",
    "bearer_matches",
    "checked_text",
    "json_change",
    "parse_json",
    "parse_request",
    "sanity_delivery",
    "secret_matches",
    "sign",
    "slug_paths",
    "verify_signature",
]
