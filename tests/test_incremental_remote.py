"""Incremental equals full on the Sanity source, driven by webhook-style changes (hypothesis).

The server does not say which documents a query read, so the build derives `doc:` tags
from the result and re-queries conservatively. Each step edits the dataset on the test
server, hands the build the Change a Sanity webhook would carry (the edited documents'
ids, types and operations), and compares the output with a clean full build.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sanity_server import SanityTestServer
from sitekit import copy_history
from test_incremental import DOC_EDITS, SiteModel, snapshot

from ssgen.build.change import Change, DocChange
from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.sources.sanity import SanitySource

REMOTE = 'type = "sanity"\nproject_id = "test1234"\ndataset = "production"\nuse_cdn = false'

edits = st.one_of(*DOC_EDITS)  # Markdown files are not in the remote dataset


def remote(site: Path) -> None:
    toml = (site / "ssgen.toml").read_text()
    toml = toml.replace('type = "local"\nfiles = ["content/data.ndjson"]', REMOTE)
    (site / "ssgen.toml").write_text(toml.replace('markdown_dir = "content"\n', ""))


def webhook_change(before: dict[str, Any], after: dict[str, Any]) -> Change:
    docs = []
    for doc_id in sorted(before.keys() | after.keys()):
        old, new = before.get(doc_id), after.get(doc_id)
        if old == new:
            continue
        operation = "create" if old is None else "delete" if new is None else "update"
        doc_type = (new or old or {}).get("_type")
        docs.append(DocChange(doc_id, doc_type, operation))  # type: ignore[arg-type]
    return Change(documents=tuple(docs))


def sync(server: SanityTestServer, before: dict[str, Any], after: dict[str, Any]) -> None:
    for doc_id in before.keys() - after.keys():
        server.delete(doc_id)
    for doc_id, doc in after.items():
        if before.get(doc_id) != doc:
            server.put(doc)


def full_build(site: Path, scratch: Path, server: SanityTestServer) -> dict[str, bytes]:
    if scratch.exists():
        shutil.rmtree(scratch)
    shutil.copytree(site, scratch, ignore=shutil.ignore_patterns("public", ".ssgen"))
    copy_history(site, scratch)
    config = load_config(scratch)
    assert build(config, full=True, jobs=1, source=source_for(config, server)).ok
    return snapshot(scratch / "public")


def source_for(config: Any, server: SanityTestServer) -> SanitySource:
    return SanitySource(config, api_host=server.url, use_cdn=False, token=None,
                        backoff_base=0.001, backoff_jitter=0.001)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(edits, min_size=1, max_size=5))
def test_remote_incremental_output_equals_full_build(steps: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        site, scratch = Path(tmp) / "site", Path(tmp) / "scratch"
        model = SiteModel()
        model.markdown = {}
        model.write(site)
        remote(site)
        with SanityTestServer(list(model.docs.values())) as server:
            config = load_config(site)
            assert build(config, jobs=1, source=source_for(config, server)).ok
            for step in steps:
                before = copy.deepcopy(model.docs)
                step(model)
                model.write(site)
                remote(site)
                sync(server, before, model.docs)
                change = webhook_change(before, model.docs)
                config = load_config(site)
                report = build(config, jobs=1, change=change, source=source_for(config, server))
                assert report.ok, report.failures
                assert not report.full
                assert snapshot(site / "public") == full_build(site, scratch, server)
