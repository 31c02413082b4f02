"""Generated files: sitemap.xml, the Atom feed and robots.txt, as deterministic bytes.

Owns the data preparation for the built-in templates in ``ssgen/render/builtin_templates``: URL
joining, date normalisation to RFC 3339, stable ordering. Nothing here reads the clock:
the feed's ``updated`` is the newest entry date (the build time the caller passes only when
no entry has a date), sitemap ``lastmod`` only appears when the data gives one.
"""

from __future__ import annotations

import heapq
import operator
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import escape

from ssgen.errors import RenderError
from ssgen.fastclass import dataclass
from ssgen.memos import site_memo
from ssgen.render.sitemap import INDEX, absolute, sitemap_files, to_rfc3339
from ssgen.routes.page import PageSpec
from ssgen.routes.patterns import lookup

if TYPE_CHECKING:
    from ssgen.config.load import FeedConfig, SiteConfig

BUILTIN_DIR = Path(__file__).parent / "builtin_templates"
EPOCH = "1970-01-01T00:00:00Z"

SitemapEntry = str | tuple[str, Any]


def render_sitemap(urls: Iterable[SitemapEntry]) -> bytes:
    """sitemap.xml for absolute URLs, each a string or ``(url, lastmod or None)``.

    Sorted by URL; a URL given twice keeps its latest ``lastmod``. ValueError without a
    URL: the schema has no empty sitemap.
    """
    merged: dict[str, str | None] = {}
    for entry in urls:
        loc, lastmod = (entry, None) if isinstance(entry, str) else entry
        stamp = to_rfc3339(lastmod) if lastmod is not None else None
        previous = merged.get(loc)
        merged[loc] = max(filter(None, (previous, stamp)), default=None)
    if not merged:
        raise ValueError("a sitemap lists one URL at least")
    return sitemap_files(merged, "", max_urls=len(merged) or 1, max_bytes=1 << 62)[INDEX]


def sitemap_urls(pages: Iterable[PageSpec], base_url: str) -> list[tuple[str, str | None]]:
    """The sitemap entries of ``pages``: every HTML page except ``/404.html``.

    ``lastmod`` is the page document's ``_updatedAt`` when its data has one (list and
    paginated pages have none), so the sitemap changes only when the data does.
    """
    entries: list[tuple[str, str | None]] = []
    for spec in pages:
        if spec.path == "/404.html" or not (spec.path.endswith(("/", ".html", ".htm"))):
            continue
        page = spec.context.get("page")
        updated = page.get("_updatedAt") if isinstance(page, Mapping) else None
        entries.append(
            (absolute(base_url, spec.path), updated if isinstance(updated, str) else None)
        )
    return entries


def render_feed(
    feed: FeedConfig, site: SiteConfig, entries: Iterable[PageSpec], now: datetime | None = None
) -> bytes:
    """The Atom feed of ``entries`` (the pages of ``feed.route``).

    Each entry's title, date and summary come from ``feed.*_field`` of the page data
    (``context["page"]``); pages without a date are left out (``undated_pages``). Newest
    first, at most ``feed.limit``; the feed's ``updated`` is the newest entry date; when
    pages exist but none has a date (a misconfigured ``date_field``, warned about), ``now``
    (the build time). A feed with no pages at all keeps the fixed epoch, so that output
    stays a function of the content (an incremental build equals a full one).
    """
    return feed_and_undated(feed, site, entries, now)[0]


