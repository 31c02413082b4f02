"""Incremental equals full on the Sanity source, driven by webhook-style changes (hypothesis).

The server does not say which documents a query read, so the build derives `doc:` tags
from the result and re-queries conservatively. Each step edits the dataset on the test
server, hands the build the Change a Sanity webhook would carry (the edited documents'
ids, types and operations), and compares the output with a clean full build, in the
``published`` or the ``drafts`` perspective. Such a source cannot be diffed: the
webhook's change is all the build knows, so a draft's change must reach the pages of its
published id (a draft retyped out of the routes names only the draft and its new type).
"""

from __future__ import annotations

import copy
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sanity_server import SanityTestServer
from sitekit import copy_history
from test_drafts_property import draft_retype
from test_incremental import DOC_EDITS, SiteModel, snapshot
from test_mirror_mutations_property import retype

from ssgen.build.change import Change
from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.serve import webhooks
from ssgen.serve.webhooks import sanity_delivery
from ssgen.sources import sanity
from ssgen.sources.sanity import SanitySource

REMOTE = 'type = "sanity"\nproject_id = "test1234"\ndataset = "production"\nuse_cdn = false'

TOKEN = "sk-remote-token"  # the drafts perspective needs one
# Markdown files are not in the remote dataset.
edits = st.one_of(*DOC_EDITS, st.builds(draft_retype, st.integers(0, 10)),
                  st.builds(retype, st.integers(0, 10)))


# A list of posts that dereferences nothing: a remote source's change of another type
# does not re-query it (every other route of the site dereferences, and is re-queried
# for a change of any type).
TITLES = """
[[routes]]
name = "titles"
path = "/titles/"
template = "titles.html"
query = '*[_type == "post"] | order(_id asc){_id, title}'
"""
# A list whose projection drops ``_id``: it learns of a post retyped out of it only from
# the webhook's ``typeBefore``. Published perspective only: in the drafts perspective a
# new draft of another type hides its published post, and ``before()`` of a draft's
# creation is null (a limit docs/incremental.md gives).
BARE = """
[[routes]]
name = "bare"
path = "/bare/"
template = "bare.html"
query = '*[_type == "post"] | order(title asc){title}'
"""


def remote(site: Path, perspective: str = "published") -> None:
    (site / "templates" / "titles.html").write_text(
        "{% for p in page %}{{ p._id }}={{ p.title }};{% endfor %}")
    (site / "templates" / "bare.html").write_text("{% for p in page %}{{ p.title }};{% endfor %}")
    toml = (site / "ssgen.toml").read_text() + TITLES + (BARE if perspective == "published"
                                                           else "")
    toml = toml.replace('type = "local"\nfiles = ["content/data.ndjson"]',
                        f'{REMOTE}\nperspective = "{perspective}"')
    (site / "ssgen.toml").write_text(toml.replace('markdown_dir = "content"\n', ""))


def webhook_change(before: dict[str, Any], after: dict[str, Any]) -> Change:
    """What serve makes of the Sanity webhooks the edit fires, one a document, each with
    the projection docs/sanity-studio.md gives (``typeBefore``: ``before()._type``)."""
    change = Change()
    for doc_id in sorted(before.keys() | after.keys()):
        old, new = before.get(doc_id), after.get(doc_id)
        if old == new:
            continue
        operation = "create" if old is None else "delete" if new is None else "update"
        body = {"_id": doc_id, "_type": (new or old or {}).get("_type"),
                "typeBefore": (old or {}).get("_type")}
        change = change.merge(sanity_delivery({"sanity-operation": operation}, body).change)
    return change


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
    return SanitySource(config, api_host=server.url, use_cdn=False, token=TOKEN,
                        backoff_base=0.001, backoff_jitter=0.001)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(edits, min_size=1, max_size=5),
       perspective=st.sampled_from(["published", "drafts"]))
# A post's draft made an article: only the draft's id and its new type reach the build.
@example(steps=[draft_retype(0)], perspective="drafts")
# A post made an article: the list without ``_id`` must drop it.
@example(steps=[retype(0)], perspective="published")
def test_remote_incremental_output_equals_full_build(steps: list[Any], perspective: str) -> None:
    run(steps, perspective)


def run(steps: list[Any], perspective: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        site, scratch = Path(tmp) / "site", Path(tmp) / "scratch"
        model = SiteModel()
        model.markdown = {}
        model.write(site)
        remote(site, perspective)
        with SanityTestServer(list(model.docs.values()), token=TOKEN) as server:
            config = load_config(site)
            assert build(config, jobs=1, source=source_for(config, server)).ok
            for step in steps:
                before = copy.deepcopy(model.docs)
                step(model)
                model.write(site)
                remote(site, perspective)
                sync(server, before, model.docs)
                change = webhook_change(before, model.docs)
                config = load_config(site)
                report = build(config, jobs=1, change=change, source=source_for(config, server))
                assert report.ok, report.failures
                assert not report.full
                assert snapshot(site / "public") == full_build(site, scratch, server)


def test_mutant_a_draft_change_without_its_published_id_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A draft's change that reaches only ``doc:drafts.<id>`` pages, and pages that
    record only the ids their results hold: the published id's pages, which the drafts
    perspective shows the draft on, are not reached. Either half alone is no mutant: a
    page of this source records ``drafts.<id>`` beside each id it holds
    (``batch.collect_ids``), and a change's ``doc_tags`` name the published id beside
    the draft's; each covers the other (a local source, or the mirror, diffs the
    documents as the queries see them: the published id again)."""
    def draft_ids_only(self: Change) -> set[str]:
        return {f"doc:{doc.id}" for doc in self.documents} | {
            f"type:{doc.type}" for doc in self.documents} | {"type:*"}
    collect = sanity.collect_ids
    monkeypatch.setattr(Change, "doc_tags", draft_ids_only)
    monkeypatch.setattr(sanity, "collect_ids", lambda value, drafts=False: collect(value))
    with pytest.raises(AssertionError):
        run([draft_retype(0)], "drafts")


def test_mutant_a_webhook_without_the_type_before_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The webhook's ``typeBefore`` ignored: the list of posts without ``_id`` keeps a
    post made an article (its change names only the new type)."""
    monkeypatch.setattr(webhooks, "_type_before", lambda body, doc_type: frozenset())
    with pytest.raises(AssertionError):
        run([retype(0)], "published")
