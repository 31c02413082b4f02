"""A real S3-protocol server for tests: moto's ThreadedMotoServer on 127.0.0.1.

``S3TestServer`` starts it on a free port; ``endpoint`` is what ``[deploy] endpoint_url``
points at. ``client()`` is a plain boto3 client for assertions (what is in the bucket),
``bucket()`` creates a fresh, uniquely named bucket so tests sharing a server never see
each other's objects. ``dummy_credentials(monkeypatch)`` sets fake AWS variables so no
profile or real credential on the machine is ever read.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
_DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
}
_names = itertools.count(1)


def dummy_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials in the environment; no profile, no endpoint override."""
    for name, value in _DUMMY_ENV.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)


class S3TestServer:
    """moto in server mode on 127.0.0.1 and a free port; use as a context manager."""

    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.endpoint = ""
        self._client: Any = None

    def __enter__(self) -> S3TestServer:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log per request
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    def client(self) -> Any:
        """A boto3 S3 client on the server (dummy credentials passed explicitly)."""
        if self._client is None:
            self._client = boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION,
                                        aws_access_key_id="testing",
                                        aws_secret_access_key="testing")
        return self._client

    def bucket(self, prefix: str = "site") -> str:
        """Create a new empty bucket and return its name."""
        name = f"{prefix}-{next(_names)}"
        self.client().create_bucket(Bucket=name)
        return name

    def objects(self, bucket: str, prefix: str = "") -> dict[str, bytes]:
        """Every object under ``prefix`` as key -> body."""
        client = self.client()
        out = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                     Prefix=prefix):
            for item in page.get("Contents", []):
                key = item["Key"]
                out[key] = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        return out
