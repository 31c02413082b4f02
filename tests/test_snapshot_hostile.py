"""Hostile ``.ssgen/source.snapshot`` files run no code and never fail a build.

Whoever can write ``.ssgen/`` (a CI cache a fork's pull request filled) can put any
bytes there, with the right key and checksum (neither is a secret). The snapshot's
decoder (``ssgen.sources.snapshot.codec``) resolves no name but those of ssgen's state
classes, so:

- real pickle payloads that run code under ``pickle.loads`` (shown to, each time: the
  marker file appears) run nothing when a build meets them, and the build's output
  equals a clean full build's;
- bodies damaged or forged at random (truncated, bit-flipped, spans overwritten, the
  checksum made right again) are refused or resumed, never an exception from ``resume``;
- a state of the wrong shape (wrong root, missing keys, a wrong type inside) is ignored.

Mutant caught: a decoder that resolves every name (the old ``pickle.loads``).
"""

from __future__ import annotations

import contextlib
import io
import pickle
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitekit import CardSite as Site
from sitekit import (
    forget_process,
    full_card_build,
    new_process,
    output_files,
    retitle,
    snapshot_file,
)
from test_source_snapshot import start

from ssgen.config.load import load_config
from ssgen.groq.dataset import Dataset
from ssgen.sources import snapshot as snap
from ssgen.sources.local import LocalSource
from ssgen.sources.snapshot import codec

HEAD = len(snap.MAGIC) + snap._KEY + snap._SUM


class RunsCode:
    """Pickles into a call of ``exec`` that writes ``marker``: what an attacker ships."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return exec, (f"open({str(self.marker)!r}, 'w').write('ran')",)


class CallsAllowed:
    """Pickles into a REDUCE of an allowed class with arguments of the attacker's."""

    def __reduce__(self) -> tuple[Any, ...]:
        return Dataset, ([{"_id": "x", "_type": "y"}],)


class PersistentId(pickle.Pickler):
    def persistent_id(self, obj: Any) -> Any:
        return "pid" if isinstance(obj, str) and obj == "ssgen-source" else None


def forge(root: Path, body: bytes) -> None:
    """Write ``body`` as the site's snapshot under the right key and checksum."""
    key = snap.snapshot_key(load_config(root), "published")
    header = snap.MAGIC + key + snap.checksum_of(body).to_bytes(snap._SUM, "big")
    _replace(snapshot_file(root), header + body)


def _replace(path: Path, data: bytes) -> None:
    """Write ``data`` at ``path`` by a rename, as ssgen replaces a snapshot: a lazily
    resumed one still mapped (``ssgen.shells``) keeps its own file's bytes."""
    tmp = path.with_name(path.name + ".forged")
    tmp.write_bytes(data)
    tmp.replace(path)


def real_state(root: Path) -> tuple[str, dict[str, Any], Any]:
    found = snap.body_of(snapshot_file(root).read_bytes())
    assert type(found) is tuple and len(found) == 3
    return found


def payloads(root: Path, marker: Path) -> dict[str, bytes]:
    """Hostile bodies; each of the first four runs code under ``pickle.loads``."""
    name, state, extra = real_state(root)
    runs = RunsCode(marker)
    persistent = io.BytesIO()
    PersistentId(persistent, protocol=5).dump((name, state, extra))
    return {
        "exec, protocol 5": pickle.dumps(runs, protocol=5),
        "exec, protocol 0 (GLOBAL)": pickle.dumps(runs, protocol=0),
        "exec as the root's state": pickle.dumps((name, runs, extra), protocol=5),
        "exec inside the memos of a real state": pickle.dumps((name, state, {"reuse": runs}),
                                                              protocol=5),
        "an allowed class called with the attacker's arguments":
            pickle.dumps((name, CallsAllowed(), extra), protocol=5),
        "a persistent id": persistent.getvalue(),
        "a wrong root": codec.encode(("other", state, extra)),
        "a state with a key missing": codec.encode(
            (name, {k: v for k, v in state.items() if k != "_view"}, extra)),
        "a state with a wrong type": codec.encode((name, {**state, "_view": {}}, extra)),
        "a view broken inside": codec.encode((name, _broken_view(state), extra)),
        "no tuple": codec.encode([1, 2, 3]),
    }


def _broken_view(state: dict[str, Any]) -> dict[str, Any]:
    state["_view"]._raw = 5  # decodes and passes from_state; resume then fails
    return state


