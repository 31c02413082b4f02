"""ssgen.deploy.plan: metadata rules, the remote state document and the ordered plan (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssgen.config.deploy import CacheRule, DeployConfig
from ssgen.deploy.plan import (
    IMMUTABLE,
    PHASES,
    SHORT,
    STATIC,
    LocalFile,
    ObjectMeta,
    RemoteEntry,
    RemoteState,
    cache_control,
    content_type,
    glob_match,
    make_plan,
    merge_purges,
    object_meta,
    page_url,
    purge_urls,
    reconcile,
)


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("*.html", "index.html", True),
        ("*.html", "a/b/index.html", True),
        ("*.html", "a/b/index.htm", False),
        ("css/**", "css/a/b.css", True),
        ("css/**", "x/css/a.css", False),
        ("a/*.js", "a/x.js", True),
        ("a/*.js", "a/b/x.js", False),
        ("**/x.js", "x.js", True),
        ("**/x.js", "a/b/x.js", True),
        ("img/?.png", "img/a.png", True),
        ("img/?.png", "img/ab.png", False),
        ("a+b/[x].css", "a+b/[x].css", True),
    ],
)
def test_glob_match(pattern: str, path: str, expected: bool) -> None:
    assert glob_match(pattern, path) is expected


_SEGMENT = st.from_regex(r"[A-Za-z0-9_.()+\-]{1,10}", fullmatch=True)
_RELPATH = st.lists(_SEGMENT, min_size=1, max_size=4).map("/".join)


@given(_RELPATH)
def test_a_path_matches_itself_and_doublestar(relpath: str) -> None:
    assert glob_match(relpath, relpath)
    assert glob_match("**", relpath)
    assert glob_match(relpath.rsplit("/", 1)[-1], relpath)  # no slash: the file name


@pytest.mark.parametrize(
    ("relpath", "expected"),
    [
        ("index.html", "text/html; charset=utf-8"),
        ("a/style.CSS", "text/css; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("sitemap.xml", "application/xml; charset=utf-8"),
        ("data.json", "application/json; charset=utf-8"),
        ("logo.svg", "image/svg+xml; charset=utf-8"),
        ("photo.jpeg", "image/jpeg"),
        ("font.woff2", "font/woff2"),
        ("LICENSE", "application/octet-stream"),
        ("thing.unknownext", "application/octet-stream"),
    ],
)
def test_content_type_by_extension(relpath: str, expected: str) -> None:
    assert content_type(relpath) == expected


def test_the_feed_is_atom() -> None:
    assert content_type("feed.xml", atom=frozenset({"feed.xml"})) == (
        "application/atom+xml; charset=utf-8")


def test_cache_control_defaults_and_rules() -> None:
    assert cache_control("blog/index.html", "page") == SHORT
    assert cache_control("sitemap.xml", "generated") == SHORT
    assert cache_control("data/search.json", "static") == SHORT
    assert cache_control("assets/app.3f2a9c1b.js", "static") == IMMUTABLE
    assert cache_control("assets/app-3f2a9c1b0d.css", "static") == IMMUTABLE
    assert cache_control("img/logo.png", "static") == STATIC
    rules = (CacheRule("img/**", "r1"), CacheRule("*.png", "r2"))
    assert cache_control("img/logo.png", "static", rules) == "r1"  # the first match wins
    assert cache_control("x/logo.png", "static", rules) == "r2"
    assert cache_control("x/logo.gif", "static", rules) == STATIC


def test_object_meta_compresses_only_matching_files() -> None:
    settings = DeployConfig(precompress="gzip", compress=("*.html",))
    assert object_meta("a/index.html", "page", settings).encoding == "gzip"
    assert object_meta("a/logo.png", "static", settings).encoding is None
    assert object_meta("a/index.html", "page", DeployConfig()).encoding is None


def test_metadata_fingerprint_changes_with_any_field() -> None:
    base = ObjectMeta("text/html", "x")
    variants = {base, ObjectMeta("text/css", "x"), ObjectMeta("text/html", "y"),
                ObjectMeta("text/html", "x", "gzip")}
    assert len({meta.fingerprint for meta in variants}) == 4


_HEX = st.from_regex(r"[0-9a-f]{64}", fullmatch=True)
_ENTRY = st.builds(RemoteEntry, _HEX, st.from_regex(r"[0-9a-f]{16}", fullmatch=True),
                   st.from_regex(r'"[0-9a-f]{32}"', fullmatch=True))
_URLS = st.lists(st.from_regex(r"https://x\.org/[a-z/]{0,12}", fullmatch=True), max_size=3)


@given(files=st.dictionaries(_RELPATH, _ENTRY, max_size=8),
       purge=st.fixed_dictionaries({}, optional={"new": _URLS, "deleted": _URLS}))
def test_state_round_trips_canonically(files: dict[str, RemoteEntry],
                                       purge: dict[str, list[str]]) -> None:
    state = RemoteState(files, purge)
    data = state.dumps()
    again = RemoteState.loads(data)
    assert again.files == files
    assert {k: sorted(v) for k, v in again.purge.items()} == {
        k: sorted(v) for k, v in purge.items() if v}
    assert again.dumps() == data


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"{nope", "not JSON"),
        (b'{"version": 99, "files": {}}', "unknown state version"),
        (b'{"version": 1, "files": []}', "must be objects"),
        (b'{"version": 1, "files": {"a": ["x", "y"]}}', "bad entry for 'a'"),
        (b'{"version": 1, "files": {}, "purge": {"new": "x"}}', "bad purge list 'new'"),
    ],
)
def test_broken_state_is_a_value_error(data: bytes, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        RemoteState.loads(data)


def test_reconcile_trusts_only_entries_listed_with_their_etag() -> None:
    state = RemoteState({"a": RemoteEntry("1", "m", '"e1"'), "b": RemoteEntry("2", "m", '"e2"'),
                         "gone": RemoteEntry("3", "m", '"e3"')})
    known, unverified, remote = reconcile(state, {"a": '"e1"', "b": '"other"', "c": '"e4"'})
    assert set(known) == {"a"} and unverified == {"b", "c"} and remote == {"a", "b", "c"}
    known, unverified, remote = reconcile(state, None)
    assert set(known) == {"a", "b", "gone"} and unverified == set() and remote == set(known)
    assert reconcile(None, {}) == ({}, set(), set())


_KIND = st.sampled_from(["page", "static", "generated"])
_FILE = st.tuples(_KIND, st.sampled_from(["h1", "h2"]))


@given(local=st.dictionaries(_RELPATH, _FILE, max_size=12),
       remote=st.dictionaries(_RELPATH, st.sampled_from(["h1", "h2", None]), max_size=12),
       delete=st.booleans())
def test_plan_partitions_and_orders(local: dict[str, tuple[str, str]],
                                    remote: dict[str, str | None], delete: bool) -> None:
    meta = ObjectMeta("text/html", SHORT)
    files = {rel: LocalFile(rel, digest, kind, meta) for rel, (kind, digest) in local.items()}
    known = {rel: RemoteEntry(digest, meta.fingerprint) for rel, digest in remote.items()
             if digest is not None}
    plan = make_plan(files, known, set(remote), delete=delete)
    uploads = [item.relpath for item in plan.uploads]
    assert len(uploads) == len(set(uploads)) == len(plan.new) + len(plan.changed)
    assert plan.unchanged + len(uploads) == len(files)
    for rel, item in files.items():
        same = rel in known and known[rel].sha256 == item.sha256
        assert (rel not in uploads) is same
        if rel in uploads:
            assert (rel in plan.new) is (rel not in remote)
    assert plan.deletes == (sorted(set(remote) - set(files)) if delete else [])
    order = [PHASES.index(name) for name, items in plan.phases]
    assert order == sorted(order) and all(items for _, items in plan.phases)
    for name, items in plan.phases:
        for item in items:
            expected = ("static" if item.kind == "static" else "generated"
                        if item.kind == "generated" else
                        "new pages" if item.relpath in plan.new else "changed pages")
            assert name == expected


def test_without_delete_only_the_named_deletions_happen() -> None:
    meta = ObjectMeta("text/html", SHORT)
    files = {"a.html": LocalFile("a.html", "h", "page", meta)}
    remote = {"a.html", "b.html", "c.html"}
    plan = make_plan(files, {}, remote, delete=False, deleted=["b.html", "a.html", "zz"])
    assert plan.deletes == ["b.html"]
    assert make_plan(files, {}, remote, delete=True, deleted=[]).deletes == ["b.html", "c.html"]


def test_a_metadata_change_alone_is_a_change() -> None:
    old, new = ObjectMeta("text/css", "a"), ObjectMeta("text/css", "b")
    files = {"s.css": LocalFile("s.css", "h", "static", new)}
    plan = make_plan(files, {"s.css": RemoteEntry("h", old.fingerprint)}, {"s.css"},
                     delete=False)
    assert plan.changed == {"s.css"} and plan.unchanged == 0


def test_purge_urls_are_page_urls() -> None:
    urls = purge_urls("https://example.com/", ["index.html", "blog/a b/index.html"],
                      ["feed.xml"], ["old/index.html"])
    assert urls == {"new": ["https://example.com/", "https://example.com/blog/a%20b/"],
                    "changed": ["https://example.com/feed.xml"],
                    "deleted": ["https://example.com/old/"]}
    assert page_url("https://x.org", "404.html") == "https://x.org/404.html"


def test_merge_purges_is_a_union() -> None:
    merged = merge_purges({"new": ["a"], "deleted": ["d"]}, {"new": ["b", "a"], "changed": []})
    assert merged == {"new": ["a", "b"], "changed": [], "deleted": ["d"]}
