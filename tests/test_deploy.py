"""Deploy against a real S3-protocol server (moto on 127.0.0.1), through the client users run."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from deploykit import (
    CSS_RULE,
    STATIC,
    default_docs,
    make_deploy_site,
    owned_files,
    rebuild,
    sha,
)
from s3_server import S3TestServer, dummy_credentials
from sitekit import post, run_cli

from ssgen.config.deploy import parse_target
from ssgen.deploy.plan import IMMUTABLE, SHORT, STATE_NAME
from ssgen.deploy.s3 import S3Store
from ssgen.deploy.sync import deploy_site
from ssgen.errors import ConfigError, DeployError


@pytest.fixture(scope="module")
def s3() -> Iterator[S3TestServer]:
    with S3TestServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    dummy_credentials(monkeypatch)


@pytest.fixture
def bucket(s3: S3TestServer) -> str:
    return s3.bucket()


@pytest.fixture
def site(tmp_path: Path, s3: S3TestServer, bucket: str) -> Path:
    return make_deploy_site(tmp_path, bucket, s3.endpoint)


def remote_files(s3: S3TestServer, bucket: str, prefix: str = "site/") -> dict[str, bytes]:
    """relpath -> body under the prefix, without the state object."""
    objects = s3.objects(bucket, prefix)
    return {key[len(prefix):]: body for key, body in objects.items()
            if key != prefix + STATE_NAME}


def local_bytes(site: Path, rels: Any) -> dict[str, bytes]:
    return {rel: (site / "public" / rel).read_bytes() for rel in rels}


def fresh_store(config: Any) -> S3Store:
    settings = config.deploy
    return S3Store.connect(settings, settings.target, jobs=1)


def test_first_deploy_uploads_everything(s3: S3TestServer, bucket: str, site: Path) -> None:
    config, _ = rebuild(site)
    owned = owned_files(config)
    report = deploy_site(config)
    assert sorted(report.uploaded) == sorted(owned)
    assert report.new == sorted(owned) and report.changed == [] and report.skipped == 0
    assert remote_files(s3, bucket) == local_bytes(site, owned)
    state = json.loads(s3.objects(bucket, f"site/{STATE_NAME}")[f"site/{STATE_NAME}"])
    assert {rel: entry[0] for rel, entry in state["files"].items()} == owned
    ops = report.requests_by_operation
    assert ops["ListObjectsV2"] == 1 and ops["GetObject"] == 1
    assert ops["PutObject"] >= len(owned) + 1 and report.requests == sum(ops.values())


def test_second_deploy_uploads_nothing(site: Path) -> None:
    config, _ = rebuild(site)
    deploy_site(config)
    report = deploy_site(config)
    assert report.uploaded == [] and report.deleted == []
    assert report.skipped == len(owned_files(config))
    assert report.requests_by_operation == {"GetObject": 1, "ListObjectsV2": 1}


def test_one_document_change_uploads_only_affected(s3: S3TestServer, bucket: str,
                                                   site: Path) -> None:
    config, _ = rebuild(site)
    deploy_site(config)
    docs = default_docs()
    docs[1] = post(1, title="Post 1, revised")
    config, build_report = rebuild(site, docs)
    report = deploy_site(config)
    # The post page and the list that shows its title; the sitemap's URLs did not change.
    assert sorted(report.uploaded) == ["blog/index.html", "blog/post-1/index.html"]
    assert report.changed == sorted(build_report.changes()["changed"])
    assert report.requests_by_operation == {"GetObject": 1, "ListObjectsV2": 1,
                                            "PutObject": 3}
    assert remote_files(s3, bucket) == local_bytes(site, owned_files(config))


def test_split_listing_equals_the_plain_listing(s3: S3TestServer, bucket: str) -> None:
    keys = [f"k{i:03d}" for i in range(0, 40, 3)] + ["a/b", "z", STATE_NAME]
    for key in keys:
        s3.client().put_object(Bucket=bucket, Key=f"p/{key}", Body=key.encode())
    s3.client().put_object(Bucket=bucket, Key="other", Body=b"x")
    store = S3Store.connect(plain_settings(s3), parse_target(f"s3://{bucket}/p"))
    plain = store.listing()
    assert set(plain) == set(keys) - {STATE_NAME}
    for splits in (["k010"], ["k009", "k021", "k030"], ["a", "k100"], ["zz"], ["0", "k000"]):
        assert store.listing(splits) == plain, splits


def plain_settings(s3: S3TestServer) -> Any:
    from ssgen.config.deploy import DeployConfig

    return DeployConfig(endpoint_url=s3.endpoint, region="us-east-1")


def test_a_large_state_lists_in_parallel_ranges(monkeypatch: pytest.MonkeyPatch,
                                                site: Path) -> None:
    monkeypatch.setattr("ssgen.deploy.sync.LIST_PAGE", 2)
    monkeypatch.setattr("ssgen.deploy.s3.LIST_PAGE", 2)  # pages end exactly at range ends
    config, _ = rebuild(site)
    owned = owned_files(config)
    deploy_site(config)
    report = deploy_site(config)
    assert report.uploaded == [] and report.skipped == len(owned)
    # 8 files: splits after the 2nd, 4th and 6th key make 4 ranges of 2 keys, one request
    # each, except the first, which also holds .ssgen-deploy.json ('.' sorts first).
    assert len(owned) == 8
    assert report.requests_by_operation["ListObjectsV2"] == 5
    docs = default_docs()
    docs[1] = post(1, title="Ranged")
    config, _ = rebuild(site, docs)
    assert sorted(deploy_site(config).uploaded) == ["blog/index.html", "blog/post-1/index.html"]


def test_changes_from_the_build_skip_the_listing(site: Path) -> None:
    config, _ = rebuild(site)
    deploy_site(config)
    docs = default_docs()
    docs[2] = post(2, title="Two")
    config, build_report = rebuild(site, docs)
    report = deploy_site(config, changes=build_report.changes())
    assert sorted(report.uploaded) == ["blog/index.html", "blog/post-2/index.html"]
    assert "ListObjectsV2" not in report.requests_by_operation
    assert report.requests_by_operation["GetObject"] == 1


def test_delete_removes_what_disappeared(s3: S3TestServer, bucket: str, site: Path) -> None:
    config, _ = rebuild(site)
    deploy_site(config)
    config, _ = rebuild(site, default_docs(1))
    kept = deploy_site(config)
    assert kept.deleted == [] and "blog/post-2/index.html" in remote_files(s3, bucket)
    assert "sitemap.xml" in kept.changed
    report = deploy_site(config, delete=True)
    assert report.deleted == ["blog/post-2/index.html"] and report.uploaded == []
    assert remote_files(s3, bucket) == local_bytes(site, owned_files(config))
    assert report.requests_by_operation["DeleteObjects"] == 1
    assert deploy_site(config, delete=True).requests_by_operation == {
        "GetObject": 1, "ListObjectsV2": 1}


def test_changes_delete_what_the_build_deleted(s3: S3TestServer, bucket: str,
                                              site: Path) -> None:
    config, _ = rebuild(site)
    deploy_site(config)
    s3.client().put_object(Bucket=bucket, Key="site/not-ours.txt", Body=b"x")
    config, build_report = rebuild(site, default_docs(1))
    report = deploy_site(config, changes=build_report.changes())
    assert report.deleted == ["blog/post-2/index.html"] == build_report.changes()["deleted"]
    assert set(remote_files(s3, bucket)) == {*owned_files(config), "not-ours.txt"}


def test_delete_leaves_other_prefixes_alone(s3: S3TestServer, bucket: str, site: Path) -> None:
    s3.client().put_object(Bucket=bucket, Key="other/keep.txt", Body=b"x")
    s3.client().put_object(Bucket=bucket, Key="site-old/keep.txt", Body=b"x")
    config, _ = rebuild(site)
    deploy_site(config, delete=True)
    assert set(s3.objects(bucket, "other/")) == {"other/keep.txt"}
    assert set(s3.objects(bucket, "site-old/")) == {"site-old/keep.txt"}


def head(s3: S3TestServer, bucket: str, rel: str) -> dict[str, Any]:
    result: dict[str, Any] = s3.client().head_object(Bucket=bucket, Key=f"site/{rel}")
    return result


def test_metadata_content_type_cache_control_sha256(s3: S3TestServer, bucket: str,
                                                    site: Path) -> None:
    config, _ = rebuild(site)
    deploy_site(config)
    page = head(s3, bucket, "blog/post-1/index.html")
    assert page["ContentType"] == "text/html; charset=utf-8"
    assert page["CacheControl"] == SHORT
    assert page["Metadata"]["sha256"] == sha((site / "public/blog/post-1/index.html").read_bytes())
    assert "ContentEncoding" not in page
    expected = {
        "app.3f2a9c1b.js": ("text/javascript; charset=utf-8", IMMUTABLE),
        "css/style.css": ("text/css; charset=utf-8", CSS_RULE),
        "img/logo.png": ("image/png", "public, max-age=86400"),
        "sitemap.xml": ("application/xml; charset=utf-8", SHORT),
        "robots.txt": ("text/plain; charset=utf-8", SHORT),
    }
    for rel, (ctype, cache) in expected.items():
        meta = head(s3, bucket, rel)
        assert (meta["ContentType"], meta["CacheControl"]) == (ctype, cache), rel
    assert head(s3, bucket, "img/logo.png")["Metadata"]["sha256"] == sha(STATIC["img/logo.png"])


def test_gzip_precompression(s3: S3TestServer, bucket: str, tmp_path: Path) -> None:
    site = make_deploy_site(tmp_path, bucket, s3.endpoint, extra='precompress = "gzip"')
    config, _ = rebuild(site)
    deploy_site(config)
    local = (site / "public/blog/index.html").read_bytes()
    meta = head(s3, bucket, "blog/index.html")
    assert meta["ContentEncoding"] == "gzip" and meta["Metadata"]["sha256"] == sha(local)
    body = s3.client().get_object(Bucket=bucket, Key="site/blog/index.html")["Body"].read()
    assert gzip.decompress(body) == local
    assert "ContentEncoding" not in head(s3, bucket, "img/logo.png")
    assert deploy_site(config).uploaded == []


def test_brotli_without_the_library_is_a_clear_error(s3: S3TestServer, bucket: str,
                                                     tmp_path: Path) -> None:
    site = make_deploy_site(tmp_path, bucket, s3.endpoint, extra='precompress = "br"')
    config, _ = rebuild(site)
    try:
        import brotli  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match="brotli package"):
            deploy_site(config)
    else:
        deploy_site(config)
        assert head(s3, bucket, "blog/index.html")["ContentEncoding"] == "br"


def test_metadata_rule_change_reuploads_only_matching(tmp_path: Path, s3: S3TestServer,
                                                      bucket: str, site: Path) -> None:
    config, _ = rebuild(site)
    deploy_site(config)
    toml = (site / "ssgen.toml").read_text()
    (site / "ssgen.toml").write_text(toml.replace(CSS_RULE, "public, max-age=60"))
    config, _ = rebuild(site)
    report = deploy_site(config)
    assert report.uploaded == ["css/style.css"] and report.changed == ["css/style.css"]
    assert head(s3, bucket, "css/style.css")["CacheControl"] == "public, max-age=60"


class FailAfter:
    """Makes the n+1-th site upload (not the state object) fail like a dropped connection."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.seen = 0

    def __call__(self, params: dict[str, Any], **_: Any) -> None:
        if params["Key"].endswith(STATE_NAME):
            return
        self.seen += 1
        if self.seen > self.n:
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1/injected")


