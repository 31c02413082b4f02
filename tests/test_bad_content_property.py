"""Property: faults injected at random into a generated dataset fail only themselves.

A dataset of posts and pages gets random faults (bad lines, lines without ``_id``, later
duplicates of an ``_id``, a second document with a taken slug, Markdown with invalid
front matter or with the slug of the blog index). Then, on a fresh site and on a site
built before the faults came in, the build reports each fault by file:line or document
id, and every page that does not involve a faulty document is byte-identical to a clean
build of the dataset without the faulty documents; a path that several documents want
keeps what it had. Removing the faults gives the clean build again.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitekit import author, make_site, output_files, post
from test_bad_content import TEMPLATES, TOML

from ssgen.build.pipeline import build
from ssgen.config.load import load_config

KINDS = ["bad_line", "missing_id", "duplicate_id", "duplicate_slug", "bad_front_matter",
         "slug_is_a_list_path"]


@dataclass
class Dataset:
    """The healthy documents, and the faulty lines and files added to them."""

    healthy: list[dict[str, Any]]
    lines: list[str] = field(default_factory=list)  # the NDJSON file, faults included
    files: dict[str, str] = field(default_factory=dict)  # Markdown files, by name
    named: list[str] = field(default_factory=list)  # what the failures must mention
    involved: set[str] = field(default_factory=set)  # output files a fault may change
    shared: set[str] = field(default_factory=set)  # paths several documents want


@st.composite
def datasets(draw: Any) -> Dataset:
    count = draw(st.integers(2, 6))
    healthy = [author("a1", "Ada"), *(post(n) for n in range(1, count + 1))]
    data = Dataset(healthy)
    lines: list[tuple[str, str | None]] = [(json.dumps(doc), None) for doc in healthy]
    for index, kind in enumerate(draw(st.lists(st.sampled_from(KINDS), min_size=1,
                                               max_size=4))):
        if kind == "bad_front_matter":
            data.files[f"bad{index}.md"] = "---\ntitle: [unclosed\n---\nbody\n"
            data.named.append(f"content/bad{index}.md:3: invalid YAML")
        elif kind == "slug_is_a_list_path":
            data.files["blog.md"] = "---\ntitle: Blog\n---\nbody\n"
            data.named.append("document 'md.blog' (route 'page') has the path '/blog/'")
        elif kind == "duplicate_slug":
            target = draw(st.integers(1, count))
            doc = post(100 + index, slug={"_type": "slug", "current": f"post-{target}"})
            at = draw(st.integers(0, len(lines)))
            lines.insert(at, (json.dumps(doc), None))
            data.named += [f"document 'p{100 + index}'", f"document 'p{target}'"]
            data.shared.add(f"blog/post-{target}/index.html")
            data.involved |= {"blog/index.html", "sitemap.xml"}
        else:
            target = draw(st.integers(1, count))
            text = {"bad_line": '{"_id": "x", broken',
                    "missing_id": json.dumps({"_type": "post", "title": "No id"}),
                    "duplicate_id": json.dumps(post(target, title="Impostor"))}[kind]
            first = 1 + next(i for i, (line, _) in enumerate(lines)
                             if kind != "duplicate_id" or f'"p{target}"' in line)
            # A duplicate goes after the document it repeats: the later one is refused.
            at = draw(st.integers(first if kind == "duplicate_id" else 0, len(lines)))
            lines.insert(at, (text, kind))
    data.lines = [line for line, _ in lines]
    data.named += [f"content/data.ndjson:{number}:" for number, (_, kind) in
                   enumerate(lines, start=1) if kind is not None]
    data.involved |= data.shared
    return data


def _site(root: Path, lines: list[str], files: dict[str, str]) -> Path:
    site = make_site(root, docs=[], toml=TOML, templates=TEMPLATES)
    (site / "content" / "data.ndjson").write_text("".join(f"{line}\n" for line in lines))
    for name, text in files.items():
        (site / "content" / name).write_text(text)
    return site


def _build(site: Path, *, full: bool = False) -> list[str]:
    report = build(load_config(site), full=full)
    return [f"{failure.path} {failure.message}" for failure in report.failures]


def _without(files: dict[str, bytes], names: set[str]) -> dict[str, bytes]:
    return {name: data for name, data in files.items() if name not in names}


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(datasets())
def test_faults_fail_only_themselves(tmp_path: Path, data: Dataset) -> None:
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    healthy = [json.dumps(doc) for doc in data.healthy]
    reference = _site(root / "reference", healthy, {})
    assert _build(reference, full=True) == []
    clean = output_files(reference)

    fresh = _site(root / "fresh", data.lines, data.files)
    failures = "\n".join(_build(fresh))
    assert failures and all(words in failures for words in data.named), (failures, data.named)
    got = output_files(fresh)
    assert _without(got, data.involved) == _without(clean, data.involved)
    assert not data.shared & got.keys()  # no document is published at a shared path

    existing = _site(root / "existing", healthy, {})
    assert _build(existing) == []
    _site(root / "existing", data.lines, data.files)
    for full in (False, True):  # the faults' first build, then a full one: the same
        failures = "\n".join(_build(existing, full=full))
        assert failures and all(words in failures for words in data.named), failures
        got = output_files(existing)
        assert _without(got, data.involved) == _without(clean, data.involved)
        assert {name: got[name] for name in data.shared} == {
            name: clean[name] for name in data.shared}

    for name in data.files:
        (existing / "content" / name).unlink()
    _site(root / "existing", healthy, {})
    assert _build(existing) == []
    assert output_files(existing) == clean
    shutil.rmtree(root)
