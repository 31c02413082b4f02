"""What ``ssgen serve`` refuses or warns about before it listens.

A webhook secret is the only thing between the internet and a rebuild, so it must be
at least ``MIN_SECRET`` non-whitespace characters (``--allow-weak-secret`` opts out, for
a test bench). Dev mode accepts unauthenticated webhooks and shows error details, so
listening on anything but a loopback address gets a warning.
"""

from __future__ import annotations

import ipaddress

from ssgen.errors import ConfigError

MIN_SECRET = 16


def check_secret(secret: str | None, *, dev: bool, allow_weak: bool = False) -> str | None:
    """The secret to use (None: dev mode without one); ConfigError when it is missing or weak."""
    if not secret:
        if dev:
            return None
        raise ConfigError("serve needs a webhook secret: pass --revalidate-secret or set "
                          "SSGEN_REVALIDATE_SECRET (or use --dev for local development)")
    strength = sum(1 for char in secret if not char.isspace())
    if strength < MIN_SECRET and not allow_weak:
        raise ConfigError(
            f"the webhook secret is too weak: it has {strength} non-whitespace characters, "
            f"and at least {MIN_SECRET} are needed (generate one with `openssl rand -hex 32`; "
            "--allow-weak-secret accepts it anyway)")
    return secret


def dev_exposure_warning(host: str, dev: bool) -> str | None:
    """A warning when dev mode listens beyond this machine, else None."""
    if not dev or is_loopback(host):
        return None
    return (f"--dev listens on {host}: anyone who can reach it may trigger rebuilds "
            "without a secret and read error details; use --host 127.0.0.1, or drop --dev "
            "and set a secret")


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (``127.0.0.0/8``, ``::1``)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


__all__ = ["MIN_SECRET", "check_secret", "dev_exposure_warning", "is_loopback"]