def spying(resumed: list[Any]) -> Any:
    real = LocalSource.resume

    def spy(self: LocalSource, config: Any, read: Any) -> None:
        resumed.append(self)
        real(self, config, read)
    return spy


def test_code_running_payloads_run_nothing_and_the_build_equals_a_full_one(
        tmp_path: Path) -> None:
    root, scratch, marker = tmp_path / "site", tmp_path / "scratch", tmp_path / "ran"
    site = Site()
    start(site, root)
    for number, (what, body) in enumerate(payloads(root, marker).items()):
        if number < 4:  # a real payload: the old loader runs it
            with contextlib.suppress(Exception):
                pickle.loads(body)
            assert marker.exists(), what
            marker.unlink()
        forge(root, body)
        resumed: list[Any] = []
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(LocalSource, "resume", spying(resumed))
            retitle(number % 3, f"step {number}")(site)
            site.write(root)
            new_process(root)
        assert not marker.exists(), what
        assert not resumed or what == "a view broken inside", what
        built, full = output_files(root), full_card_build(site, scratch)
        assert built == full, what
        assert snapshot_file(root).read_bytes()[HEAD:] != body  # replaced by a real one


def runs_nothing(site: Site, root: Path, body: bytes, marker: Path, title: str) -> None:
    forge(root, body)
    retitle(0, title)(site)  # an edit: a build with nothing changed loads no source
    site.write(root)
    new_process(root)
    assert not marker.exists(), "the snapshot ran code"


def test_mutant_decoder_resolving_every_name_is_caught(tmp_path: Path) -> None:
    site = Site()
    root, marker = tmp_path / "site", tmp_path / "ran"
    start(site, root)
    body = pickle.dumps(RunsCode(marker), protocol=5)
    runs_nothing(site, root, body, marker, "first")
    with pytest.MonkeyPatch.context() as patch, pytest.raises(
            AssertionError, match="the snapshot ran code"):
        patch.setattr(codec, "decode",
                      lambda data, start=0, buffers=(), ends=(), leave=None: pickle.loads(
                          memoryview(data)[start:], buffers=buffers))
        runs_nothing(site, root, body, marker, "second")


damage = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(st.just("flip"), st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)),
                                        min_size=1, max_size=8)),
    st.tuples(st.just("overwrite"), st.floats(0, 1), st.binary(min_size=1, max_size=64)),
)


def damaged(body: bytes, how: tuple[Any, ...]) -> bytes:
    data = bytearray(body)
    if not data:  # truncated to nothing by an earlier damage: nothing left to change
        return body
    if how[0] == "truncate":
        return bytes(data[:int(len(data) * how[1])])
    if how[0] == "flip":
        for where, bits in how[1]:
            data[min(int(len(data) * where), len(data) - 1)] ^= bits
        return bytes(data)
    at = min(int(len(data) * how[1]), len(data) - 1)
    data[at:at + len(how[2])] = how[2]
    return bytes(data)


@pytest.fixture(scope="module")
def saved_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    root = tmp_path_factory.mktemp("hostile") / "site"
    start(Site(), root)
    return root, snapshot_file(root).read_bytes()[HEAD:]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(hows=st.lists(damage, min_size=1, max_size=3))
def test_forged_bodies_are_refused_or_resumed_never_an_error(
        saved_site: tuple[Path, bytes], hows: list[tuple[Any, ...]]) -> None:
    root, body = saved_site
    for how in hows:
        body = damaged(body, how)
    forge(root, body)
    forget_process()
    found = snap.resume(load_config(root), "published", None)
    assert found is None or isinstance(found[0], LocalSource)


def test_the_encoder_refuses_what_the_decoder_would(tmp_path: Path) -> None:
    with pytest.raises(pickle.PicklingError):
        codec.encode({"x": RunsCode(tmp_path / "ran")})
    with pytest.raises(pickle.PicklingError):
        codec.encode([len])
    assert codec.decode(codec.encode({"a": [1, (2, 3)], "b": frozenset("xy")})) == {
        "a": [1, (2, 3)], "b": frozenset("xy")}


def test_a_snapshot_of_the_old_pickle_format_is_ignored(
        saved_site: tuple[Path, bytes]) -> None:
    """What ssgen wrote before this format (a plain pickle behind version 1's magic) is
    not read: another magic, so another key."""
    root, body = saved_site
    _, state, extra = snap.body_of(bytes(HEAD) + body)  # its buffers' offsets are the file's
    old = pickle.dumps((LocalSource.from_state(state), extra), protocol=5)
    magic = b"ssgen-source-snapshot-1\n"
    key = snap.snapshot_key(load_config(root), "published")
    _replace(snapshot_file(root), magic + key + zlib.crc32(old).to_bytes(4, "big") + old)
    assert snap.resume(load_config(root), "published", None) is None


