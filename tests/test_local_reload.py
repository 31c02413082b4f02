"""Incremental reload of the local source equals a fresh load, after any edit sequence.

Random NDJSON and Markdown sites get random edits (edit, insert, delete and move lines,
blank lines, BOM, CRLF, whole-file replace, drafts added, removed and published, files
added and removed, invalid lines and duplicate ids that must fail and keep the state);
after every step the reloaded source is compared with a fresh ``LocalSource`` of the same
files, and ``changed_since`` with the documents that really changed.

A kept source (serve's) leaves the patch of its kept bytes for ``settle`` (after a
round's replies): the steps settle it at random points, before or after the next edit
is written (in place, or as a new file renamed over the old), or never (the next reload
then applies it), and read the bytes (the fingerprint) before it or not. Mutants caught
(run by hand): the re-read comparing the file with the bytes as they were before the
pending patch; ``settle`` applying a patch without forgetting it.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssgen.config.load import Config, load_config
from ssgen.groq.parser import parse
from ssgen.sources.local import LocalSource, read_inputs
from ssgen.sources.ndjson import BOM

BASES = ["a", "b", "c", "d", "e", "f"]
IDS = [f"{prefix}{base}" for base in BASES for prefix in ("", "drafts.", "versions.")]
QUERIES = [
    ('*[_type == "post"]{_id, n}', {}),
    ('*[_type == "author" && slug.current == "x"]._id', {}),
    ("*[slug.current == $slug]{_id, title}", {"slug": "y"}),
    ('*[_id in ["a", "b", "drafts.c", "versions.d", "md.one"]]{_id, n}', {}),
    ('*[_type == "post"] | order(n desc, _id asc)._id', {}),
    ("*[defined(slug.current)] | order(slug.current asc, _id asc)[0..3]._id", {}),
    ("count(*)", {}),
]


class Site:
    """The files of a site as lines (NDJSON) or text (Markdown), written on demand."""

    def __init__(self, root: Path, perspective: str) -> None:
        self.root = root
        self.ndjson: dict[str, list[bytes]] = {}
        self.style: dict[str, tuple[bool, bool, bool]] = {}  # bom, crlf, final newline
        self.markdown: dict[str, str] = {}
        self.counter = 0
        self.tick = 10**18
        (root / "content").mkdir(parents=True)
        (root / "ssgen.toml").write_text(f'[site]\ntitle = "t"\n[source]\n'
                                         f'perspective = "{perspective}"\n')

    def line(self, doc_id: str, draw: Any) -> bytes:
        self.counter += 1
        doc = {"_id": doc_id, "_type": draw(st.sampled_from(["post", "author"])),
               "title": draw(st.text("ab é", max_size=4)), "n": self.counter,
               "slug": {"_type": "slug", "current": draw(st.sampled_from(["x", "y", "z"]))}}
        if draw(st.booleans()):
            doc["ref"] = {"_type": "reference", "_ref": draw(st.sampled_from(BASES))}
        return json.dumps(doc, ensure_ascii=False).encode()

    def used(self) -> set[str]:
        return {json.loads(line)["_id"] for lines in self.ndjson.values()
                for line in lines if line.strip() and line.startswith(b"{")}

    def free_id(self, draw: Any) -> str | None:
        free = sorted(set(IDS) - self.used())
        return draw(st.sampled_from(free)) if free else None

    def render(self, name: str) -> bytes:
        bom, crlf, final = self.style[name]
        newline = b"\r\n" if crlf else b"\n"
        data = newline.join(self.ndjson[name]) + (newline if final else b"")
        return (BOM if bom else b"") + data

    def write(self, renamed: bool = False) -> None:
        """Write every file that differs from the disk and remove files no longer there;
        ``renamed``: each as a new file renamed over the old (else truncated and
        rewritten in place)."""
        content = self.root / "content"
        wanted = {name: self.render(name) for name in self.ndjson}
        wanted |= {name: text.encode() for name, text in self.markdown.items()}
        for path in content.iterdir():
            if path.name not in wanted:
                path.unlink()
        for name, data in wanted.items():
            path = content / name
            if not path.exists() or path.read_bytes() != data:
                written = path.with_name(".new") if renamed else path
                written.write_bytes(data)
                self.tick += 1000
                os.utime(written, ns=(self.tick, self.tick))
                written.replace(path)

    def sources(self) -> dict[str, tuple[str, bytes]]:
        """Raw ``_id`` -> (file, bytes its document was parsed from)."""
        out: dict[str, tuple[str, bytes]] = {}
        for name in self.ndjson:
            for piece in self.render(name).removeprefix(BOM).split(b"\n"):
                if piece.strip():
                    out[json.loads(piece)["_id"]] = (name, piece)
        for name, text in self.markdown.items():
            out["md." + name.removesuffix(".md")] = (name, text.encode())
        return out


def config_for(site: Site) -> Config:
    return load_config(site.root, env={})


def snapshot(source: LocalSource) -> dict[str, Any]:
    results = [source.query(parse(text), params) for text, params in QUERIES]
    return {
        "documents": list(source.documents),
        "dataset": list(source.dataset.documents),
        "by_id": dict(source.dataset.by_id),
        "queries": [(result.value, result.ids) for result in results],
        "state": source.document_state(),
    }


def contributors(doc_id: str, perspective: str) -> list[str]:
    return [doc_id, f"drafts.{doc_id}"] if perspective == "drafts" else [doc_id]


def check_step(source: LocalSource, site: Site, before: dict[str, Any], version: int,
               sources_before: dict[str, tuple[str, bytes]], drafts: bool,
               read_bytes: bool = True) -> None:
    """``read_bytes``: also compare the fingerprint (which reads the kept bytes)."""
    fresh = LocalSource(config_for(site), drafts=drafts)
    now = snapshot(source)
    assert now == snapshot(fresh)
    assert now["documents"] == fresh.documents and now["dataset"] == fresh.dataset.documents
    if read_bytes:
        assert source.fingerprint() == read_inputs(config_for(site)).fingerprint
    old, new = before["by_id"], now["by_id"]
    replaced = {i for i in old.keys() | new.keys() if old.get(i) is not new.get(i)}
    by_value = {i for i in old.keys() | new.keys() if old.get(i) != new.get(i)}
    sources_now = site.sources()
    unstable = {i for i in old.keys() | new.keys()
                if any(sources_before.get(raw) != sources_now.get(raw)
                       for raw in contributors(i, source.perspective))}
    changed = source.changed_since(version)
    assert changed == replaced
    assert by_value <= changed <= by_value | unstable
    assert source.version == version + (1 if changed else 0)
    assert source.changed_since(source.version) == frozenset()
    assert source.changed_since(source.version + 1) is None


def edit(site: Site, draw: Any) -> str:
    """Apply one random edit to the site model; returns what it expects ("ok" or an
    error message prefix)."""
    names = sorted(site.ndjson)
    op = draw(st.sampled_from(["edit", "edit", "insert", "delete", "move", "blank", "bom",
                               "crlf", "final", "replace", "publish", "new_file",
                               "drop_file", "markdown", "bad_line", "duplicate", "noop"]))
    if op == "new_file" or not names:
        name = draw(st.sampled_from(["a.ndjson", "b.ndjson", "c.jsonl"]))
        site.ndjson.setdefault(name, [])
        site.style.setdefault(name, (False, False, True))
        return "ok"
    name = draw(st.sampled_from(names))
    lines = site.ndjson[name]
    docs = [i for i, line in enumerate(lines) if line.strip()]
    if op == "drop_file":
        del site.ndjson[name]
    elif op == "edit" and docs:
        i = draw(st.sampled_from(docs))
        lines[i] = site.line(json.loads(lines[i])["_id"], draw)
    elif op in ("insert", "edit") and (doc_id := site.free_id(draw)) is not None:
        at = draw(st.integers(0, len(lines)))
        lines[at:at] = [site.line(doc_id, draw)]
    elif op == "delete" and docs:
        del lines[draw(st.sampled_from(docs))]
    elif op == "move" and lines:
        line = lines.pop(draw(st.integers(0, len(lines) - 1)))
        lines.insert(draw(st.integers(0, len(lines))), line)
    elif op == "blank":
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from([b"", b"  "])))
    elif op in ("bom", "crlf", "final"):
        bom, crlf, final = site.style[name]
        site.style[name] = (bom ^ (op == "bom"), crlf ^ (op == "crlf"), final ^ (op == "final"))
    elif op == "replace":
        kept = [json.loads(lines[i])["_id"] for i in docs]
        lines[:] = [site.line(doc_id, draw) for doc_id in kept if draw(st.booleans())]
    elif op == "publish":
        publish(site, draw)
    elif op == "markdown":
        markdown(site, draw)
    elif op == "bad_line":
        at = draw(st.integers(0, len(lines)))
        lines.insert(at, b'{"_id": "bad", "_type": ')
        return f"content/{name}:{at + 1}:"
    elif op == "duplicate" and docs:
        line = lines[draw(st.sampled_from(docs))]
        target = site.ndjson[draw(st.sampled_from(names))]
        target.insert(draw(st.integers(0, len(target))), line)
        return "duplicate"
    return "ok"


def publish(site: Site, draw: Any) -> None:
    """Replace a draft's line with its published document (or add a draft of one)."""
    for lines in site.ndjson.values():
        for i, line in enumerate(lines):
            if not line.strip():
                continue
            doc_id = json.loads(line)["_id"]
            base = doc_id.removeprefix("drafts.")
            if doc_id.startswith("drafts.") and draw(st.booleans()):
                lines[i] = site.line(base, draw) if base not in site.used() else b""
                return
            if doc_id == base and f"drafts.{base}" not in site.used() and draw(st.booleans()):
                lines.insert(i + 1, site.line(f"drafts.{base}", draw))
                return


