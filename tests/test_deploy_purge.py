"""CDN purge hooks after a deploy: an HTTP hook (a server on 127.0.0.1) and a command hook."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from deploykit import default_docs, make_deploy_site, rebuild
from s3_server import S3TestServer, dummy_credentials
from sitekit import post

from ssgen.config.deploy import PurgeConfig
from ssgen.deploy.purge import CommandPurger, HttpPurger, purgers
from ssgen.deploy.sync import deploy_site
from ssgen.errors import ConfigError, DeployError

BASE = "https://example.com"
PAGES = [f"{BASE}/blog/", f"{BASE}/blog/post-1/", f"{BASE}/blog/post-2/"]


class Hook:
    """An HTTP purge endpoint on 127.0.0.1 recording every POST."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, str], Any]] = []
        self.status = 200
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                hook.calls.append((dict(self.headers), body))
                self.send_response(hook.status)
                self.end_headers()
                self.wfile.write(b"cdn says no" if hook.status >= 400 else b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/purge"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def bodies(self) -> list[Any]:
        return [body for _, body in self.calls]


@pytest.fixture(scope="module")
def s3() -> Iterator[S3TestServer]:
    with S3TestServer() as server:
        yield server


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    dummy_credentials(monkeypatch)


def hook_site(tmp_path: Path, s3: S3TestServer, purge: str) -> Path:
    return make_deploy_site(tmp_path, s3.bucket(), s3.endpoint, extra=f"[deploy.purge]\n{purge}")


def test_http_hook_gets_new_changed_and_deleted_urls(tmp_path: Path, s3: S3TestServer,
                                                     hook: Hook) -> None:
    site = hook_site(tmp_path, s3, f'url = "{hook.url}"')
    config, _ = rebuild(site)
    report = deploy_site(config)
    first = hook.bodies()[0]
    assert set(first) == {"new", "changed", "deleted"}
    assert set(PAGES) <= set(first["new"]) and f"{BASE}/sitemap.xml" in first["new"]
    assert first["changed"] == [] and first["deleted"] == []
    assert report.purged == len(first["new"])
    assert hook.calls[0][0]["Content-Type"] == "application/json"

    docs = default_docs()
    docs[1] = post(1, title="Revised")
    config, _ = rebuild(site, docs)
    deploy_site(config)
    assert hook.bodies()[1] == {"new": [], "changed": PAGES[:2], "deleted": []}

    config, _ = rebuild(site, [*docs[:2], post(3)])
    deploy_site(config, delete=True)
    assert hook.bodies()[2] == {"new": [f"{BASE}/blog/post-3/"],
                                "changed": [f"{BASE}/blog/", f"{BASE}/sitemap.xml"],
                                "deleted": [f"{BASE}/blog/post-2/"]}
    deploy_site(config, delete=True)
    assert len(hook.calls) == 3  # nothing changed: no purge


def test_http_hook_sends_the_token_from_the_environment(
        tmp_path: Path, s3: S3TestServer, hook: Hook, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSGEN_TEST_PURGE_TOKEN", "s3cr3t")
    site = hook_site(tmp_path, s3, f'url = "{hook.url}"\ntoken_env = "SSGEN_TEST_PURGE_TOKEN"')
    config, _ = rebuild(site)
    deploy_site(config)
    assert hook.calls[0][0]["Authorization"] == "Bearer s3cr3t"


def test_a_missing_token_variable_is_a_config_error(tmp_path: Path, s3: S3TestServer,
                                                    hook: Hook) -> None:
    site = hook_site(tmp_path, s3, f'url = "{hook.url}"\ntoken_env = "SSGEN_TEST_UNSET_VAR"')
    config, _ = rebuild(site)
    with pytest.raises(ConfigError, match="SSGEN_TEST_UNSET_VAR is not set"):
        deploy_site(config)
    assert hook.calls == []


def test_a_failed_purge_is_reported_after_the_upload_and_owed(
        tmp_path: Path, s3: S3TestServer, hook: Hook) -> None:
    site = hook_site(tmp_path, s3, f'url = "{hook.url}"')
    config, _ = rebuild(site)
    hook.status = 500
    with pytest.raises(DeployError, match="uploads are complete, but the CDN purge failed") as info:
        deploy_site(config)
    assert "answered 500: cdn says no" in str(info.value)
    owed = hook.bodies()[0]
    hook.status = 200
    report = deploy_site(config)
    assert report.uploaded == [] and hook.bodies()[1] == owed
    deploy_site(config)
    assert len(hook.calls) == 2  # the debt is paid once


def test_command_hook_gets_the_json_on_stdin(tmp_path: Path, s3: S3TestServer) -> None:
    out = tmp_path / "purged.json"
    script = tmp_path / "purge.py"
    script.write_text("import sys, pathlib\npathlib.Path(sys.argv[1]).write_bytes("
                      "sys.stdin.buffer.read())\n")
    command = json.dumps([sys.executable, str(script), str(out)])
    site = hook_site(tmp_path, s3, f"command = {command}")
    config, _ = rebuild(site)
    deploy_site(config)
    body = json.loads(out.read_text())
    assert set(PAGES) <= set(body["new"]) and body["deleted"] == []


def test_command_hook_failure_names_the_exit_code_and_stderr(tmp_path: Path) -> None:
    script = tmp_path / "fail.py"
    script.write_text("import sys\nsys.stderr.write('rate limited')\nsys.exit(3)\n")
    purger = CommandPurger([sys.executable, str(script)])
    with pytest.raises(DeployError, match=r"exited 3: rate limited"):
        purger.purge({"new": [], "changed": [f"{BASE}/"], "deleted": []})
    with pytest.raises(DeployError, match="purge command /nonexistent/purge"):
        CommandPurger(["/nonexistent/purge"]).purge({"new": [], "changed": [], "deleted": []})


def test_http_hook_transport_error_is_a_deploy_error(hook: Hook) -> None:
    url = hook.url
    hook.server.shutdown()
    hook.server.server_close()
    with pytest.raises(DeployError, match=f"purge hook {url}"):
        HttpPurger(url, timeout=2).purge({"new": [BASE], "changed": [], "deleted": []})


def test_purge_needs_a_base_url(tmp_path: Path, s3: S3TestServer, hook: Hook) -> None:
    site = hook_site(tmp_path, s3, f'url = "{hook.url}"')
    toml = (site / "ssgen.toml").read_text().replace(f'base_url = "{BASE}"', "")
    (site / "ssgen.toml").write_text(toml)
    config, _ = rebuild(site)
    with pytest.raises(ConfigError, match="purge URLs need a base"):
        deploy_site(config)


def test_purgers_from_config() -> None:
    assert purgers(None) == []
    both = purgers(PurgeConfig(url="https://x.org/p", command=("true",)), env={})
    assert [type(p) for p in both] == [HttpPurger, CommandPurger]
