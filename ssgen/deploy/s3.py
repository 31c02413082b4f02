"""The S3 protocol client of ``ssgen deploy`` (AWS S3, R2, MinIO, GCS interop, moto).

Owns every request to object storage: the boto3 client (credentials only from boto3's
default chain: environment, profiles, instance roles), listing a prefix, the state
object, HEAD for repairs, PUT with metadata (``x-amz-meta-sha256``), batched deletes,
and counting requests. Every botocore exception becomes a ``DeployError`` here.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import boto3
import botocore.session
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from botocore.loaders import create_loader

from ssgen.config.deploy import DeployConfig, Target
from ssgen.deploy.plan import STATE_NAME, ObjectMeta, RemoteEntry
from ssgen.errors import DeployError

DELETE_BATCH = 1000  # the most keys one DeleteObjects request takes
LIST_PAGE = 1000  # keys per ListObjectsV2 answer (the S3 maximum and default)
Mapper = Callable[..., Iterable[dict[str, str]]]
_MISSING = {"NoSuchKey", "404", "NotFound"}
_SHARED: dict[tuple[DeployConfig, Target, int | None], S3Store] = {}
_SHARED_LOCK = threading.Lock()
# Parsing the S3 service model is most of the ~0.2 s a new client costs; credentials are
# still resolved by each new session.
_LOADER = create_loader()


class RequestCounter:
    """HTTP requests sent, by S3 operation (retries count: they are requests too)."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, event_name: str = "", **_: Any) -> None:
        with self._lock:
            self._counts[event_name.rsplit(".", 1)[-1]] += 1

    @property
    def total(self) -> int:
        """All requests so far."""
        with self._lock:
            return sum(self._counts.values())

    def by_operation(self) -> dict[str, int]:
        """Requests so far by operation name (``PutObject``, ``ListObjectsV2``...)."""
        with self._lock:
            return dict(sorted(self._counts.items()))


