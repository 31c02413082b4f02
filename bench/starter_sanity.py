"""``bench/starter_bench.py --source sanity``: the grown site served from a Sanity source.

A user whose content lives in Sanity runs ``ssgen serve`` with ``[source] type =
"sanity"`` (the mirror on, as by default); a webhook names the changed document, so
nothing re-reads a 700 MB file. The grown dataset is served by the project's own
Sanity-protocol test server (``tests/sanity_server.py``) on 127.0.0.1, in this process;
each edit is a ``put`` there (a new ``_rev`` and ``_updatedAt``), then the signed
webhook with that ``_rev`` and ``?wait=1``, timed until the reply, and every affected
page checked as in the NDJSON mode. The test server answers queries with ssgen's own
engine over a ``Dataset`` it rebuilds after every write (a real Content Lake does not);
that rebuild is done before the webhook is sent, untimed, so the figures are serve's.
"""

from __future__ import annotations

import json
import random
import sys
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from sanity_server import SanityTestServer  # noqa: E402

LOCAL = ('type = "local"\nfiles = ["content/dataset.ndjson"]\nmarkdown_dir = "content"\n'
         'markdown_type = "page"\n')


def lake_for(site: Path, docs: list[dict[str, Any]] | None = None) -> SanityTestServer:
    """The test server holding the grown dataset (started). ``docs``: the dataset as the
    caller parsed it, held as they are (the server replaces a document on ``put``, never
    edits one; its constructor's deep copy, and a second parse, would each add ~3 GB at
    100,000 posts beside a 7.4 GB server)."""
    if docs is None:
        path = site / "content" / "dataset.ndjson"
        with path.open("rb") as lines:
            docs = [json.loads(line) for line in lines if line.strip()]
    lake = SanityTestServer(project_id="demo1234", dataset="production")
    lake.state.documents = {doc["_id"]: doc for doc in docs}
    return lake.start()


def use_lake(site: Path, lake: SanityTestServer) -> None:
    """Point the site's ``[source]`` at the test server (the mirror on)."""
    toml = site / "ssgen.toml"
    text = toml.read_text()
    if LOCAL not in text:
        start = text.index('type = "sanity"')
        end = text.index("use_cdn = false\n") + len("use_cdn = false\n")
        text = text[:start] + LOCAL + text[end:]
    toml.write_text(text.replace(LOCAL, f'type = "sanity"\napi_host = "{lake.url}"\n'
                                        'use_cdn = false\n'))


class LakeEdits:
    """Retitle a post on the test server (the bench's ``Dataset`` keeps its copy)."""

    def __init__(self, lake: SanityTestServer) -> None:
        self.lake = lake
        self.run = uuid.uuid4().hex[:8]  # serve remembers idempotency keys for a day

    def retitle(self, data: Any, rng: random.Random) -> dict[str, Any]:
        data.round += 1
        doc = rng.choice(data.order)
        doc["title"] = f"{doc['title'].split(' [')[0]} [edit {data.round}]"
        stored = self.lake.put(doc)
        doc["_rev"] = stored["_rev"]
        self.lake._dataset("raw", False)  # the fake lake's rebuild, untimed (see above)
        return doc

    def key(self, doc: dict[str, Any]) -> str:
        return f"{self.run}-{doc['_id']}-{doc['_rev']}"
