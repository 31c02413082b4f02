"""The local view's first load (``View._first``) against the general diff path: the same
dataset, state, faults, digests and log, whatever the files hold (duplicate ``_id``s,
drafts, versions, documents with and without line digests)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ssgen.sources.local.view import View
from ssgen.sources.ndjson import Loaded

IDS = st.sampled_from(["a", "b", "c", "drafts.a", "drafts.d", "versions.r1.a", "md.x"])
DOC = st.fixed_dictionaries({"_id": IDS, "_type": st.sampled_from(["page", "post"]),
                             "n": st.integers(0, 3)})
FILE = st.tuples(st.lists(DOC, max_size=4), st.booleans())


def loads_of(files: list[tuple[list[dict[str, Any]], bool]]) -> list[Loaded]:
    out = []
    for index, (docs, digested) in enumerate(files):
        loaded = Loaded(f"f{index}.ndjson", [dict(doc) for doc in docs],
                        list(range(1, len(docs) + 1)))
        if digested:
            loaded.digests = [f"line-{index}-{i}" for i in range(len(docs))]
        out.append(loaded)
    return out


def seen(view: View) -> tuple[Any, ...]:
    return (view.dataset.documents, view.dataset.by_id, view.state, view.faults, view.version,
            view.changed_since(0), view._digests, view._raw, view._deduped)


@settings(max_examples=200, deadline=None)
@given(files=st.lists(FILE, max_size=4), perspective=st.sampled_from(["published", "raw"]))
def test_the_first_load_equals_the_general_path(
        files: list[tuple[list[dict[str, Any]], bool]], perspective: str) -> None:
    fast = View(perspective, name=None, project_id=None)
    slow = View(perspective, name=None, project_id=None)
    loads = loads_of(files)
    assert fast.update(loads, []) is True
    changes, digests = slow._merged(loads)
    assert slow._commit(changes, digests) is True
    assert seen(fast) == seen(slow)
    # And it goes on as one: a reload after the first load takes the general path.
    again = loads_of([*files, ([{"_id": "new", "_type": "page"}], True)])
    for view in (fast, slow):
        view.update(again, [])
    assert seen(fast) == seen(slow)