def feed_and_undated(feed: FeedConfig, site: SiteConfig, entries: Iterable[PageSpec],
                     now: datetime | None = None, *,
                     delta: FeedDelta | None = None) -> tuple[bytes, list[str]]:
    """``render_feed`` and ``undated_pages`` of the same entries. Entries that are the
    very specs of the last call are not looked at again (see ``_FeedMemo``). ``delta``:
    the same entries as a change of the last call's (see ``FeedDelta``)."""
    key = (feed, site.base_url)
    memo = _FEEDS.get(key) or _FeedMemo()
    _FEEDS.clear()  # only the last build's (one site in a serve process)
    _FEEDS[key] = memo
    rows = None
    if delta is not None and delta.since is not None and memo.mark == delta.since:
        rows = memo.changed(feed, site, delta)
    memo.mark = None  # until the memo holds the entries ``delta.then`` names
    if rows is None:
        rows = memo.update(feed, site, list(entries))
    memo.mark = delta.then if delta is not None else None
    if rows and memo.feed is not None and len(rows) == len(memo.feed[0]) \
            and all(map(operator.is_, rows, memo.feed[0])):
        return memo.feed[1], sorted(memo.undated.values())
    data = _feed(feed, site, rows, now, bool(memo.specs))
    memo.feed = (rows, data) if rows else None  # no rows: ``updated`` is ``now``
    return data, sorted(memo.undated.values())


@dataclass(frozen=True)
class FeedDelta:
    """The feed's entries as a change of the last call's: ``fresh`` (specs made anew or
    planned again) and ``kept`` (specs of the last call's, as they were), ``dropped``
    naming every path whose last spec is not kept (planned again, removed, or moved to
    another route). The caller vouches for ``kept`` being last call's specs with
    ``since``: the delta is taken only when the memo's last call was marked ``then``
    equal to it (else the entries are diffed whole). ``then``: this call's mark."""

    fresh: list[PageSpec]
    kept: Sequence[PageSpec]
    dropped: AbstractSet[str]
    since: object
    then: object


class _FeedMemo:
    """The last feed's entries by spec stamp (``ssgen.stamp``: a spec is never changed
    once made, and a route hands back the very same spec, or one decoded with its stamp,
    only for unchanged page data), each with its row (None: undated), and by path; the
    newest ``limit`` rows; the bytes made of them; the caller's ``mark`` of what the
    entries are (``FeedDelta``)."""

    def __init__(self) -> None:
        self.specs: dict[int, tuple[PageSpec, dict[str, str] | None]] = {}
        self.paths: dict[str, int] = {}
        self.undated: dict[int, str] = {}
        self.top: list[dict[str, str]] = []
        self.feed: tuple[list[dict[str, str]], bytes] | None = None
        self.mark: object = None

    def update(self, feed: FeedConfig, site: SiteConfig,
               entries: list[PageSpec]) -> list[dict[str, str]]:
        """Take ``entries`` as the feed's pages; the newest ``feed.limit`` rows."""
        now = dict(zip(map(_STAMP, entries), entries, strict=True))
        gone = self.specs.keys() - now.keys()
        added = [now[ident] for ident in now.keys() - self.specs.keys()]
        return self._apply(feed, gone, added, [_feed_entry(feed, site, s) for s in added])

    def changed(self, feed: FeedConfig, site: SiteConfig,
                delta: FeedDelta) -> list[dict[str, str]] | None:
        """``update`` of the delta's fresh and kept specs, looking at the fresh and
        dropped ones only; None (nothing changed) when the counts say the kept ones are
        not the last entries but the dropped ones."""
        if len(self.paths) != len(self.specs):  # two entries of one path: no delta
            return None
        gone = {self.paths[path] for path in delta.dropped if path in self.paths}
        if len(self.specs) - len(gone) != len(delta.kept) or any(
                spec.stamp in self.specs and spec.stamp not in gone for spec in delta.fresh):
            return None
        rows = [_feed_entry(feed, site, spec) for spec in delta.fresh]
        return self._apply(feed, gone, delta.fresh, rows)

    def _apply(self, feed: FeedConfig, gone: AbstractSet[int], added: list[PageSpec],
               rows: list[dict[str, str] | None]) -> list[dict[str, str]]:
        top = set(map(id, self.top))
        whole = False
        for ident in gone:
            spec, row = self.specs.pop(ident)
            if self.paths.get(spec.path) == ident:
                del self.paths[spec.path]
            self.undated.pop(ident, None)
            whole = whole or id(row) in top
        dated = []
        for spec, row in zip(added, rows, strict=True):
            self.specs[spec.stamp] = (spec, row)
            self.paths[spec.path] = spec.stamp
            if row is None:
                self.undated[spec.stamp] = spec.path
            else:
                dated.append(row)
        limit = max(0, feed.limit)
        # The newest rows are among the last ones and the new ones unless one of the
        # last ones is gone: each row outside them had ``limit`` rows above it.
        if whole:
            self.top = _newest([row for _, row in self.specs.values() if row is not None],
                               limit)
        elif dated:
            self.top = _newest(self.top + dated, limit)
        return self.top


