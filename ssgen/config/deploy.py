"""The ``[deploy]`` table of ``ssgen.toml``: parsed into a frozen ``DeployConfig``.

Owns the deploy settings (target bucket, S3-compatible endpoint, Cache-Control rules,
precompression, CDN purge hooks), their validation (every mistake is a ``ConfigError``
naming ``file:line`` and the key), the refusal of credentials in the file (boto3 reads
them from the environment or a profile) and ``parse_target`` for ``s3://bucket/prefix``.
``ssgen.config.load`` calls ``parse_deploy``; nothing here touches the network.
"""

from __future__ import annotations

import re
from typing import Any

from ssgen.config.toml import BOOL, INT, REQUIRED, STR, STRS, TABLE, TomlContext, take
from ssgen.fastclass import dataclass

_TABLES = "an array of tables ([[deploy.cache_control]] with pattern and value)"
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-_]{1,254}")
_SECRET = re.compile(r"secret|password|passwd|credential|access_key|session_token|^token$"
                     r"|^api_key$|^key$", re.IGNORECASE)
_HTTP = re.compile(r"https?://[^/]")
PRECOMPRESS = ("none", "gzip", "br")
DEFAULT_COMPRESS = ("*.html", "*.css", "*.js", "*.mjs", "*.json", "*.xml", "*.svg", "*.txt",
                    "*.map", "*.webmanifest")
MAX_JOBS = 64

_DEPLOY = {
    "target": (STR, None), "endpoint_url": (STR, None), "region": (STR, None),
    "profile": (STR, None), "jobs": (INT, 8), "delete": (BOOL, False),
    "precompress": (STR, "none"), "compress": (STRS, DEFAULT_COMPRESS),
    "cache_control": (_TABLES, ()), "purge": (TABLE, None),
}
_RULE = {"pattern": (STR, REQUIRED), "value": (STR, REQUIRED)}
_PURGE = {"url": (STR, None), "command": (STRS, None), "base_url": (STR, None),
          "token_env": (STR, None), "timeout": (INT, 30)}


@dataclass(frozen=True)
class Target:
    """Where a site goes: a bucket and a key prefix (``""`` or ``"a/b"``, no slashes)."""

    bucket: str
    prefix: str = ""

    def key(self, relpath: str) -> str:
        """The object key of an output file."""
        return f"{self.prefix}/{relpath}" if self.prefix else relpath

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


@dataclass(frozen=True)
class CacheRule:
    """``Cache-Control: value`` for output files whose relpath matches the glob ``pattern``."""

    pattern: str
    value: str


@dataclass(frozen=True)
class PurgeConfig:
    """``[deploy.purge]``: an HTTP hook, a command hook, or both."""

    url: str | None = None
    command: tuple[str, ...] | None = None
    base_url: str | None = None
    token_env: str | None = None
    timeout: int = 30


@dataclass(frozen=True)
class DeployConfig:
    """``[deploy]``: everything ``ssgen deploy`` needs except credentials."""

    target: Target | None = None
    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    jobs: int = 8
    delete: bool = False
    precompress: str = "none"
    compress: tuple[str, ...] = DEFAULT_COMPRESS
    cache_control: tuple[CacheRule, ...] = ()
    purge: PurgeConfig | None = None


def parse_target(text: str) -> Target:
    """``s3://bucket/prefix`` -> Target; ValueError saying what is wrong."""
    scheme, sep, rest = text.partition("://")
    if not sep or scheme != "s3":
        raise ValueError(f"{text!r} is not an s3:// target: write s3://bucket/prefix "
                         "(S3-compatible stores such as R2 or MinIO also use s3:// with "
                         "endpoint_url)")
    bucket, _, prefix = rest.partition("/")
    if not _BUCKET.fullmatch(bucket):
        raise ValueError(f"{text!r}: {bucket!r} is not a valid bucket name (3-255 lowercase "
                         "letters, digits, '.', '-', '_')")
    prefix = prefix.strip("/")
    if prefix and any(part in ("", ".", "..") for part in prefix.split("/")):
        raise ValueError(f"{text!r}: the prefix {prefix!r} has an empty, '.' or '..' segment")
    return Target(bucket, prefix)


def _refuse_secrets(raw: dict[str, Any], where: str, ctx: TomlContext) -> None:
    for key in raw:
        if key != "token_env" and _SECRET.search(key):
            raise ctx.error(f"{where}.{key}", "never put credentials in ssgen.toml: set "
                                              "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in "
                                              "the environment, or name a profile (AWS_PROFILE "
                                              "or deploy.profile)")


def _http(value: str | None, key: str, ctx: TomlContext) -> None:
    if value is not None and not _HTTP.match(value):
        raise ctx.error(key, f"{value!r} must start with http:// or https://")


def _rules(raw: tuple[dict[str, Any], ...] | list[dict[str, Any]],
           ctx: TomlContext) -> tuple[CacheRule, ...]:
    rules = []
    for index, table in enumerate(raw):
        values = take(table, _RULE, f"deploy.cache_control[{index}]", ctx)
        if not values["pattern"].strip():
            raise ctx.error(f"deploy.cache_control[{index}].pattern", "must not be empty")
        rules.append(CacheRule(values["pattern"].strip().lstrip("/"), values["value"]))
    return tuple(rules)


def _purge(raw: dict[str, Any] | None, ctx: TomlContext) -> PurgeConfig | None:
    if raw is None:
        return None
    _refuse_secrets(raw, "deploy.purge", ctx)
    values = take(raw, _PURGE, "deploy.purge", ctx)
    if values["url"] is None and values["command"] is None:
        raise ctx.error("deploy.purge", "needs url (an HTTP hook) or command (argv list), "
                                        "or remove [deploy.purge]")
    _http(values["url"], "deploy.purge.url", ctx)
    _http(values["base_url"], "deploy.purge.base_url", ctx)
    if values["command"] is not None and not values["command"]:
        raise ctx.error("deploy.purge.command", "must not be empty: an argv list such as "
                                                '["./purge.sh"]')
    if values["timeout"] < 1:
        raise ctx.error("deploy.purge.timeout", f"must be a positive integer, not "
                                                f"{values['timeout']}")
    if values["base_url"] is not None:
        values["base_url"] = values["base_url"].rstrip("/")
    return PurgeConfig(**values)


def parse_deploy(raw: dict[str, Any], ctx: TomlContext) -> DeployConfig:
    """Validate the ``[deploy]`` table (ConfigError naming file:line and key)."""
    _refuse_secrets(raw, "deploy", ctx)
    values = take(raw, _DEPLOY, "deploy", ctx)
    if values["target"] is not None:
        try:
            values["target"] = parse_target(values["target"])
        except ValueError as exc:
            raise ctx.error("deploy.target", str(exc)) from exc
    _http(values["endpoint_url"], "deploy.endpoint_url", ctx)
    if not 1 <= values["jobs"] <= MAX_JOBS:
        raise ctx.error("deploy.jobs", f"must be between 1 and {MAX_JOBS}, not "
                                       f"{values['jobs']}")
    if values["precompress"] not in PRECOMPRESS:
        raise ctx.error("deploy.precompress", f"{values['precompress']!r}: use "
                                              "\"none\", \"gzip\" or \"br\"")
    values["cache_control"] = _rules(values["cache_control"], ctx)
    values["purge"] = _purge(values["purge"], ctx)
    return DeployConfig(**values)
