"""The stable hash of a page's data (pure): what the build compares to tell whether a
page's context changed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import orjson


def data_hash(value: Any) -> str:
    """A stable sha256 of a page's context data (orjson, sorted keys).

    Values orjson cannot encode natively (integers beyond 64 bits) fall back to the
    stdlib encoder, which is as deterministic.
    """
    try:
        encoded = orjson.dumps(
            value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=_encode_default
        )
    except orjson.JSONEncodeError:
        text = json.dumps(value, sort_keys=True, default=_encode_default, separators=(",", ":"))
        encoded = text.encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def _encode_default(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"data_hash cannot encode {type(value).__name__}")


__all__ = ["data_hash"]
