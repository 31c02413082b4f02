"""bench/gen_dataset.py: deterministic, Sanity-shaped datasets of any size."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from default_site_data import ROOT, SCAFFOLD, load_generator, refs
from hypothesis import given, settings
from hypothesis import strategies as st

gen = load_generator()


def check_dataset(docs: list[dict[str, Any]]) -> Counter[str]:
    """The invariants every generated dataset keeps; returns the count of each _type."""
    ids = [d["_id"] for d in docs]
    assert len(set(ids)) == len(ids)
    known = set(ids)
    assert {r for d in docs for r in refs(d)} <= known
    published = [d for d in docs if not d["_id"].startswith("drafts.")]
    for doc_type in ("post", "author", "category"):
        slugs = [d["slug"]["current"] for d in published if d["_type"] == doc_type]
        assert len(set(slugs)) == len(slugs), doc_type
        assert all(slugs), doc_type
    return Counter(d["_type"] for d in published)


def test_committed_dataset_is_the_generator_output(tmp_path: Path) -> None:
    """With its own image assets as the pool (scripts/make_starter_images.py made them)."""
    committed = ROOT / "content" / "dataset.ndjson"
    out = tmp_path / "dataset.ndjson"
    gen.write_ndjson(gen.generate(pool=gen.read_pool(committed)), out)
    assert out.read_bytes() == committed.read_bytes()


def test_committed_scaffold_dataset_is_the_starter_output(tmp_path: Path) -> None:
    out = tmp_path / "dataset.ndjson"
    pool = ROOT / "content" / "dataset.ndjson"
    assert gen.main(["--starter", "--assets", str(pool), "--out", str(out)]) == 0
    assert out.read_bytes() == (SCAFFOLD / "content" / "dataset.ndjson").read_bytes()


def test_a_pool_changes_only_the_assets_and_their_framing() -> None:
    plain = gen.generate(posts=6, authors=2, categories=2, seed=5)
    pool = gen.read_pool(ROOT / "content" / "dataset.ndjson")
    pooled = gen.generate(posts=6, authors=2, categories=2, seed=5, pool=pool)
    check_dataset(pooled)
    strip = ("mainImage", "image", "body")
    assert [{k: v for k, v in d.items() if k not in strip} for d in plain
            if d["_type"] != "sanity.imageAsset"] == \
           [{k: v for k, v in d.items() if k not in strip} for d in pooled
            if d["_type"] != "sanity.imageAsset"]
    assets = [d for d in pooled if d["_type"] == "sanity.imageAsset"]
    assert {a["_id"] for a in assets} <= {a["_id"] for kind in pool.values() for a in kind}


def test_same_seed_same_bytes_other_seed_other_text() -> None:
    first, again = gen.generate(posts=5, seed=3), gen.generate(posts=5, seed=3)
    assert json.dumps(first) == json.dumps(again)
    assert json.dumps(first) != json.dumps(gen.generate(posts=5, seed=4))


@settings(max_examples=25, deadline=None)
@given(
    posts=st.integers(1, 90),
    authors=st.integers(1, 12),
    categories=st.integers(1, 14),
    seed=st.integers(0, 2**32),
)
def test_any_size_keeps_the_shape(posts: int, authors: int, categories: int, seed: int) -> None:
    docs = gen.generate(posts, authors, categories, seed)
    counts = check_dataset(docs)
    assert (counts["post"], counts["author"], counts["category"]) == (posts, authors, categories)
    assert counts["siteSettings"] == 1
    # one cover per post, one portrait per author, one cover for the unpublished draft
    assert counts["sanity.imageAsset"] == posts + authors + 1
    assert sum(d["_id"].startswith("drafts.") for d in docs) == 2


@pytest.mark.parametrize("target", [1000, 3000])
def test_docs_target_is_met_within_two_percent(target: int) -> None:
    docs = gen.generate(*gen.sizes_for(target))
    check_dataset(docs)
    assert abs(len(docs) - target) <= target * 0.02


def test_cli_writes_ndjson(tmp_path: Path) -> None:
    out = tmp_path / "nested" / "d.ndjson"
    assert gen.main(["--docs", "200", "--out", str(out), "--seed", "1"]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert abs(len(lines) - 200) <= 4
    assert all(json.loads(line)["_id"] for line in lines)


def test_sizes_below_one_are_rejected_with_a_message() -> None:
    with pytest.raises(ValueError, match="posts, authors and categories must each be at least 1"):
        gen.generate(posts=0)
