"""Two pages, one path (pure): ``check_unique`` finds each clash, decides which page (if
any) is published, and words the fix (``PathClash.message``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import field
from typing import Any

from ssgen.errors import ConfigError
from ssgen.fastclass import dataclass
from ssgen.routes.page import PageSpec
from ssgen.shells import id_of


@dataclass(frozen=True)
class Claimant:
    """A page that wants a path: its route, the document it shows when known, its path
    fields, and whether its path is fixed in ssgen.toml (no ``{field}`` from content)."""

    route: str
    document: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    fixed: bool = False

    def describe(self) -> str:
        """``document 'p1' (route 'post')``, or the route (and path fields) without one."""
        if self.document is not None:
            return f"document {self.document!r} (route {self.route!r})"
        if self.params and not self.fixed:
            fields = ", ".join(f"{name}={value!r}" for name, value in self.params.items())
            return f"the route {self.route!r} page with {fields}"
        return f"route {self.route!r}"


@dataclass(frozen=True)
class PathClash:
    """Pages that want one path. ``winner``: the one page whose path is fixed in
    ssgen.toml, published as usual; None: none is published and the file already there
    (the page's last good version) is kept, so the outcome never depends on order."""

    path: str
    claimants: tuple[Claimant, ...]
    winner: Claimant | None = None

    @property
    def routes(self) -> str:
        """The claimants' route names, comma-separated (how the manifest records them)."""
        return ",".join(dict.fromkeys(claimant.route for claimant in self.claimants))

    def message(self) -> str:
        """What clashed and how to fix the content."""
        losers = [c for c in self.claimants if c is not self.winner]
        names = _join([c.describe() for c in losers])
        if self.winner is not None:
            return (f"{names} {'has' if len(losers) == 1 else 'have'} the path {self.path!r} "
                    f"of {self.winner.describe()}: give {_them(losers)} another slug "
                    f"(the route keeps its page; {_them(losers)} {_be(losers)} not published)")
        some, none = ("one", "neither") if len(losers) == 2 else ("all but one", "none")
        return (f"{names} have the same path {self.path!r}: give {some} of them another "
                f"slug (until then {none} of them is published, and the page keeps its last "
                "good version)")


def check_unique(
    pages: Iterable[PageSpec],
    *,
    fixed: AbstractSet[str] = frozenset(),
    standing: Mapping[str, Claimant] | None = None,
) -> tuple[list[PageSpec], list[PathClash]]:
    """The pages whose path no other page wants, and each clash (two pages, one file).

    ``fixed``: routes whose paths come from ssgen.toml alone; such a page wins its path
    from pages whose paths come from documents, and two of them clash as a config
    mistake (`ConfigError`). ``standing``: path -> the page that holds it outside
    ``pages`` (a recorded page of a route this build did not re-query).
    """
    pages = pages if isinstance(pages, list) else list(pages)
    seen: dict[str, PageSpec] = {}
    shared: set[str] = set()
    for page in pages:
        key = _path_key(page.path)
        if seen.setdefault(key, page) is not page:
            shared.add(key)
    held = {_path_key(path): claimant for path, claimant in (standing or {}).items()}
    shared.update(held.keys() & seen.keys())
    if not shared:
        return pages, []
    kept: list[PageSpec] = []
    groups: dict[str, list[PageSpec]] = {}
    for page in pages:
        key = _path_key(page.path)
        if key in shared:
            groups.setdefault(key, []).append(page)
        else:
            kept.append(page)
    clashes: list[PathClash] = []
    for key, group in groups.items():
        other = held.get(key)
        claims = [(page, _claimant(page, fixed)) for page in group]
        claimants = tuple(c for _, c in claims) + ((other,) if other is not None else ())
        winner = _winner(group[0].path, claimants)
        clashes.append(PathClash(group[0].path, claimants, winner))
        kept.extend(page for page, claimant in claims if claimant is winner)
    return kept, clashes


def _path_key(path: str) -> str:
    """The file a page path is written to (``/a/index.html`` and ``/a/`` are one)."""
    return path[: -len("index.html")] if path.endswith("/index.html") else path


def _claimant(page: PageSpec, fixed: AbstractSet[str]) -> Claimant:
    shown = page.context.get("page")
    document = id_of(shown) if isinstance(shown, dict) else None  # a snapshot's shell too
    if not isinstance(document, str):
        document = page.params.get("_id")
    return Claimant(page.route, document if isinstance(document, str) else None,
                    page.params, page.route in fixed)


def _winner(path: str, claimants: tuple[Claimant, ...]) -> Claimant | None:
    configured = [c for c in claimants if c.fixed]
    if len(configured) > 1:
        raise ConfigError(
            f"two pages have the path {path!r}: {_join([c.describe() for c in configured])}; "
            "make their path patterns distinct"
        )
    return configured[0] if configured else None


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _them(items: list[Claimant]) -> str:
    return "it" if len(items) == 1 else "them"


def _be(items: list[Claimant]) -> str:
    return "is" if len(items) == 1 else "are"


__all__ = ["Claimant", "PathClash", "check_unique"]