def test_interrupted_upload_resumes(s3: S3TestServer, bucket: str, site: Path) -> None:
    config, _ = rebuild(site)
    owned = owned_files(config)
    store = fresh_store(config)
    store.client.meta.events.register("provide-client-params.s3.PutObject", FailAfter(3))
    with pytest.raises(DeployError, match="3 uploads done and recorded"):
        deploy_site(config, store=store, jobs=1, batch=2)
    assert len(remote_files(s3, bucket)) == 3
    report = deploy_site(config, store=fresh_store(config))
    assert len(report.uploaded) == len(owned) - 3
    assert "HeadObject" not in report.requests_by_operation  # the state covered the 3
    assert remote_files(s3, bucket) == local_bytes(site, owned)


class OutageAt:
    """The n-th site upload fails, and so does every state write after it."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.seen = 0

    def __call__(self, params: dict[str, Any], **_: Any) -> None:
        if params["Key"].endswith(STATE_NAME):
            if self.seen >= self.n:
                raise EndpointConnectionError(endpoint_url="http://127.0.0.1/state-outage")
            return
        self.seen += 1
        if self.seen == self.n:
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1/upload-outage")


def test_item17_a_failed_upload_reports_its_own_error_first(
    s3: S3TestServer, bucket: str, site: Path
) -> None:
    """Issue 13 item 17: the upload's error, not the state write that failed after it."""
    config, _ = rebuild(site)
    store = fresh_store(config)
    store.client.meta.events.register("provide-client-params.s3.PutObject", OutageAt(2))
    with pytest.raises(DeployError) as caught:
        deploy_site(config, store=store, jobs=1, batch=3)
    message = str(caught.value)
    assert message.startswith("uploading site/"), message
    assert "state-outage" in message and "upload-outage" in message, message
    assert message.index("upload-outage") < message.index("state-outage"), message
    assert "saving the deploy state failed too" in message
    assert isinstance(caught.value.__cause__, DeployError)
    assert "upload-outage" in str(caught.value.__cause__)


