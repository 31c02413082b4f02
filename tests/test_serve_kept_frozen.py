"""Serve's kept source is frozen out of the collector's reach once loaded (``cli.serve``):
the collector's next passes would otherwise walk every document it loaded (at 100,000
posts three passes, 20 s of serve's start). Mutant caught: the source left unfrozen."""

from __future__ import annotations

import gc
from pathlib import Path

from sitekit import author, make_site, mutant, post, write_docs

from ssgen.cli import serve
from ssgen.config.load import load_config
from ssgen.sources.local import LocalSource


def _frozen_after_open(tmp_path: Path) -> bool:
    site = make_site(tmp_path)
    write_docs(site, [author("a1", "Ada"), *(post(n) for n in range(1, 40))])
    gc.unfreeze()
    try:
        source = serve.kept_source(load_config(site))
        assert isinstance(source, LocalSource)
        tracked = {id(obj) for obj in gc.get_objects()}  # the permanent generation's not
        return all(id(doc) not in tracked for doc in source.dataset.documents)
    finally:
        gc.unfreeze()


def test_the_kept_source_is_frozen_once_loaded(tmp_path: Path) -> None:
    assert _frozen_after_open(tmp_path)


def test_mutant_source_left_unfrozen_is_caught(tmp_path: Path) -> None:
    with mutant(gc, "freeze", lambda: None):
        assert not _frozen_after_open(tmp_path)
