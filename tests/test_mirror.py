"""The Sanity mirror: first sync (export, pages, cut streams, resume), delta syncs, and
builds from it equal to builds from a ``ssgen pull`` snapshot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mirrorkit import config_of, pull_build, server_for, write_site
from test_incremental import SiteModel, snapshot

from ssgen.build.change import Change, DocChange
from ssgen.build.pipeline import build
from ssgen.config.load import Config
from ssgen.errors import SourceError
from ssgen.sources.mirror import mirror_store, sync_mirror
from ssgen.sources.mirror.source import MirrorSource
from ssgen.sources.ndjson import SLACK, SLOT


def mirrored_ids(site: Path) -> list[str]:
    lines = (site / ".ssgen/mirror/production.ndjson").read_text().splitlines()
    return [json.loads(line)["_id"] for line in lines]


def test_second_build_after_one_edit_makes_two_requests_and_equals_a_pull_build(
        tmp_path: Path) -> None:
    model = SiteModel()
    with server_for(model) as server:
        site = tmp_path / "site"
        config = write_site(site, model, server)
        assert build(config, jobs=1).ok
        assert [r.path.split("/")[3] for r in server.requests] == ["export", "query"]
        assert snapshot(site / "public") == pull_build(site, tmp_path / "pulled", server)

        edited = dict(model.docs["p1"], title="Edited once")
        server.put(edited)
        server.clear_log()
        report = build(config_of(site), jobs=1)
        assert report.ok and not report.full
        assert len(server.requests) == 2  # the delta head, then the document by id
        assert any(path.startswith("blog/beta") for path in report.changed)
        assert snapshot(site / "public") == pull_build(site, tmp_path / "pulled", server)


def test_a_deletion_is_found_by_the_count_and_removed(tmp_path: Path) -> None:
    model = SiteModel()
    with server_for(model) as server:
        site = tmp_path / "site"
        assert build(write_site(site, model, server), jobs=1).ok
        server.delete("p2")
        server.clear_log()
        report = build(config_of(site), jobs=1)
        assert report.ok and report.deleted
        assert "p2" not in mirrored_ids(site)
        assert len(server.requests) <= 3
        assert snapshot(site / "public") == pull_build(site, tmp_path / "pulled", server)


def test_without_the_export_api_the_first_sync_pages_through_queries(tmp_path: Path) -> None:
    model = SiteModel()
    with server_for(model) as server:
        server.export_enabled = False
        site = tmp_path / "site"
        config = write_site(site, model, server)
        report = sync_mirror(config)
        assert report.kind == "pages"
        assert mirrored_ids(site) == sorted(model.docs)


def test_a_stream_cut_mid_line_is_completed_by_id(tmp_path: Path) -> None:
    model = SiteModel()
    model.docs["drafts.p0"] = dict(model.docs["p0"], _id="drafts.p0", title="Draft")
    with server_for(model) as server:
        server.inject("cut", api="export", docs=3)
        site = tmp_path / "site"
        report = sync_mirror(write_site(site, model, server))
        assert report.kind == "export" and report.reconciled
        assert mirrored_ids(site) == sorted(model.docs)  # drafts too: the token reads them


def test_an_interrupted_sync_is_never_built_from_and_resumes(tmp_path: Path) -> None:
    model = SiteModel()
    with server_for(model) as server:
        site = tmp_path / "site"
        config = write_site(site, model, server)
        server.inject("cut", api="export", docs=4)
        server.inject("status", count=50, status=500)  # the reconcile cannot finish
        with pytest.raises(SourceError):
            build(config, jobs=1)
        assert not (site / "public").exists()
        assert not (site / ".ssgen/mirror/production.ndjson").exists()
        assert (site / ".ssgen/mirror/production.partial.ndjson").read_text().count("\n") == 4
        server.faults.clear()
        server.clear_log()
        report = sync_mirror(config)
        assert report.kind == "resumed"
        assert server.log("export") == []
        assert report.fetched == 4 + len(model.docs) - 4
        assert mirrored_ids(site) == sorted(model.docs)
        assert not (site / ".ssgen/mirror/production.partial.ndjson").exists()


def test_another_project_or_token_syncs_afresh(tmp_path: Path) -> None:
    model = SiteModel()
    with server_for(model) as server:
        site = tmp_path / "site"
        config = write_site(site, model, server)
        assert sync_mirror(config).kind == "export"
        assert sync_mirror(config).kind == "delta"
        assert sync_mirror(config, token=None).kind == "export"


def kept_and_built(site: Path, model: SiteModel, server: Any) -> tuple[Config, MirrorSource]:
    """The site written and built through a kept mirror source, as serve holds it."""
    config = write_site(site, model, server)
    source = MirrorSource(config, kept=True)
    assert build(config, jobs=1, source=source).ok
    return config, source


def retitle_p0(model: SiteModel, server: Any) -> dict[str, Any]:
    """p0 retitled "Webhooked" on the server; the stored document (its new ``_rev``)."""
    changed: dict[str, Any] = server.put(dict(model.docs["p0"], title="Webhooked"))
    return changed


def test_serve_applies_mutations_by_id(tmp_path: Path) -> None:
    model = SiteModel()
    with server_for(model) as server:
        site = tmp_path / "site"
        config, source = kept_and_built(site, model, server)
        changed = retitle_p0(model, server)
        server.delete("p2")
        server.clear_log()
        snapshot_file = site / ".ssgen/mirror/production.ndjson"
        before = snapshot_file.stat()
        source.apply_change(Change(documents=(DocChange("p0", "post", "update", changed["_rev"]),
                                              DocChange("p2", "post", "delete"))))
        assert len(server.requests) == 1
        # Patched into the kept bytes by id: the 700 MB snapshot of a large site is not
        # rewritten (nor read) for a webhook, only when the server is idle or stops.
        assert snapshot_file.stat().st_mtime_ns == before.st_mtime_ns
        assert "p2" in mirrored_ids(site)
        titles = {d["_id"]: d.get("title") for d in source.documents}
        assert titles["p0"] == "Webhooked" and "p2" not in titles
        report = build(config, jobs=1, source=source, change=Change(documents=()))
        assert report.ok
        assert snapshot(site / "public") == pull_build(site, tmp_path / "pulled", server)
        source.flush()
        assert "p2" not in mirrored_ids(site)
        store = mirror_store(config)
        index = json.loads(store.index_path.read_text())
        assert [row[0] for row in index["rows"]] == mirrored_ids(site)
        assert store.revisions()["p0"] == changed["_rev"]
        kept = source.kept_parse(str(store.path))
        assert kept is not None and bytes(kept[0]) == snapshot_file.read_bytes()
        reads = source.version
        source.reload()  # the written snapshot's stamp was taken: nothing to compare
        assert source.version == reads


def test_a_stale_read_is_retried_until_the_webhook_revision(tmp_path: Path) -> None:
    model = SiteModel()
    with server_for(model) as server:
        site = tmp_path / "site"
        source = MirrorSource(write_site(site, model, server), sleep=lambda _: None)
        changed = server.put(dict(model.docs["p0"], title="Fresh"))
        server.serve_stale(2)
        source.apply_change(Change(documents=(DocChange("p0", "post", "update", changed["_rev"]),)))
        lines = mirror_store(source._config).load()
        assert lines["p0"][0] == changed["_rev"]


def test_an_index_that_does_not_match_its_snapshot_is_ignored(tmp_path: Path) -> None:
    model = SiteModel()
    with server_for(model) as server:
        site = tmp_path / "site"
        config = write_site(site, model, server)
        sync_mirror(config)
        store = mirror_store(config)
        truth = store.load()
        stale = {"stamp": [1, 2, 3], "rows": [["p0", "rev-x"]]}
        store.index_path.write_text(json.dumps(stale))  # a crash between the two renames
        assert store.load() == truth
        assert store.revisions() == {doc_id: rev for doc_id, (rev, _) in truth.items()}
        server.put(dict(model.docs["p0"], title="After a bad index"))
        assert sync_mirror(config).fetched == 1
        assert store.load()["p0"][1].count(b"After a bad index") == 1


def test_an_idle_flush_never_overwrites_a_snapshot_another_build_synced(tmp_path: Path) -> None:
    model = SiteModel()
    with server_for(model) as server:
        site = tmp_path / "site"
        _, source = kept_and_built(site, model, server)
        changed = retitle_p0(model, server)
        source.apply_change(Change(documents=(DocChange("p0", "post", "update", changed["_rev"]),)))
        server.put(dict(model.docs["p1"], title="Synced by a build"))
        assert build(config_of(site), jobs=1).ok  # another process: syncs the snapshot
        source.flush()  # serve idle: its memory lacks p1's edit, so it must not write
        assert b"Synced by a build" in (site / ".ssgen/mirror/production.ndjson").read_bytes()
        source.reload()
        titles = {d["_id"]: d.get("title") for d in source.documents}
        assert titles["p0"] == "Webhooked" and titles["p1"] == "Synced by a build"


def test_a_document_grown_by_a_few_bytes_is_patched_in_place(tmp_path: Path) -> None:
    """The snapshot's lines carry slack (``ndjson.slack``): serve writes a slightly longer
    document over its old line, moving no byte after it; a commit gives each line one slack."""
    model = SiteModel()
    with server_for(model) as server:
        site = tmp_path / "site"
        config, source = kept_and_built(site, model, server)
        store = mirror_store(config)
        data = store.path.read_bytes()
        assert all(len(row) % SLOT == 0 and row.endswith(b" " * SLACK)
                   for row in data.split(b"\n")[:-1])
        changed = server.put(dict(model.docs["p0"], title=model.docs["p0"]["title"] + "!"))
        source.apply_change(Change(documents=(DocChange("p0", "post", "update",
                                                        changed["_rev"]),)))
        kept = source.kept_parse(str(store.path))
        assert kept is not None and len(kept[0]) == len(data)
        assert {d["_id"]: d.get("title") for d in source.documents}["p0"].endswith("!")
        source.flush()
        state = store.state(source.key)
        assert state is not None
        store.commit(store.load(), state)
        committed = store.path.read_bytes()
        assert all(len(row) % SLOT == 0 for row in committed.split(b"\n")[:-1])
        store.commit(store.load(), state)
        assert store.path.read_bytes() == committed