def test_missing_state_is_repaired_from_object_metadata(s3: S3TestServer, bucket: str,
                                                        site: Path) -> None:
    config, _ = rebuild(site)
    owned = owned_files(config)
    deploy_site(config)
    s3.client().delete_object(Bucket=bucket, Key=f"site/{STATE_NAME}")
    report = deploy_site(config)
    assert report.uploaded == [] and report.repaired == len(owned)
    assert report.requests_by_operation["HeadObject"] == len(owned)
    assert deploy_site(config).requests_by_operation == {"GetObject": 1, "ListObjectsV2": 1}


def test_corrupt_state_is_rebuilt(s3: S3TestServer, bucket: str, site: Path) -> None:
    config, _ = rebuild(site)
    deploy_site(config)
    s3.client().put_object(Bucket=bucket, Key=f"site/{STATE_NAME}", Body=b"{not json")
    report = deploy_site(config)
    assert report.uploaded == [] and report.repaired == len(owned_files(config))
    assert deploy_site(config).repaired == 0


def test_object_replaced_out_of_band_is_uploaded_again(s3: S3TestServer, bucket: str,
                                                       site: Path) -> None:
    config, _ = rebuild(site)
    deploy_site(config)
    s3.client().put_object(Bucket=bucket, Key="site/blog/post-1/index.html", Body=b"defaced")
    s3.client().delete_object(Bucket=bucket, Key="site/robots.txt")
    report = deploy_site(config)
    assert report.changed == ["blog/post-1/index.html"] and report.new == ["robots.txt"]
    assert remote_files(s3, bucket) == local_bytes(site, owned_files(config))


