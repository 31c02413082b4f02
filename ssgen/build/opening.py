"""A build's start: the site's manifest opened, and why the build must be full."""

from __future__ import annotations

from ssgen import __version__
from ssgen.build.progress import Reporter
from ssgen.config.load import Config
from ssgen.errors import ManifestError
from ssgen.manifest.connect import open_state, state_exists
from ssgen.manifest.schema import TAG_SCHEME
from ssgen.manifest.store import Manifest


def open_manifest(
    config: Config, key: str, full: bool, reporter: Reporter, kept: Manifest | None = None
) -> tuple[Manifest, str]:
    """The site's manifest and why this build must be full ("" when it need not be); a
    fresh manifest when it is missing or unusable. ``kept``: the manifest, open already
    (whoever opened it made it usable)."""
    if kept is not None:
        return kept, _why_full(kept, key, full, reporter)
    path = config.state_dir / "manifest.sqlite"
    existed = state_exists(config.state_dir, config.state_url)
    try:
        manifest = open_state(config.state_dir, config.state_url)
    except ManifestError as exc:
        if config.state_url:
            raise
        reporter.warn(f"{exc}; starting a full rebuild with a new manifest")
        return Manifest.reset(path), "the manifest was unusable"
    if not existed and not full:
        return manifest, "no manifest yet (first build, or .ssgen/ was removed)"
    return manifest, _why_full(manifest, key, full, reporter)


def _why_full(manifest: Manifest, key: str, full: bool, reporter: Reporter) -> str:
    if full:
        return "--full"
    reason = full_build_reason(manifest.get_meta("ssgen_version"),
                               manifest.get_meta("tag_scheme"),
                               manifest.get_meta("config_hash"), key)
    if reason:
        reporter.info(f"full rebuild: {reason}")
    return reason


def full_build_reason(version: str | None, scheme: str | None, stored: str | None,
                      key: str) -> str:
    """Why the manifest's last build cannot be built on ("" when it can), from what each
    finished build records: ssgen's version, the tag scheme (``TAG_SCHEME``; none before
    it was recorded) and ``key``, ``<config hash>:<drafts or perspective>``."""
    if version is None or stored is None:
        return "the last build did not finish (interrupted)"
    if scheme != TAG_SCHEME:
        return f"tag scheme changed ({scheme or 'none recorded'} -> {TAG_SCHEME})"
    if version != __version__:
        return f"ssgen version changed ({version} -> {__version__})"
    if stored == key:
        return ""
    old_hash, _, old_mode = stored.partition(":")
    new_hash, _, new_mode = key.partition(":")
    if old_hash != new_hash:
        return "configuration changed (ssgen.toml or the environment it reads)"
    if "drafts" in (old_mode, new_mode):
        return f"--drafts {'given' if new_mode == 'drafts' else 'dropped'} since the last build"
    return f"perspective changed ({old_mode} -> {new_mode})"