def _client(settings: DeployConfig, jobs: int) -> Any:
    try:
        core = botocore.session.get_session()
        core.register_component("data_loader", _LOADER)
        # Timestamps are never read; parsing one per listed key is a fifth of a listing.
        core.get_component("response_parser_factory").set_parser_defaults(
            timestamp_parser=str)
        session = boto3.session.Session(botocore_session=core, profile_name=settings.profile)
        config = BotoConfig(
            max_pool_connections=max(jobs, 10),
            retries={"max_attempts": 4, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
            # Path-style and checksums only when required: what S3-compatible stores accept.
            s3={"addressing_style": "path" if settings.endpoint_url else "auto"},
            request_checksum_calculation="when_required" if settings.endpoint_url
            else "when_supported",
        )
        return session.client("s3", endpoint_url=settings.endpoint_url,
                              region_name=settings.region, config=config)
    except BotoCoreError as exc:
        raise DeployError(f"cannot set up the S3 client: {exc}") from exc


class S3Store:
    """One bucket prefix over the S3 protocol; thread-safe (boto3 clients are)."""

    def __init__(self, client: Any, target: Target) -> None:
        self.client = client
        self.target = target
        self.counter = RequestCounter()
        client.meta.events.register("before-send.s3", self.counter)

    @classmethod
    def connect(cls, settings: DeployConfig, target: Target, *, jobs: int | None = None
                ) -> S3Store:
        """A store for ``target`` with the client ``settings`` describe."""
        return cls(_client(settings, jobs or settings.jobs), target)

    @classmethod
    def shared(cls, settings: DeployConfig, target: Target, *, jobs: int | None = None
               ) -> S3Store:
        """Like ``connect``, but one store per (settings, target, jobs) in this process:
        creating a boto3 client costs ~0.2 s, and serve deploys after every rebuild."""
        key = (settings, target, jobs)
        with _SHARED_LOCK:
            store = _SHARED.get(key)
            if store is None:
                store = _SHARED[key] = cls.connect(settings, target, jobs=jobs)
            return store

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except NoCredentialsError as exc:
            raise DeployError("no S3 credentials: set AWS_ACCESS_KEY_ID and "
                              "AWS_SECRET_ACCESS_KEY, or a profile (AWS_PROFILE or "
                              "[deploy] profile)") from exc
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code, message = error.get("Code", "?"), error.get("Message", "")
            if code == "NoSuchBucket":
                raise DeployError(f"{what}: bucket {self.target.bucket!r} does not exist "
                                  "(create it, or check endpoint_url and region)") from exc
            raise DeployError(f"{what} in {self.target}: {code} {message}".rstrip()) from exc
        except BotoCoreError as exc:
            raise DeployError(f"{what} in {self.target}: {exc}") from exc

    @property
    def requests(self) -> int:
        """Requests sent so far."""
        return self.counter.total

    def listing(self, splits: Sequence[str] = (), mapper: Mapper = map) -> dict[str, str]:
        """relpath -> ETag of every object under the prefix (ListObjectsV2, paginated).

        ``splits`` (sorted relpaths, e.g. every 1,000th key the state knows) cut the key
        space into ranges that ``mapper`` (a thread pool's ``map``) lists in parallel: the
        same number of requests, a fraction of the wall time on a large bucket.
        """
        bounds: list[str | None] = [None, *splits, None]
        out: dict[str, str] = {}
        for part in mapper(self._list_range, bounds[:-1], bounds[1:]):
            out.update(part)
        return out

    def _list_range(self, lower: str | None, upper: str | None) -> dict[str, str]:
        """Objects with lower < relpath <= upper (None: unbounded)."""
        prefix = f"{self.target.prefix}/" if self.target.prefix else ""
        params: dict[str, Any] = {"Bucket": self.target.bucket, "Prefix": prefix,
                                  "MaxKeys": LIST_PAGE}
        if lower is not None:
            params["StartAfter"] = prefix + lower
        out: dict[str, str] = {}
        with self._errors("listing objects"):
            for page in self.client.get_paginator("list_objects_v2").paginate(**params):
                for item in page.get("Contents", []):
                    rel = item["Key"][len(prefix):]
                    if upper is not None and rel > upper:
                        return out
                    if rel and rel != STATE_NAME and not rel.endswith("/"):
                        out[rel] = item.get("ETag", "")
                    if rel == upper:  # the range is complete: do not fetch another page
                        return out
        return out

    def read_state(self) -> bytes | None:
        """The state object's bytes, or None when there is none."""
        key = self.target.key(STATE_NAME)
        with self._errors(f"reading {key}"):
            try:
                response = self.client.get_object(Bucket=self.target.bucket, Key=key)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in _MISSING:
                    return None
                raise
            body: bytes = response["Body"].read()
        return body

    def write_state(self, data: bytes) -> None:
        """Replace the state object."""
        key = self.target.key(STATE_NAME)
        with self._errors(f"writing {key}"):
            self.client.put_object(Bucket=self.target.bucket, Key=key, Body=data,
                                   ContentType="application/json",
                                   CacheControl="no-store")

    def head(self, relpath: str) -> RemoteEntry | None:
        """What an object's metadata says it holds (None: not uploaded by ssgen)."""
        key = self.target.key(relpath)
        with self._errors(f"reading metadata of {key}"):
            try:
                response = self.client.head_object(Bucket=self.target.bucket, Key=key)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in _MISSING:
                    return None
                raise
        meta = response.get("Metadata", {})
        if "sha256" not in meta:
            return None
        return RemoteEntry(meta["sha256"], meta.get("ssgen-meta", ""), response.get("ETag", ""))

    def put(self, relpath: str, body: bytes, sha256: str, meta: ObjectMeta) -> str:
        """Upload one object with its metadata; returns its ETag."""
        key = self.target.key(relpath)
        extra: dict[str, Any] = {"ContentType": meta.content_type,
                                 "CacheControl": meta.cache_control}
        if meta.encoding:
            extra["ContentEncoding"] = meta.encoding
        if meta.redirect is not None:
            extra["WebsiteRedirectLocation"] = meta.redirect
        tags = {"sha256": sha256, "ssgen-meta": meta.fingerprint}
        if meta.gone:
            tags["ssgen-status"] = "410"
        with self._errors(f"uploading {key}"):
            response = self.client.put_object(
                Bucket=self.target.bucket, Key=key, Body=body, Metadata=tags, **extra)
        etag: str = response.get("ETag", "")
        return etag

    def delete(self, relpaths: list[str], done: Callable[[list[str]], None]) -> None:
        """Delete objects, ``DELETE_BATCH`` a request; ``done(batch)`` after each."""
        for start in range(0, len(relpaths), DELETE_BATCH):
            batch = relpaths[start:start + DELETE_BATCH]
            objects = [{"Key": self.target.key(rel)} for rel in batch]
            with self._errors("deleting objects"):
                response = self.client.delete_objects(
                    Bucket=self.target.bucket, Delete={"Objects": objects, "Quiet": True})
            errors = response.get("Errors", [])
            if errors:
                first = errors[0]
                raise DeployError(f"deleting {first.get('Key')} in {self.target}: "
                                  f"{first.get('Code')} {first.get('Message', '')}".rstrip())
            done(batch)