def test_upload_order_static_new_pages_changed_pages_generated(site: Path) -> None:
    config, _ = rebuild(site)
    deploy_site(config)
    (site / "static" / "new.css").write_bytes(b"p {}\n")
    config, _ = rebuild(site, [*default_docs(1), post(3)])
    store = fresh_store(config)
    calls: list[str] = []
    store.client.meta.events.register(
        "provide-client-params.s3",
        lambda params, event_name, **_: calls.append(
            f"{event_name.rsplit('.', 1)[-1]} {params.get('Key', '')}"))
    report = deploy_site(config, store=store, delete=True, jobs=1)
    puts = [call.split(" ", 1)[1].removeprefix("site/") for call in calls
            if call.startswith("PutObject") and not call.endswith(STATE_NAME)]
    assert puts == ["new.css", "blog/post-3/index.html", "blog/index.html", "sitemap.xml"]
    assert report.deleted == ["blog/post-2/index.html"]
    site_calls = [c for c in calls if not c.endswith(STATE_NAME)]
    assert site_calls[-1].startswith("DeleteObjects")


def test_dry_run_changes_nothing(s3: S3TestServer, bucket: str, site: Path) -> None:
    config, _ = rebuild(site)
    report = deploy_site(config, dry_run=True)
    assert report.dry_run and sorted(report.uploaded) == sorted(owned_files(config))
    assert s3.objects(bucket) == {}
    assert set(report.requests_by_operation) == {"GetObject", "ListObjectsV2"}


def test_cli_deploy_dry_run_prints_the_plan(s3: S3TestServer, bucket: str, site: Path) -> None:
    rebuild(site)
    result = run_cli("--site", str(site), "deploy", "--dry-run", f"s3://{bucket}/elsewhere")
    assert result.exit_code == 0, result.output
    assert "+ blog/post-1/index.html" in result.output
    assert s3.objects(bucket) == {}


def test_cli_deploy_uploads_to_the_argument_target(s3: S3TestServer, bucket: str,
                                                   site: Path) -> None:
    config, _ = rebuild(site)
    result = run_cli("--site", str(site), "-q", "deploy", f"s3://{bucket}/other/prefix")
    assert result.exit_code == 0, result.output
    assert remote_files(s3, bucket, "other/prefix/") == local_bytes(site, owned_files(config))
    assert remote_files(s3, bucket) == {}


