"""CDN purge after a deploy: the ``Purger`` protocol and its HTTP and command hooks.

A purger gets ``{"new": [...], "changed": [...], "deleted": [...]}`` absolute URLs (new
ones too: a CDN may hold a cached 404 for them). ``HttpPurger`` POSTs them as JSON,
``CommandPurger`` runs a program with the JSON on stdin. Failures are ``DeployError``s.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from typing import Protocol

import httpx

from ssgen.config.deploy import PurgeConfig
from ssgen.deploy.plan import as_json
from ssgen.errors import ConfigError, DeployError

_EXCERPT = 300


class Purger(Protocol):
    """Tells a CDN to forget URLs."""

    def purge(self, urls: Mapping[str, Sequence[str]]) -> None:
        """Purge ``urls`` ({"new", "changed", "deleted"}); DeployError on failure."""


class HttpPurger:
    """POST the URLs as JSON to a hook (a CDN API proxy, a serverless function...)."""

    def __init__(self, url: str, *, token: str | None = None, timeout: float = 30) -> None:
        self.url = url
        self.token = token
        self.timeout = timeout

    def purge(self, urls: Mapping[str, Sequence[str]]) -> None:
        """One POST; any non-2xx answer or transport error is a DeployError."""
        headers = {"Content-Type": "application/json", "User-Agent": "ssgen-deploy"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = httpx.post(self.url, content=as_json(dict(urls)), headers=headers,
                                  timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise DeployError(f"purge hook {self.url}: {exc}") from exc
        if not response.is_success:
            body = response.text[:_EXCERPT].strip()
            raise DeployError(f"purge hook {self.url} answered {response.status_code}"
                              + (f": {body}" if body else ""))


class CommandPurger:
    """Run a program (argv, no shell) with the URLs as JSON on stdin; exit 0 is success."""

    def __init__(self, argv: Sequence[str], *, cwd: str | None = None,
                 timeout: float = 30) -> None:
        self.argv = list(argv)
        self.cwd = cwd
        self.timeout = timeout

    def purge(self, urls: Mapping[str, Sequence[str]]) -> None:
        """Run the command; a non-zero exit, a timeout or a missing program is an error."""
        name = self.argv[0]
        try:
            done = subprocess.run(self.argv, input=as_json(dict(urls)), capture_output=True,
                                  cwd=self.cwd, timeout=self.timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DeployError(f"purge command {name}: {exc}") from exc
        if done.returncode != 0:
            tail = done.stderr.decode("utf-8", "replace")[-_EXCERPT:].strip()
            raise DeployError(f"purge command {name} exited {done.returncode}"
                              + (f": {tail}" if tail else ""))


def purgers(config: PurgeConfig | None, *, cwd: str | None = None,
            env: Mapping[str, str] | None = None) -> list[Purger]:
    """The purgers ``[deploy.purge]`` configures (empty when there is none)."""
    if config is None:
        return []
    env = os.environ if env is None else env
    out: list[Purger] = []
    if config.url:
        token = None
        if config.token_env:
            token = env.get(config.token_env)
            if not token:
                raise ConfigError(f"deploy.purge.token_env: the environment variable "
                                  f"{config.token_env} is not set")
        out.append(HttpPurger(config.url, token=token, timeout=config.timeout))
    if config.command:
        out.append(CommandPurger(config.command, cwd=cwd, timeout=config.timeout))
    return out