def _feed(feed: FeedConfig, site: SiteConfig, rows: list[dict[str, str]],
          now: datetime | None, pages: bool) -> bytes:
    rows = _newest(rows, max(0, feed.limit))
    return _render(
        "atom.xml",
        title=feed.title or site.title,
        subtitle=site.description,
        language=site.language,
        author=site.title or "ssgen",
        feed_url=absolute(site.base_url, feed.path),
        home_url=absolute(site.base_url, "/"),
        updated=rows[0]["updated"] if rows else (to_rfc3339(now) if now and pages else EPOCH),
        entries=rows,
    )


def _newest(rows: list[dict[str, str]], limit: int) -> list[dict[str, str]]:
    """The first ``limit`` rows by date, newest first, then by URL. Only rows dated at
    least the ``limit``-th newest date can be among them: those are sorted, not all."""
    if 0 < limit < len(rows):
        least = heapq.nlargest(limit, [row["updated"] for row in rows])[-1]
        rows = [row for row in rows if row["updated"] >= least]
    rows = sorted(rows, key=lambda row: row["url"])
    rows.sort(key=lambda row: row["updated"], reverse=True)
    return rows[:limit]


# The last feed's memo per (feed config, base URL): one edit looks at one entry, not
# at the 10,000 post pages.
_FEEDS: dict[tuple[FeedConfig, str], _FeedMemo] = site_memo()

# What a source snapshot carries of it (``ssgen.build.memo.carry``): the base URL, each
# entry's spec and row, the rows of the last feed and its bytes.
ExportedFeed = tuple[str, list[tuple[PageSpec, dict[str, str] | None]],
                     tuple[list[dict[str, str]], bytes] | None]


def export_feeds() -> list[ExportedFeed]:
    """The last feed's memo, as ``adopt_feed`` takes it in another process (the specs
    are those the route memos carry: encoded together, they stay the same objects)."""
    return [(base_url, list(memo.specs.values()), memo.feed)
            for (_, base_url), memo in _FEEDS.items()]


_STAMP = operator.attrgetter("stamp")
_ROW_KEYS = frozenset(("title", "url", "updated", "summary"))  # as _feed_entry makes them


def adopt_feed(feed: FeedConfig, base_url: str, exported: object) -> None:
    """Take a decoded ``export_feeds()`` for ``feed`` at ``base_url`` (made with an equal
    config: a source snapshot's key holds the config's hash); anything of another form
    is ignored. The newest rows are picked again, not taken."""
    if type(exported) is not list or len(exported) != 1 or type(exported[0]) is not tuple \
            or len(exported[0]) != 3 or exported[0][0] != base_url:
        return
    _, pairs, last = exported[0]
    if type(pairs) is not list:
        return
    # One pass that checks each pair as it takes it (10,000 at 10k posts: a new process
    # adopts them all), the pair itself kept as the memo's entry.
    memo = _FeedMemo()
    specs, paths, undated = memo.specs, memo.paths, memo.undated
    dated: list[dict[str, str]] = []
    for pair in pairs:
        if type(pair) is not tuple or len(pair) != 2:
            return
        spec, row = pair
        if type(spec) is not PageSpec:
            return
        ident = spec.stamp
        if type(ident) is not int:
            return
        if row is None:
            undated[ident] = spec.path
        elif type(row) is dict and row.keys() == _ROW_KEYS and type(row["title"]) \
                is type(row["url"]) is type(row["updated"]) is type(row["summary"]) is str:
            dated.append(row)
        else:
            return
        specs[ident] = pair
        paths[spec.path] = ident
    memo.top = _newest(dated, max(0, feed.limit))
    if type(last) is tuple and len(last) == 2 and type(last[0]) is list \
            and type(last[1]) is bytes:
        memo.feed = last
    _FEEDS.clear()
    _FEEDS[(feed, base_url)] = memo