def test_cli_bad_target_exits_2(site: Path) -> None:
    rebuild(site)
    result = run_cli("--site", str(site), "deploy", "https://example.com/x")
    assert result.exit_code == 2
    assert "not an s3:// target" in result.output.replace("\n", "")


def test_deploy_before_build_names_the_manifest(site: Path) -> None:
    result = run_cli("--site", str(site), "deploy")
    flat = result.output.replace("\n", "")  # rich wraps long paths mid-word
    assert result.exit_code == 1
    assert "manifest.sqlite not found" in flat and "ssgen build" in flat


def test_missing_output_file_names_it(site: Path) -> None:
    config, _ = rebuild(site)
    (site / "public" / "robots.txt").unlink()
    with pytest.raises(DeployError, match=r"robots\.txt: cannot read"):
        deploy_site(config)


def test_missing_bucket_is_named(s3: S3TestServer, tmp_path: Path) -> None:
    site = make_deploy_site(tmp_path, "no-such-bucket", s3.endpoint)
    config, _ = rebuild(site)
    with pytest.raises(DeployError, match="bucket 'no-such-bucket' does not exist"):
        deploy_site(config)


def test_no_credentials_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, site: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    config, _ = rebuild(site)
    store = fresh_store(config)
    with pytest.raises(DeployError, match="no S3 credentials"):
        deploy_site(config, store=store)


def test_no_target_anywhere_is_a_config_error(site: Path) -> None:
    config, _ = rebuild(site)
    settings = config.deploy
    assert settings is not None
    from dataclasses import replace

    bare = replace(config, deploy=replace(settings, target=None))
    with pytest.raises(ConfigError, match="no deploy target"):
        deploy_site(bare)
    assert parse_target("s3://b-1/x/").prefix == "x"


def test_cli_delete_flag_and_config_default(s3: S3TestServer, bucket: str, tmp_path: Path) -> None:
    site = make_deploy_site(tmp_path, bucket, s3.endpoint, extra="delete = true")
    config, _ = rebuild(site)
    assert run_cli("--site", str(site), "-q", "deploy").exit_code == 0
    config, _ = rebuild(site, default_docs(1))
    kept = run_cli("--site", str(site), "-q", "deploy", "--no-delete", "-j", "2")
    assert kept.exit_code == 0 and "blog/post-2/index.html" in remote_files(s3, bucket)
    result = run_cli("--site", str(site), "deploy")  # [deploy] delete = true
    assert result.exit_code == 0 and "deleted 1" in result.output
    assert remote_files(s3, bucket) == local_bytes(site, owned_files(config))


def test_cli_without_any_target_exits_2(tmp_path: Path) -> None:
    from sitekit import make_site

    site = make_site(tmp_path)
    rebuild(site)
    result = run_cli("--site", str(site), "deploy")
    assert result.exit_code == 2
    assert "no deploy target" in result.output.replace("\n", " ")


def test_cli_bad_deploy_config_names_the_line(tmp_path: Path) -> None:
    from sitekit import DEFAULT_TOML, make_site

    site = make_site(tmp_path, toml=DEFAULT_TOML + '\n[deploy]\naws_secret_access_key = "x"\n')
    result = run_cli("--site", str(site), "deploy")
    flat = result.output.replace("\n", "")
    assert result.exit_code == 2
    assert "ssgen.toml:" in flat and "deploy.aws_secret_access_key" in flat


def test_cli_connection_options_win_over_the_deploy_table(
    s3: S3TestServer, bucket: str, tmp_path: Path
) -> None:
    site = make_deploy_site(tmp_path, bucket, "http://127.0.0.1:9")  # nothing listens there
    config, _ = rebuild(site)
    result = run_cli("--site", str(site), "-q", "deploy", "--endpoint-url", s3.endpoint,
                     "--region", "eu-west-1")
    assert result.exit_code == 0, result.output
    assert remote_files(s3, bucket) == local_bytes(site, owned_files(config))
    bad = run_cli("--site", str(site), "deploy", "--endpoint-url", "s3.example.com")
    assert bad.exit_code == 2 and "--endpoint-url 's3.example.com' must start with http" in bad.output
    missing = run_cli("--site", str(site), "deploy", "--endpoint-url", s3.endpoint,
                      "--profile", "no-such-profile")
    assert missing.exit_code == 1 and "no-such-profile" in missing.output