def markdown(site: Site, draw: Any) -> None:
    name = draw(st.sampled_from(["one.md", "two.md"]))
    if name in site.markdown and draw(st.booleans()):
        del site.markdown[name]
    else:
        site.counter += 1
        site.markdown[name] = f"---\ntitle: T{site.counter}\nn: {site.counter}\n---\nBody.\n"


def reload_as_serve(source: LocalSource, before: dict[str, Any], draw: Any) -> bool:
    """A serve round's reload: no hint, or a webhook naming one document (one that
    exists, edited or not, or one that does not), then the wait for its proof; a
    refuted proof is followed by a plain reload, as ``RoundRunner.build`` does. Whether
    the reload stood on its own (no refuted proof)."""
    ids = sorted(before["by_id"])
    hint = draw(st.sampled_from([None, "nowhere", *ids]))
    if hint is None:
        source.reload()
        return True
    source.reload_hinted(hint)
    if source.proven():
        return True
    source.reload()
    return False


def run_sequence(tmp_path: Path, data: st.DataObject, drafts: bool, steps: int) -> None:
    kept = data.draw(st.booleans())  # serve's kept source re-reads into its kept bytes
    perspective = "published" if drafts else data.draw(st.sampled_from(["published", "raw"]))
    site = Site(Path(tempfile.mkdtemp(dir=tmp_path)) / "site", perspective)
    site.ndjson["a.ndjson"] = []
    site.style["a.ndjson"] = (False, False, True)
    for _ in range(data.draw(st.integers(0, 8))):
        if (doc_id := site.free_id(data.draw)) is not None:
            site.ndjson["a.ndjson"].append(site.line(doc_id, data.draw))
    site.write()
    source = LocalSource(config_for(site), drafts=drafts, kept=kept)
    assert source.version == 1
    for _ in range(steps):
        before, version, sources = snapshot(source), source.version, site.sources()
        saved = ({k: list(v) for k, v in site.ndjson.items()}, dict(site.style),
                 dict(site.markdown))
        expected = edit(site, data.draw)
        # serve's settle after a round's replies: before this edit is written, after
        # it, or not at all (the reload applies the pending patch itself)
        settle = data.draw(st.sampled_from(["before", "after", "never"])) if kept else "never"
        if settle == "before":
            source.settle()
        site.write(renamed=data.draw(st.booleans()))
        if settle == "after":
            source.settle()
        if expected == "ok":
            if not kept:
                source.reload()
            elif not reload_as_serve(source, before, data.draw):
                # A refuted hint: the file was read whole, every document replaced.
                fresh = LocalSource(config_for(site), drafts=drafts)
                assert snapshot(source) == snapshot(fresh)
                assert source.fingerprint() == read_inputs(config_for(site)).fingerprint
                continue
            check_step(source, site, before, version, sources, drafts,
                       read_bytes=not kept or data.draw(st.booleans()))
            continue
        # A bad line or a duplicate is left out and named; the rest is as a fresh load.
        source.reload()
        fresh = LocalSource(config_for(site), drafts=drafts)
        assert snapshot(source) == snapshot(fresh) and source.faults() == fresh.faults()
        assert any(message.startswith(expected) or expected in message
                   for _, message in source.faults())
        site.ndjson, site.style, site.markdown = saved
        site.write()
        source.reload()
        assert snapshot(source) == before and source.faults() == []


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data(), st.booleans())
def test_incremental_reload_equals_a_fresh_load(tmp_path: Path, data: st.DataObject,
                                                drafts: bool) -> None:
    run_sequence(tmp_path, data, drafts, steps=15)


