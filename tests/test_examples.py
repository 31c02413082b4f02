"""The examples users copy: the GitHub Actions workflow installs ssgen from its repository
at a pinned ref (the package is not on PyPI), and the systemd unit stops serve with a
signal that ends it cleanly (exit 0, tested in test_serve_crash.py), after a timeout
longer than serve's wait for its last snapshot save."""

from __future__ import annotations

from pathlib import Path

import yaml

from ssgen.sources.snapshot import background

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_github_actions_installs_from_the_repository_at_a_pinned_ref() -> None:
    workflow = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text())
    job = workflow["jobs"]["build"]
    install = next(step for step in job["steps"] if step.get("name") == "Install ssgen")
    assert install["run"] == 'pip install "ssgen @ git+${SSGEN_REPO}@${SSGEN_REF}"'
    assert job["env"]["SSGEN_REPO"].startswith("https://")
    assert job["env"]["SSGEN_REF"]
    assert "pip install ssgen\n" not in (EXAMPLES / "github-actions.yml").read_text()


def test_the_systemd_unit_stops_serve_with_sigint_or_sigterm() -> None:
    lines = (EXAMPLES / "ssgen-serve.service").read_text().splitlines()
    settings = dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    assert settings.get("KillSignal", "SIGTERM") in ("SIGINT", "SIGTERM")
    assert settings["ExecStart"].endswith("ssgen serve")


def test_the_systemd_unit_waits_longer_than_serve_waits_for_its_last_save() -> None:
    """A unit stopped sooner kills the snapshot save (``background.FINAL_WAIT``)."""
    lines = (EXAMPLES / "ssgen-serve.service").read_text().splitlines()
    settings = dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    assert int(settings["TimeoutStopSec"].removesuffix("s")) >= background.FINAL_WAIT + 20
