"""`serve --listen`: Listen API mutations from the Sanity test server become queued changes."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from sanity_server import SanityTestServer

from ssgen.build.change import Change
from ssgen.serve.listen import ListenBridge
from ssgen.sources.sanity import SanitySource


class Recorder:
    def __init__(self) -> None:
        self.changes: list[tuple[Change, str | None]] = []
        self.event = threading.Event()

    def submit(self, change: Change, key: str | None = None) -> Any:
        self.changes.append((change, key))
        self.event.set()
        return len(self.changes)


def test_mutations_become_document_changes() -> None:
    docs = [{"_id": "a1", "_type": "author", "name": "Ada"}]
    with SanityTestServer(docs) as server:
        source = SanitySource(server.settings(), use_cdn=False)
        recorder = Recorder()
        bridge = ListenBridge(
            lambda on_event: source.listen("*", on_event), recorder
        )
        bridge.start()
        try:
            deadline = time.monotonic() + 10
            while not server.log("listen") and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.2)
            server.put({"_id": "p1", "_type": "post", "title": "Hello"})
            assert recorder.event.wait(10), "no change arrived from the Listen API"
            server.delete("a1")
            deadline = time.monotonic() + 10
            while len(recorder.changes) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            bridge.stop()
            source.close()
    (first, first_key), (second, _) = recorder.changes[:2]
    assert [(d.id, d.type, d.operation) for d in first.documents] == [("p1", "post", "create")]
    assert first_key is not None and first_key.startswith("listen:")
    assert [(d.id, d.operation) for d in second.documents] == [("a1", "delete")]
    assert bridge.error is None


def test_listen_needs_the_sanity_source(tmp_path: Path) -> None:
    from sitekit import make_site, run_cli

    site = make_site(tmp_path)
    result = run_cli("--site", str(site), "serve", "--dev", "--listen", "--port", "0")
    assert result.exit_code == 2
    assert '[source] type = "sanity"' in result.output
