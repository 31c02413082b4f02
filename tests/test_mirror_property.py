"""Mirror mode equals a full build, whatever reaches it (hypothesis).

Random edit sequences (creates, updates, deletions, drafts appearing and disappearing,
references retargeted, template edits) go to the Sanity test server; each step reaches
the mirror one way: a webhook (ids, types, operations and ``_rev``s), a Listen event
(an id and a transition, no revision) applied by serve's ``MirrorSource``, or a CI build
that syncs by itself (from a snapshot that lacks what serve patched in memory unless
serve was idle since, ``flush``). After each step the site equals a clean full build
from a ``ssgen pull`` snapshot of the server.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mirrorkit import config_of, mirrored, pull_build, write_site
from sanity_server import SanityTestServer
from test_incremental import DOC_EDITS, snapshot

from ssgen.build.change import Change, DocChange
from ssgen.build.pipeline import build

CHANNELS = ("webhook", "listen", "ci")


def apply(server: SanityTestServer, before: dict[str, Any], after: dict[str, Any],
          with_revs: bool) -> Change:
    """Make the server hold ``after``; the Change a webhook (or Listen) delivery carries."""
    docs = []
    for doc_id in sorted(before.keys() | after.keys()):
        old, new = before.get(doc_id), after.get(doc_id)
        if old == new:
            continue
        if new is None:
            server.delete(doc_id)
            docs.append(DocChange(doc_id, old["_type"] if old else None, "delete"))
            continue
        rev = server.put(new)["_rev"]
        operation = "create" if old is None else "update"
        docs.append(DocChange(doc_id, new["_type"] if with_revs else None, operation,
                              rev if with_revs else None))
    return Change(documents=tuple(docs))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(st.one_of(*DOC_EDITS), st.sampled_from(CHANNELS),
                                st.booleans()),
                      min_size=1, max_size=4),
       drafts=st.booleans())
def test_mirror_output_equals_a_full_build(steps: list[Any], drafts: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp, mirrored(Path(tmp), drafts) as mirror:
        site, scratch, model, server = mirror.site, mirror.scratch, mirror.model, mirror.server
        extra, config, source = mirror.extra, mirror.config, mirror.source
        for edit, channel, idle in steps:
            before = copy.deepcopy(model.docs)
            edit(model)
            config = write_site(site, model, server, extra)
            change = apply(server, before, model.docs, with_revs=channel == "webhook")
            if channel == "ci":
                report = build(config_of(site), jobs=1)
            else:
                source.reload()
                source.apply_change(change)
                report = build(config, jobs=1, source=source, change=change)
            assert report.ok, report.failures
            assert snapshot(site / "public") == pull_build(site, scratch, server)
            if idle:  # serve idle: the lines patched in memory written to the snapshot
                source.flush()