def undated_pages(feed: FeedConfig, entries: Iterable[PageSpec]) -> list[str]:
    """The paths of the feed's pages that have no ``feed.date_field`` (left out of it)."""
    return sorted(spec.path for spec in entries
                  if lookup(spec.context.get("page"), feed.date_field) is None)


def undated_warning(feed: FeedConfig, undated: list[str], total: int) -> str | None:
    """What to tell the user about feed pages without a date, or None when all have one."""
    if not undated:
        return None
    where = f"feed {feed.path}: route {feed.route!r}"
    if len(undated) == total:
        return (f"{where}: no page has a {feed.date_field!r} date, so the feed has no "
                "entries and its <updated> is the build time; set [feed] date_field to the "
                "field that holds the date")
    listed = ", ".join(undated[:2]) + (f", … (+{len(undated) - 2})" if len(undated) > 2 else "")
    return (f"{where}: {len(undated)} of {total} pages have no {feed.date_field!r} and are "
            f"left out of the feed: {listed}")


def render_robots(site: SiteConfig, *, sitemap: bool = True) -> bytes:
    """robots.txt allowing everything, pointing at sitemap.xml when there is one: the
    bytes ``builtin_templates/robots.txt`` renders to, written here as the sitemap's are
    (Jinja2's lexer, parser and compile of that template in a second environment were
    ~1% of a cold build's own CPU, on its last stretch)."""
    text = "User-agent: *\nAllow: /\n"
    if sitemap:
        text += f"\nSitemap: {escape(absolute(site.base_url, '/sitemap.xml'))}\n"
    return text.encode("utf-8")


def _feed_entry(feed: FeedConfig, site: SiteConfig, spec: PageSpec) -> dict[str, str] | None:
    page = spec.context.get("page")
    raw_date = lookup(page, feed.date_field)
    if raw_date is None:
        return None
    try:
        updated = to_rfc3339(raw_date)
    except ValueError as exc:
        raise RenderError(
            f"feed: field {feed.date_field!r} of page {spec.path} (route {spec.route!r}): {exc}"
        ) from exc
    title = lookup(page, feed.title_field)
    return {
        "title": plain_text(title) or spec.path,
        "url": absolute(site.base_url, spec.path),
        "updated": updated,
        "summary": plain_text(lookup(page, feed.summary_field)),
    }


def plain_text(value: Any) -> str:
    """Text of a string, or of Portable Text blocks (their spans joined), else ``""``."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        paragraphs = [plain_text(block) for block in value]
        return "\n\n".join(p for p in paragraphs if p)
    if isinstance(value, Mapping):
        children = value.get("children")
        if isinstance(children, list):
            return "".join(str(c.get("text", "")) for c in children if isinstance(c, Mapping))
    return ""


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(BUILTIN_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _render(name: str, **context: Any) -> bytes:
    return _environment().get_template(name).render(context).encode("utf-8")


__all__ = [
    "FeedDelta",
    "absolute",
    "adopt_feed",
    "export_feeds",
    "feed_and_undated",
    "plain_text",
    "render_feed",
    "render_robots",
    "render_sitemap",
    "sitemap_urls",
    "to_rfc3339",
    "undated_pages",
    "undated_warning",
]
