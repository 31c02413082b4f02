"""Sites that build from a mirror of the Sanity test server, and the builds they are compared with."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sanity_server import SanityTestServer
from sitekit import copy_history
from test_incremental import SiteModel, snapshot

from ssgen.build.pipeline import build
from ssgen.config.load import Config, load_config
from ssgen.sources.mirror.source import MirrorSource
from ssgen.sources.pull import pull

TOKEN = "sk-mirror-token"
ENV = {"SANITY_API_TOKEN": TOKEN}
LOCAL = 'type = "local"\nfiles = ["content/data.ndjson"]\nmarkdown_dir = "content"'


def sanity_toml(model_toml: str, server: SanityTestServer, extra: str = "") -> str:
    source = (f'type = "sanity"\nproject_id = "{server.project_id}"\n'
              f'dataset = "{server.dataset}"\napi_host = "{server.url}"\nuse_cdn = false\n{extra}')
    return model_toml.replace(LOCAL, source)


def write_site(site: Path, model: SiteModel, server: SanityTestServer, extra: str = "") -> Config:
    """The model's templates and config, its documents on the server (not on disk)."""
    model.markdown = {}
    model.write(site)
    (site / "content" / "data.ndjson").unlink()
    toml = (site / "ssgen.toml").read_text()
    (site / "ssgen.toml").write_text(sanity_toml(toml, server, extra))
    return config_of(site)


def config_of(site: Path) -> Config:
    return load_config(site, env=ENV)


def server_for(model: SiteModel) -> SanityTestServer:
    return SanityTestServer(list(model.docs.values()), token=TOKEN)


@dataclass
class Mirrored:
    """A model site on a Sanity test server, built once through a kept mirror."""

    site: Path
    scratch: Path  # where ``pull_build`` makes its clean build
    model: SiteModel
    server: SanityTestServer
    extra: str  # the ``[source]`` lines ``write_site`` takes again after each edit
    config: Config
    source: MirrorSource


@contextmanager
def mirrored(tmp: Path, drafts: bool) -> Iterator[Mirrored]:
    """``Mirrored`` in ``tmp`` (``drafts``: the drafts perspective), its server running."""
    extra = 'perspective = "drafts"\n' if drafts else ""
    model = SiteModel()
    with server_for(model) as server:
        config = write_site(tmp / "site", model, server, extra)
        source = MirrorSource(config, kept=True, drafts=drafts, sleep=lambda _: None)
        assert build(config, jobs=1, source=source).ok
        yield Mirrored(tmp / "site", tmp / "scratch", model, server, extra, config, source)


def put_all(server: SanityTestServer, before: dict[str, Any], after: dict[str, Any]) -> None:
    """Make the server hold ``after`` (changed documents only: unchanged keep their _rev)."""
    for doc_id in before.keys() - after.keys():
        server.delete(doc_id)
    for doc_id, doc in after.items():
        if before.get(doc_id) != doc:
            server.put(doc)


def pull_build(site: Path, scratch: Path, server: SanityTestServer) -> dict[str, bytes]:
    """A clean full build of the same site from a ``ssgen pull`` snapshot of the server,
    no page failing."""
    output, failing = pull_clean_build(site, scratch, server)
    assert not failing, failing
    return output


def pull_clean_build(site: Path, scratch: Path, server: SanityTestServer
                     ) -> tuple[dict[str, bytes], list[str]]:
    """``pull_build``'s output and the paths of the pages that fail in it (a slug whose
    path would leave the output folder)."""
    if scratch.exists():
        shutil.rmtree(scratch)
    shutil.copytree(site, scratch, ignore=shutil.ignore_patterns("public", ".ssgen"))
    copy_history(site, scratch)
    pull(config_of(site), scratch / "content" / "data.ndjson", token=TOKEN)
    toml = (scratch / "ssgen.toml").read_text()
    start = toml.index('type = "sanity"')
    end = toml.index("use_cdn = false\n") + len("use_cdn = false\n")
    local = 'type = "local"\nfiles = ["content/data.ndjson"]\nmarkdown_dir = ""\n'
    (scratch / "ssgen.toml").write_text(toml[:start] + local + toml[end:])
    report = build(load_config(scratch, env={}), full=True, jobs=1)
    return snapshot(scratch / "public"), sorted(f.path for f in report.failures)