def test_a_snapshot_naming_a_class_by_its_old_module_is_ignored(
        saved_site: tuple[Path, bytes]) -> None:
    """A snapshot written before ``View`` moved (``ssgen.sources.local_view`` became
    ``ssgen.sources.local.view``: the same length, so the body is otherwise intact) is
    refused even under the present key (its own key, which hashes the code's paths, already
    differs): the build loads the files; the very same body with the present name resumes."""
    root, body = saved_site
    assert b"ssgen.sources.local.view" in body
    old = body.replace(b"ssgen.sources.local.view", b"ssgen.sources.local_view")
    forge(root, old)
    assert snap.resume(load_config(root), "published", None) is None
    forge(root, body)
    assert snap.resume(load_config(root), "published", None) is not None


class WrongArity:
    """Pickles into a REDUCE of a maintained entry (encoded as a constructor call) with
    arguments of the wrong number."""

    def __reduce__(self) -> tuple[Any, ...]:
        from ssgen.groq.maintained import _Entry

        return _Entry, (True, ())


def test_constructed_classes_decode_equal_and_share_their_tags() -> None:
    """Entries, rows and page specs are written as constructor calls (``codec.construct``):
    they decode to equal objects, empty sets and equal tags shared; a call with other
    arguments is refused, and only an allowed class can be constructed so."""
    from ssgen.groq.maintained import _Entry
    from ssgen.groq.ordered import Descending
    from ssgen.routes.page import PageSpec

    entry = _Entry(True, (1, "k"), {"a": [1]}, frozenset(), frozenset({"x"}), frozenset())
    specs = [PageSpec(f"/{i}/", "r", "t.html", {"page": i}, frozenset({f"doc:{'a' * 3}"}),
                      {}) for i in range(2)]
    assert specs[0].tags == specs[1].tags
    assert next(iter(specs[0].tags)) is not next(iter(specs[1].tags))
    found = codec.decode(codec.encode([entry, Descending(3), *specs, specs[0]]))
    assert type(found[0]) is _Entry and all(
        getattr(found[0], f) == getattr(entry, f) for f in _Entry.__slots__)
    assert found[0].reads is found[0].keys_read
    assert type(found[1]) is Descending and found[1].key == 3
    assert found[2:4] == specs and found[4] is found[2]
    assert next(iter(found[2].tags)) is next(iter(found[3].tags))
    with pytest.raises(codec.Refused):
        codec.decode(pickle.dumps(WrongArity(), protocol=5))
    with pytest.raises(ValueError, match="not allowed"):
        codec.construct(RunsCode, lambda obj: ())


def test_a_feed_memo_of_another_shape_is_not_adopted() -> None:
    """The feed rows a snapshot carries are adopted only in the form ``export_feeds``
    writes (a forged row without its fields would fail the build, not fall back)."""
    from ssgen.config.load.model import FeedConfig
    from ssgen.render import generated
    from ssgen.routes.page import PageSpec

    feed, base = FeedConfig(route="post"), "https://example.com"
    spec = PageSpec("/p/", "post", "t.html", {"page": {}}, frozenset(), {})
    row = {"title": "t", "url": base + "/p/", "updated": "2024-01-01T00:00:00Z", "summary": ""}
    bad: list[object] = [None, [], [(base, [(spec, {"title": "t"})], None)],
                         [(base, [(spec, {**row, "updated": 1})], None)],
                         [("https://other.example", [(spec, row)], None)],
                         [(base, [(row, spec)], None)], [(base, [(spec, row)])],
                         [(base, [(PageSpec("/q/", "post", "t.html", {}, frozenset(), {},
                                            "1"), row)], None)]]  # a stamp not an int
    try:
        for exported in bad:
            generated._FEEDS.clear()
            generated.adopt_feed(feed, base, exported)
            assert not generated._FEEDS, exported
        generated.adopt_feed(feed, base, [(base, [(spec, row)], ([row], b"<feed/>"))])
        memo = generated._FEEDS[(feed, base)]
        assert memo.top == [row] and memo.specs == {spec.stamp: (spec, row)}
    finally:
        generated._FEEDS.clear()
