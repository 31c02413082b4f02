"""The Sanity source as a user configures it: `type = "sanity"` in ssgen.toml, and `ssgen pull`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sanity_server import SanityTestServer
from sitekit import author, make_site, output_files, post, run_cli

from ssgen.groq import Dataset, parse


def test_sanity_source_from_config_builds_the_same_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = [author("a1", "Ada"), post(1), post(2)]
    local = make_site(tmp_path / "local", docs=docs)
    assert run_cli("--site", str(local), "build").exit_code == 0
    with SanityTestServer(docs) as server:
        toml = (local / "ssgen.toml").read_text().replace(
            'type = "local"\nfiles = ["content/data.ndjson"]',
            'type = "sanity"\nproject_id = "test1234"\ndataset = "production"\nuse_cdn = false',
        )
        remote = make_site(tmp_path / "remote", docs=[], toml=toml)
        monkeypatch.setenv("SANITY_API_HOST", server.url)
        result = run_cli("--site", str(remote), "build")
        assert result.exit_code == 0, result.output
        assert server.log(), "the build must have queried the server"
    assert output_files(remote) == output_files(local)


def test_pull_snapshots_the_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = [author("a1", "Ada")] + [post(n) for n in range(5)]
    site = make_site(tmp_path, docs=[])
    toml = (site / "ssgen.toml").read_text().replace(
        'files = ["content/data.ndjson"]',
        'files = ["content/data.ndjson"]\nproject_id = "test1234"\ndataset = "production"',
    )
    (site / "ssgen.toml").write_text(toml)
    with SanityTestServer(docs) as server:
        monkeypatch.setenv("SANITY_API_HOST", server.url)
        out = tmp_path / "pulled.ndjson"
        result = run_cli("--site", str(site), "pull", "--out", str(out))
        assert result.exit_code == 0, result.output
    pulled = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(d["_id"] for d in pulled) == sorted(d["_id"] for d in docs)
    query = parse('*[_type == "post"] | order(_id){_id, title, "author": author->name}')
    assert query.evaluate(Dataset(pulled)) == query.evaluate(Dataset(docs))


def test_pull_without_project_is_a_clear_error(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    result = run_cli("--site", str(site), "pull")
    assert result.exit_code == 2
    assert "project_id" in result.output