@pytest.mark.parametrize("kept", [False, True])
@pytest.mark.parametrize("perspective", ["published", "drafts", "raw"])
def test_many_edits_of_one_big_file(tmp_path: Path, perspective: str, kept: bool) -> None:
    """Hundreds of splices of one file (past the point where shifts are folded in), each
    compared with a fresh load; a bad line at the end is named by its current line.
    ``kept``: serve's source, which patches its kept bytes in place."""
    rng = random.Random(perspective)
    root = tmp_path / "site"
    (root / "content").mkdir(parents=True)
    (root / "ssgen.toml").write_text(f'[site]\ntitle = "t"\n[source]\nperspective = '
                                     f'"{perspective}"\nmarkdown_dir = ""\n')
    path = root / "content" / "data.ndjson"

    def line(doc_id: str, n: int) -> bytes:
        return json.dumps({"_id": doc_id, "_type": "post", "n": n,
                           "slug": {"current": f"s{n % 7}"}}).encode()

    ids = [f"{rng.choice(['', 'drafts.'])}p{i}" for i in range(300)]
    lines = [line(doc_id, i) for i, doc_id in enumerate(dict.fromkeys(ids))]
    path.write_bytes(b"\n".join(lines) + b"\n")
    source = LocalSource(load_config(root, env={}), kept=kept)
    for step in range(120):
        version, before = source.version, dict(source.dataset.by_id)
        for edit in range(rng.randint(1, 3)):
            at = rng.randrange(len(lines))
            doc_id = json.loads(lines[at])["_id"] if lines[at] else f"was-blank{step}-{edit}"
            choice = rng.random()
            if choice < 0.5:
                lines[at] = line(doc_id, 1000 + step)
            elif choice < 0.7:
                del lines[at]
            elif choice < 0.9:
                lines.insert(at, line(f"new{step}-{edit}", step))
            else:
                lines.insert(at, b"")
        path.write_bytes(b"\n".join(lines) + b"\n")
        os.utime(path, ns=(10**18 + step, 10**18 + step))
        source.reload()
        fresh = LocalSource(load_config(root, env={}))
        assert source.documents == fresh.documents
        assert source.dataset.documents == fresh.dataset.documents
        assert source.document_state() == fresh.document_state()
        after = source.dataset.by_id
        assert source.changed_since(version) == {
            i for i in before.keys() | after.keys() if before.get(i) is not after.get(i)}
    at = rng.randrange(len(lines))
    lines.insert(at, b"[1]")
    path.write_bytes(b"\n".join(lines) + b"\n")
    source.reload()
    ((where, message),) = source.faults()
    assert where == f"content/data.ndjson:{at + 1}" and "expected a JSON object" in message
    assert source.documents == LocalSource(load_config(root, env={})).documents


