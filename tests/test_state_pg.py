"""The manifest on PostgreSQL (a real server, tests/pgkit.py) behaves as on SQLite.

A generated sequence of manifest operations runs on both and every read must agree (the
dialect layer is the only difference); builds with ``SSGEN_STATE_URL`` equal SQLite
builds; the schema is versioned; a fenced connection cannot commit after a takeover.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitekit import author, copy_history, make_site, output_files, post, write_docs

from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.errors import ConfigError, ManifestError
from ssgen.manifest.connect import open_state, set_fence
from ssgen.manifest.pg import FencedOut, close_pools
from ssgen.manifest.schema import SCHEMA_VERSION, PageRecord
from ssgen.manifest.store import Manifest

_PATHS = st.sampled_from([f"/p{i}/" for i in range(6)])
_TAGS = st.lists(st.sampled_from(["doc:a", "doc:b", "type:post", "route:r", "t:x"]),
                 max_size=4)
_OPS = st.one_of(
    st.tuples(st.just("record"), st.lists(st.tuples(_PATHS, _TAGS, st.integers(0, 2)),
                                          max_size=4)),
    st.tuples(st.just("bulk"), st.lists(st.tuples(_PATHS, _TAGS, st.integers(0, 2)),
                                        min_size=65, max_size=70)),
    st.tuples(st.just("remove"), st.lists(_PATHS, max_size=3)),
    st.tuples(st.just("docs"), st.dictionaries(st.sampled_from("abc"), st.sampled_from("xy")),
              st.booleans()),
    st.tuples(st.just("files"), st.lists(st.tuples(st.sampled_from(["a", "b"]),
                                                   st.sampled_from(["h1", "h2"])), max_size=3)),
    st.tuples(st.just("queue"), st.sampled_from(["k1", "k2", None]), st.booleans()),
    st.tuples(st.just("meta"), st.sampled_from(["m1", "m2"]), st.sampled_from(["1", "2"])),
    st.tuples(st.just("failing_tx"), _PATHS),
    st.tuples(st.just("history"), st.lists(st.tuples(_PATHS, st.sampled_from("ab")), max_size=3),
              st.lists(_PATHS, max_size=2), st.lists(_PATHS, max_size=2), st.booleans()),
)


def _apply(m: Manifest, op: tuple[Any, ...]) -> None:
    kind = op[0]
    if kind in ("record", "bulk"):
        m.record_pages([(PageRecord(p, "r", {"v": v}, "t.html", f"d{v}", f"o{v}",
                                    p.strip("/") + "/index.html"), tags) for p, tags, v in op[1]])
    elif kind == "remove":
        m.remove_pages(op[1])
    elif kind == "docs":
        m.set_documents({k: ("post", v) for k, v in op[1].items()}, replace=op[2])
    elif kind == "files":
        m.set_files([(name, digest, "page") for name, digest in op[1]])
    elif kind == "queue":
        job = m.enqueue({"k": op[1]}, key=op[1])
        if op[2]:
            m.ack([job])
    elif kind == "meta":
        m.set_meta(op[1], op[2])
    elif kind == "history":
        m.note_paths([(p, "r", d) for p, d in op[1]], op[2], op[3], full=op[4])
    else:
        with pytest.raises(RuntimeError), m.transaction():
            m.remove_pages([op[1]])
            raise RuntimeError("rolled back")


def _snapshot(m: Manifest) -> dict[str, Any]:
    paths = sorted(m.page_paths())
    return {
        "pages": m.pages(), "paths": paths, "tags": {p: m.tags_of(p) for p in paths},
        "by_tag": {t: m.pages_for_tags([t]) for t in ["doc:a", "doc:b", "type:post", "t:x"]},
        "docs": m.documents(), "files": m.files(), "meta": (m.get_meta("m1"), m.get_meta("m2")),
        "queue": [payload for _, payload in m.pending()], "depth": m.queue_stats()[0],
        "counts": {k: v for k, v in m.counts().items() if k != "meta"},
        "history": m.history(), "gone": sorted(m.gone_paths()),
        "live": sorted(m.live_paths_of(["a", "b"])),
    }


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=st.lists(_OPS, min_size=1, max_size=8))
def test_postgres_and_sqlite_agree(pg_server: Any, tmp_path_factory: pytest.TempPathFactory,
                                   ops: list[tuple[Any, ...]]) -> None:
    url = pg_server.new_database()
    folder = tmp_path_factory.mktemp("lite")
    try:
        with open_state(folder) as lite, open_state(folder, url) as pg:
            for op in ops:
                _apply(lite, op)
                _apply(pg, op)
                assert _snapshot(pg) == _snapshot(lite)
    finally:  # a failing example is shrunk over many databases: free each one's pool
        close_pools()


def _clean(site: Path, tmp: Path, state_url: str) -> dict[str, bytes]:
    copy = tmp / "clean"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(site, copy, ignore=shutil.ignore_patterns("public", ".ssgen"))
    copy_history(site, copy, state_url)
    build(load_config(copy, env={}), full=True)
    return output_files(copy)


def _undated(files: dict[str, Any]) -> dict[str, Any]:
    return {path: dataclasses.replace(record, mtime_ns=0) for path, record in files.items()}


def test_builds_on_postgres_state_equal_sqlite_builds(pg_url: str, tmp_path: Path) -> None:
    site = make_site(tmp_path)
    env = {"SSGEN_STATE_URL": pg_url}
    assert build(load_config(site, env=env)).full
    assert not (site / ".ssgen/manifest.sqlite").exists()
    write_docs(site, [author("a1", "Grace"), post(1), post(3)])
    report = build(load_config(site, env=env))
    assert not report.full and report.ok
    assert output_files(site) == _clean(site, tmp_path, pg_url)
    with open_state(site / ".ssgen", pg_url) as pg, open_state(tmp_path / "clean/.ssgen") as lite:
        assert pg.pages() == lite.pages()
        # Equal but for when each file was written (two builds, two moments).
        assert _undated(pg.files()) == _undated(lite.files())
        assert pg.get_meta("last_success") is not None


def test_schema_is_versioned_and_a_newer_one_refused(pg_url: str) -> None:
    open_state(Path("."), pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        rows = conn.execute("SELECT version FROM ssgen_migrations").fetchall()
        assert rows == [(SCHEMA_VERSION,)]
        conn.execute("INSERT INTO ssgen_migrations VALUES (999, 0)")
    with pytest.raises(ManifestError, match="schema version 999"):
        open_state(Path("."), pg_url)


def test_a_schema_4_database_is_migrated_to_the_path_history(pg_url: str) -> None:
    open_state(Path("."), pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:  # as schema 4 left it
        conn.execute("DROP TABLE path_history")
        conn.execute("DELETE FROM ssgen_migrations")
        conn.execute("INSERT INTO ssgen_migrations VALUES (4, 0)")
    with open_state(Path("."), pg_url) as manifest:
        manifest.note_paths([("/a/", "post", "p1")])
        assert [row.path for row in manifest.history()] == ["/a/"]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT max(version) FROM ssgen_migrations").fetchone() == (5,)


def test_a_fenced_connection_cannot_commit_after_a_takeover(pg_url: str) -> None:
    open_state(Path("."), pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE ssgen_leader SET generation = 7")
    set_fence(7)
    try:
        old = open_state(Path("."), pg_url)
    finally:
        set_fence(None)
    old.set_meta("k", "by 7")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE ssgen_leader SET generation = 8")  # another replica took over
    with pytest.raises(FencedOut, match="superseded by 8"):
        old.set_meta("k", "late write by 7")
    old.close()
    with open_state(Path("."), pg_url) as fresh:
        assert fresh.get_meta("k") == "by 7"


def test_state_url_must_be_postgresql(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    with pytest.raises(ConfigError, match="postgresql://"):
        load_config(site, env={"SSGEN_STATE_URL": "mysql://x"})
    (site / "ssgen.toml").write_text((site / "ssgen.toml").read_text()
                                     + '\n[state]\nurl = "postgresql://u@h/db"\n')
    assert load_config(site, env={}).state_url == "postgresql://u@h/db"


def test_a_paused_builder_loses_the_lock_and_its_late_commit_is_fenced(pg_url: str) -> None:
    from ssgen.manifest.builder import BuilderLock

    first = BuilderLock(pg_url, "first", timeout=1.0)
    assert first.try_acquire()
    try:
        manifest = open_state(Path("."), pg_url)  # fenced to the first builder's generation
    finally:
        set_fence(None)
    manifest.set_meta("k", "first")
    second = BuilderLock(pg_url, "second", timeout=1.0)
    try:
        assert not second.try_acquire()  # the first is alive
        second.acquire(wait=30, poll=0.1)  # the first "pauses": no heartbeat, session ends
        assert second.generation == (first.generation or 0) + 1
        assert not first.alive() and not first.held
        with pytest.raises(FencedOut):
            manifest.set_meta("k", "late")
    finally:
        manifest.close()
        second.release()
        set_fence(None)
    with open_state(Path("."), pg_url) as fresh:
        assert fresh.get_meta("k") == "first" and fresh.get_meta("builder") == "second"


def test_closed_pools_leave_no_connections(pg_server: Any, tmp_path: Path) -> None:
    def open_backends() -> int:
        with psycopg.connect(pg_server.admin, autocommit=True) as conn:
            row = conn.execute("SELECT count(*) FROM pg_stat_activity "
                               "WHERE datname LIKE 't\\_%'").fetchone()
        return int(row[0]) if row else 0

    close_pools()
    before = open_backends()
    for _ in range(5):
        with open_state(tmp_path, pg_server.new_database()) as manifest:
            manifest.counts()
        close_pools()
    deadline = time.monotonic() + 10  # a closed backend leaves pg_stat_activity a moment later
    while open_backends() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert open_backends() == before
