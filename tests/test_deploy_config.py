"""[deploy] in ssgen.toml: parsed into Config.deploy; every mistake names file:line and key."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssgen.config.deploy import DEFAULT_COMPRESS, CacheRule, Target, parse_target
from ssgen.config.load import Config, load_config
from ssgen.errors import ConfigError


def load(tmp_path: Path, toml: str) -> Config:
    (tmp_path / "ssgen.toml").write_text(toml, encoding="utf-8")
    return load_config(tmp_path, env={})


def error(tmp_path: Path, toml: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, toml)
    assert info.value.exit_code == 2
    return str(info.value)


FULL = """\
[site]
base_url = "https://example.com"

[deploy]
target = "s3://my-bucket/www/site/"
endpoint_url = "http://127.0.0.1:9000"
region = "auto"
profile = "deployer"
jobs = 16
delete = true
precompress = "gzip"
compress = ["*.html"]
cache_control = [{ pattern = "assets/**", value = "public, max-age=31536000, immutable" }]

[deploy.purge]
url = "https://hooks.example.com/purge"
command = ["./purge.sh", "--all"]
token_env = "PURGE_TOKEN"
timeout = 5
"""


def test_no_deploy_table_is_none(tmp_path: Path) -> None:
    assert load(tmp_path, "").deploy is None


def test_every_key_is_parsed(tmp_path: Path) -> None:
    deploy = load(tmp_path, FULL).deploy
    assert deploy is not None
    assert deploy.target == Target("my-bucket", "www/site")
    assert deploy.endpoint_url == "http://127.0.0.1:9000" and deploy.region == "auto"
    assert deploy.profile == "deployer" and deploy.jobs == 16 and deploy.delete
    assert deploy.precompress == "gzip" and deploy.compress == ("*.html",)
    assert deploy.cache_control == (CacheRule("assets/**", "public, max-age=31536000, immutable"),)
    assert deploy.purge is not None and deploy.purge.command == ("./purge.sh", "--all")
    assert deploy.purge.url == "https://hooks.example.com/purge"
    assert deploy.purge.token_env == "PURGE_TOKEN" and deploy.purge.timeout == 5


def test_defaults(tmp_path: Path) -> None:
    deploy = load(tmp_path, "[deploy]\n").deploy
    assert deploy is not None and deploy.target is None and deploy.jobs == 8
    assert deploy.precompress == "none" and deploy.compress == DEFAULT_COMPRESS
    assert deploy.cache_control == () and deploy.purge is None and not deploy.delete


def test_array_of_tables_rules_keep_order(tmp_path: Path) -> None:
    toml = ('[deploy]\n[[deploy.cache_control]]\npattern = "/a/*"\nvalue = "x"\n'
            '[[deploy.cache_control]]\npattern = "*.css"\nvalue = "y"\n')
    deploy = load(tmp_path, toml).deploy
    assert deploy is not None
    assert deploy.cache_control == (CacheRule("a/*", "x"), CacheRule("*.css", "y"))


def test_deploy_settings_do_not_change_the_build_hash(tmp_path: Path) -> None:
    plain = load(tmp_path, '[site]\nbase_url = "https://example.com"\n').hash
    assert load(tmp_path, FULL).hash == plain


@pytest.mark.parametrize("key", ["aws_secret_access_key", "aws_access_key_id",
                                 "secret_access_key", "aws_session_token", "password"])
def test_credentials_are_refused(tmp_path: Path, key: str) -> None:
    message = error(tmp_path, f'[site]\n[deploy]\ntarget = "s3://b-1"\n{key} = "x"\n')
    assert f"ssgen.toml:4: deploy.{key}: never put credentials in ssgen.toml" in message
    assert "AWS_SECRET_ACCESS_KEY" in message


def test_a_token_in_purge_is_refused(tmp_path: Path) -> None:
    message = error(tmp_path, '[deploy.purge]\nurl = "https://x.org"\ntoken = "abc"\n')
    assert "ssgen.toml:3: deploy.purge.token: never put credentials" in message


@pytest.mark.parametrize(
    ("body", "where", "fragment"),
    [
        ('targt = "s3://b-1"', "ssgen.toml:2: deploy.targt", "did you mean target?"),
        ('target = "gs://b-1/x"', "ssgen.toml:2: deploy.target", "not an s3:// target"),
        ('target = "s3://B!/x"', "ssgen.toml:2: deploy.target", "not a valid bucket name"),
        ('target = "s3://b-1/a/../b"', "ssgen.toml:2: deploy.target", "'..' segment"),
        ("jobs = 0", "ssgen.toml:2: deploy.jobs", "between 1 and 64"),
        ('jobs = "4"', "ssgen.toml:2: deploy.jobs", "must be an integer, not a string"),
        ('precompress = "zstd"', "ssgen.toml:2: deploy.precompress", '"gzip" or "br"'),
        ('endpoint_url = "127.0.0.1:9000"', "ssgen.toml:2: deploy.endpoint_url",
         "http:// or https://"),
        ("cache_control = [{ pattern = \"*.js\" }]", "deploy.cache_control[0].value",
         "required key is missing"),
        ("cache_control = [{ pattern = \"*.js\", value = \"x\", max_age = 1 }]",
         "deploy.cache_control[0].max_age", "unknown key"),
        ('cache_control = "public"', "ssgen.toml:2: deploy.cache_control",
         "must be an array of tables"),
    ],
)
def test_mistakes_name_file_line_and_key(tmp_path: Path, body: str, where: str,
                                         fragment: str) -> None:
    message = error(tmp_path, f"[deploy]\n{body}\n")
    assert where in message and fragment in message


@pytest.mark.parametrize(
    ("body", "where", "fragment"),
    [
        ("timeout = 5", "deploy.purge", "needs url"),
        ('url = "ftp://x"', "deploy.purge.url", "http:// or https://"),
        ("command = []", "deploy.purge.command", "must not be empty"),
        ('url = "https://x.org"\nbase_url = "example.com"', "deploy.purge.base_url",
         "http://"),
        ('url = "https://x.org"\nmethod = "PUT"', "deploy.purge.method", "unknown key"),
    ],
)
def test_purge_mistakes(tmp_path: Path, body: str, where: str, fragment: str) -> None:
    message = error(tmp_path, f"[deploy.purge]\n{body}\n")
    assert "ssgen.toml:" in message and where in message and fragment in message


_SEGMENT = st.from_regex(r"[A-Za-z0-9_\-]{1,8}", fullmatch=True)


@given(bucket=st.from_regex(r"[a-z0-9][a-z0-9\-]{2,20}", fullmatch=True),
       parts=st.lists(_SEGMENT, max_size=4))
def test_parse_target_round_trips(bucket: str, parts: list[str]) -> None:
    text = f"s3://{bucket}/" + "/".join(parts)
    target = parse_target(text)
    assert target.bucket == bucket and target.prefix == "/".join(parts)
    assert parse_target(str(target)) == target
    assert target.key("a/index.html") == "/".join([*parts, "a/index.html"])