def test_changed_since_is_unknown_past_the_log(tmp_path: Path) -> None:
    root = tmp_path / "site"
    (root / "content").mkdir(parents=True)
    (root / "ssgen.toml").write_text('[site]\ntitle = "t"\n')
    path = root / "content" / "data.ndjson"
    path.write_text('{"_id": "a", "_type": "t", "n": 0}\n')
    source = LocalSource(load_config(root, env={}))
    assert source.version == 1 and source.changed_since(1) == frozenset()
    for n in range(1, 70):
        path.write_text(f'{{"_id": "a", "_type": "t", "n": {n}}}\n')
        os.utime(path, ns=(10**18 + n, 10**18 + n))
        source.reload()
        assert source.version == n + 1
    source.reload()  # nothing changed: no new version
    assert source.version == 70
    assert source.changed_since(69) == {"a"}
    assert source.changed_since(70 - 64) == {"a"}
    assert source.changed_since(70 - 65) is None
    assert source.changed_since(71) is None


def _two_files(tmp_path: Path) -> Site:
    site = Site(tmp_path / "site", "published")
    for name, ids in (("a.ndjson", "abc"), ("b.ndjson", "de")):
        site.ndjson[name] = [json.dumps({"_id": i, "_type": "post", "title": f"t{i}", "n": n})
                             .encode() for n, i in enumerate(ids)]
        site.style[name] = (False, False, True)
    site.write()
    return site


def _failing_reload_then_reload(tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """A kept source over two files: one document of the first retitled, the reload
    failing at the second (its parse of the first spliced in place already), then a
    reload that succeeds: (its snapshot, a fresh load's)."""
    site = _two_files(tmp_path)
    source = LocalSource(config_for(site), kept=True)
    source.settle()
    site.ndjson["a.ndjson"][1] = json.dumps(
        {"_id": "b", "_type": "post", "title": "retitled, longer", "n": 1}).encode()
    site.ndjson["b.ndjson"].append(json.dumps({"_id": "f", "_type": "post", "n": 9}).encode())
    site.write()
    real = LocalSource._read

    def failing(self: LocalSource, item: Any, *args: Any) -> Any:
        if item.path.endswith("b.ndjson"):
            raise OSError("read failed")
        return real(self, item, *args)

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(LocalSource, "_read", failing)
        with pytest.raises(OSError):
            source.reload_hinted("b")
    source.reload()
    return snapshot(source), snapshot(LocalSource(config_for(site)))


def test_a_reload_failing_after_an_in_place_splice_then_equals_a_fresh_load(
        tmp_path: Path) -> None:
    got, fresh = _failing_reload_then_reload(tmp_path)
    assert got == fresh
