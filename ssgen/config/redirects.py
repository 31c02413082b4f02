"""``[[redirects]]`` and the routes' redirect options of ``ssgen.toml``, validated at load.

Owns ``RedirectRule`` (one hand-written redirect), ``parse_redirects`` (every mistake a
``ConfigError`` naming the key: a source that is not a site path, a target that is
another host without ``external = true``, an unknown status, duplicates and loops),
``check_route_options`` (a route's ``redirects`` and ``gone``) and ``path_key``, the one
form in which redirect sources and targets are compared (``/a`` and ``/a/`` and
``/a/index.html`` are one file, so one key).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ssgen.config.toml import BOOL, INT, REQUIRED, STR, TomlContext, take
from ssgen.fastclass import dataclass

STATUSES = frozenset({301, 302, 303, 307, 308, 410})
_SPEC = {"from": (STR, REQUIRED), "to": (STR, None), "status": (INT, 301),
         "external": (BOOL, False)}
_URL = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+(/\S*)?")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


@dataclass(frozen=True)
class RedirectRule:
    """One ``[[redirects]]`` entry: ``to`` is None for a 410."""

    source: str
    to: str | None
    status: int = 301
    external: bool = False


def path_key(path: str) -> str:
    """The comparison form of a site path: ``/a``, ``/a/`` and ``/a/index.html`` -> ``/a/``."""
    if path.endswith("/index.html"):
        return path[: -len("index.html")]
    last = path.rsplit("/", 1)[-1]
    return path if path.endswith("/") or "." in last else path + "/"


def site_path_problem(path: str) -> str | None:
    """Why ``path`` is not a path of this site (None: it is one)."""
    if _SCHEME.match(path) or path.startswith("//"):
        return "is a URL of another host"
    if not path.startswith("/"):
        return "must start with '/'"
    if re.search(r"[\s\\\x00-\x1f\x7f]", path):
        return "must not contain spaces, backslashes or control characters (percent-encode them)"
    if "?" in path or "#" in path:
        return "must not contain '?' or '#'"
    if any(part in (".", "..") for part in path.split("/")):
        return "must not contain '.' or '..' segments"
    return None


def _target(values: Mapping[str, Any], where: str, ctx: TomlContext) -> str | None:
    to, status = values["to"], values["status"]
    if status == 410:
        if to is not None:
            raise ctx.error(f"{where}.to", "a 410 (gone) has no target: remove to")
        return None
    if to is None:
        raise ctx.error(f"{where}.to", f"required for status {status}: add to = \"/new/\"")
    if values["external"]:
        if not _URL.fullmatch(to):
            raise ctx.error(f"{where}.to", f"{to!r}: with external = true, to must be an "
                                           "absolute http:// or https:// URL")
        return str(to)
    problem = site_path_problem(to)
    if problem == "is a URL of another host":
        raise ctx.error(f"{where}.to", f"{to!r} is a URL of another host: an open redirect "
                                       "is refused unless the entry sets external = true")
    if problem:
        raise ctx.error(f"{where}.to", f"{to!r} {problem}")
    return str(to)


def _rule(raw: Any, index: int, ctx: TomlContext) -> RedirectRule:
    where = f"redirects[{index}]"
    values = take(raw, _SPEC, where, ctx)
    problem = site_path_problem(values["from"])
    if problem:
        raise ctx.error(f"{where}.from", f"{values['from']!r} {problem}: from is a path of "
                                         "this site, e.g. \"/old/\"")
    if values["status"] not in STATUSES:
        raise ctx.error(f"{where}.status", f"{values['status']} is not a redirect status: "
                                           "use 301, 302, 303, 307, 308 or 410")
    to = _target(values, where, ctx)
    if to is not None and not values["external"] and path_key(to) == path_key(values["from"]):
        raise ctx.error(f"{where}.to", f"{to!r} redirects to itself (a loop)")
    return RedirectRule(values["from"], to, values["status"], values["external"])


def parse_redirects(raw: Any, ctx: TomlContext) -> tuple[RedirectRule, ...]:
    """The ``[[redirects]]`` array: checked one by one, then for duplicates and loops."""
    if raw is None:
        return ()
    rules = [_rule(table, index, ctx) for index, table in enumerate(raw)]
    seen: dict[str, int] = {}
    for index, rule in enumerate(rules):
        key = path_key(rule.source)
        if key in seen:
            raise ctx.error(f"redirects[{index}].from", f"{rule.source!r} is also the from of "
                                                        f"redirects[{seen[key]}]")
        seen[key] = index
    _check_loops(rules, seen, ctx)
    return tuple(rules)


def _check_loops(rules: list[RedirectRule], index_of: dict[str, int],
                 ctx: TomlContext) -> None:
    for start, rule in enumerate(rules):
        chain, current = [start], rule
        while current.to is not None and not current.external:
            nxt = index_of.get(path_key(current.to))
            if nxt is None:
                break
            if nxt in chain:
                hops = " -> ".join(rules[i].source for i in chain[chain.index(nxt):])
                raise ctx.error(f"redirects[{start}].to", f"redirect loop: {hops} -> "
                                                          f"{rules[nxt].source}")
            chain.append(nxt)
            current = rules[nxt]


ROUTE_OPTIONS = {"redirects": (BOOL, True), "gone": (STR, None)}


def check_route_options(values: Mapping[str, Any], where: str, ctx: TomlContext) -> None:
    """A route's ``redirects`` (false: no history, no redirects) and ``gone`` (where the
    paths of its unpublished documents redirect instead of answering 410)."""
    gone = values["gone"]
    if gone is None:
        return
    if not values["redirects"]:
        raise ctx.error(f"{where}.gone", "gone has no effect with redirects = false: remove one")
    problem = site_path_problem(gone)
    if problem:
        raise ctx.error(f"{where}.gone", f"{gone!r} {problem}: gone is a path of this site, "
                                         "e.g. \"/blog/\"")
