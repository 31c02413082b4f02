"""``ssgen serve`` over the Sanity source: webhooks re-query the API, waiting for the `_rev`."""

from __future__ import annotations

from pathlib import Path

from sanity_server import SanityTestServer
from servekit import running_server, sanity_webhook
from sitekit import DEFAULT_TOML, author, make_site, post


def sanity_toml(url: str) -> str:
    local = 'type = "local"\nfiles = ["content/data.ndjson"]'
    remote = (f'type = "sanity"\nproject_id = "test"\ndataset = "production"\n'
              f'api_host = "{url}"\nuse_cdn = false')
    return DEFAULT_TOML.replace(local, remote)


def test_a_webhook_requeries_the_api_and_waits_out_replication_lag(tmp_path: Path) -> None:
    with SanityTestServer([author("a1", "Ada"), post(1), post(2)]) as lake:
        site = make_site(tmp_path, toml=sanity_toml(lake.url))
        with running_server(site) as srv:
            page = site / "public" / "blog" / "post-1" / "index.html"
            assert b"Post 1" in page.read_bytes()
            fresh = lake.put(post(1, title="Fresh from the lake"))
            lake.serve_stale(2)  # the next reads still see the old revision
            lake.clear_log()
            reply = sanity_webhook(srv.client, {"_id": "p1", "_type": "post",
                                                "_rev": fresh["_rev"]})
            assert reply.status_code == 200, reply.text
            assert b"Fresh from the lake" in page.read_bytes()
            assert reply.json()["changes"]["changed"] == ["blog/index.html",
                                                          "blog/post-1/index.html"]
            assert all("apicdn" not in r.path for r in lake.log())

            lake.delete("p2")
            reply = sanity_webhook(srv.client, {"_id": "p2", "_type": "post"}, "delete")
            # Its page became the 410 stub (docs/redirects.md).
            assert "blog/post-2/index.html" in reply.json()["changes"]["changed"]
            assert b"<title>Gone</title>" in (site / "public/blog/post-2/index.html").read_bytes()


def test_serve_patches_the_mirror_in_memory_and_writes_it_when_stopping(tmp_path: Path) -> None:
    with SanityTestServer([author("a1", "Ada"), post(1), post(2)]) as lake:
        site = make_site(tmp_path, toml=sanity_toml(lake.url))
        snapshot_file = site / ".ssgen" / "mirror" / "production.ndjson"
        with running_server(site) as srv:
            written = snapshot_file.stat().st_mtime_ns
            fresh = lake.put(post(1, title="Patched in memory"))
            reply = sanity_webhook(srv.client, {"_id": "p1", "_type": "post",
                                                "_rev": fresh["_rev"]})
            assert reply.status_code == 200, reply.text
            page = site / "public" / "blog" / "post-1" / "index.html"
            assert b"Patched in memory" in page.read_bytes()
            assert snapshot_file.stat().st_mtime_ns == written  # not rewritten per webhook
        assert b"Patched in memory" in snapshot_file.read_bytes()  # written on the way out
