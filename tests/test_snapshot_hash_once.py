"""A full build's snapshot carries the page hashes its render workers took, and is read
from a map of its file.

``carry.keep`` takes each page's data hash as the workers sent it back
(``RenderPlan.data_hashes`` after the render) instead of hashing every page again in
the parent; only pages with long lists are hashed there (the memo keeps their items'
hashes). The properties: the parent hashes exactly those pages; a memo entry adopted
from a worker's hash is the entry hashing would have made; and a new process after
such a full build, with edits, builds what a clean full build does. Mutants caught:
the hook that hands the workers' hashes over removed (the parent hashes every page),
``adopt_digest`` taking pages with long lists too (the per-item hashes are lost).
The in-place decode (``codec.decode`` over a map): a map can be closed after a good
body and after a refused one, with the same results as from bytes.
"""

from __future__ import annotations

import mmap
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitekit import AUTHORS, CATEGORIES, CardSite, card_post, forget_process, output_files

from ssgen.build.memo import datahash
from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.routes.page import PageSpec
from ssgen.sources.snapshot import codec

POSTS = 430  # 215 blog pages (two cards each) and four list pages: the workers fork


def big_site() -> CardSite:
    site = CardSite()
    for i in range(4, POSTS):
        site.docs[f"p{i}"] = card_post(f"p{i}", f"T{i:04d}", AUTHORS[i % 2],
                                       CATEGORIES[: i % 3])
    return site


def full(site: CardSite, root: Path, jobs: int) -> dict[str, bytes]:
    shutil.rmtree(root, ignore_errors=True)
    site.write(root)
    forget_process()
    assert build(load_config(root), full=True, jobs=jobs).ok
    return output_files(root)


def test_the_snapshot_hashes_only_the_pages_with_long_lists(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pages ``carry.keep`` hashes for the memo (the render hashes the others, in
    the workers and in this process, which renders its share too)."""
    hashed: list[str] = []
    taken = datahash.page_data_hash

    def counted(spec: PageSpec, site: str = "") -> str:
        hashed.append(spec.path)
        return taken(spec, site)

    monkeypatch.setattr(datahash, "page_data_hash", counted)  # carry's calls, not the render's
    full(big_site(), tmp_path / "site", jobs=2)
    assert len(datahash._KNOWN) > 200  # every page is in the memo the snapshot carries
    assert sorted(hashed) == sorted(
        path for (_, path), known in datahash._KNOWN.items() if known.lists)
    assert len(hashed) == 4  # two authors, two categories


def test_a_new_process_after_a_forked_full_build_equals_a_clean_one(tmp_path: Path) -> None:
    site, root = big_site(), tmp_path / "site"
    full(site, root, jobs=2)
    for step, (post, title) in enumerate([(7, "A0000"), (300, "T0007x"), (11, "Z")]):
        site.docs[f"p{post}"]["title"] = title
        site.write(root)
        forget_process()
        assert build(load_config(root), jobs=1).ok
        assert output_files(root) == full(site, tmp_path / f"clean{step}", jobs=1)


cards = st.fixed_dictionaries({"title": st.text(max_size=5), "n": st.integers(0, 9)})
contexts = st.fixed_dictionaries({
    "page": st.one_of(st.lists(cards, max_size=40), cards,
                      st.fixed_dictionaries({"posts": st.lists(cards, max_size=40)})),
    "site": st.just({"title": "S"}),
})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contexts)
def test_an_adopted_hash_is_the_entry_hashing_makes(context: dict[str, Any]) -> None:
    spec = PageSpec("/p/", "r", "t.html", context, frozenset())
    datahash.forget("s")
    digest = datahash.page_data_hash(spec, "s")
    hashed = datahash._KNOWN[("s", "/p/")]
    datahash.forget("s")
    adopted = datahash.adopt_digest(spec, "s", digest)
    assert adopted == (not hashed.lists)  # pages with long lists are hashed, not adopted
    if adopted:
        known = datahash._KNOWN[("s", "/p/")]
        assert (known.spec, known.own, known.digest, known.lists) == (
            hashed.spec, hashed.own, hashed.digest, hashed.lists)
        assert datahash.page_data_hash(spec, "s") == digest
    else:
        assert ("s", "/p/") not in datahash._KNOWN
    datahash.forget("s")


@pytest.mark.parametrize("cut", [None, 1, 9, -3])
def test_a_map_decodes_as_bytes_do_and_closes_after(tmp_path: Path, cut: int | None) -> None:
    value = {"a": [1, (2, 3), "x" * 300], "b": frozenset("xy"), "c": b"z" * 70_000}
    body = codec.encode(value)
    if cut is not None:
        body = body[:cut]
    path = tmp_path / "body"
    path.write_bytes(b"head" + body)
    with open(path, "rb") as file:
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        found = codec.decode(memoryview(mapped), 4)
    except codec.Refused:
        found = codec.Refused
        with pytest.raises(codec.Refused):
            codec.decode(b"head" + body, 4)
    else:
        assert found == codec.decode(b"head" + body, 4) == value
    mapped.close()  # nothing decoded (or refused) holds a view of it
    assert (found is codec.Refused) == (cut is not None)
