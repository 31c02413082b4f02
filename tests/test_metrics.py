"""``GET /metrics`` (parsed with prometheus-client's own parser), the log id carried from a
webhook through its rebuild, and ``ssgen status``."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from servekit import Running, running_server, sanity_webhook, wait_idle
from sitekit import author, make_site, post, write_docs
from typer.testing import CliRunner

from ssgen.cli.app import app
from ssgen.serve.metrics import signed_publish_time


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _metric(srv: Running, name: str, **labels: str) -> float:
    text = srv.client.get("/metrics").text
    return _samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def test_counters_match_what_was_sent(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    with running_server(site) as srv:
        write_docs(site, [author("a1", "Ada"), post(1), post(2), post(3)])
        published = int((time.time() - 2.0) * 1000)  # the change was published 2 s ago
        for n in (1, 2, 3):
            reply = sanity_webhook(srv.client, {"_id": f"p{n}", "_type": "post"}, t_ms=published)
            assert reply.status_code == 200, reply.text
        forged = sanity_webhook(srv.client, {"_id": "p1"}, secret="wrong")
        assert forged.status_code == 401
        bad = srv.client.post("/api/revalidate", content=b"{", headers={
            "authorization": "Bearer s3cret-for-tests"})
        assert bad.status_code == 400
        wait_idle(srv.client)
        reply = srv.client.get("/metrics")
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/plain")
        samples = _samples(reply.text)

    def value(name: str, **labels: str) -> float:
        return samples.get((name, tuple(sorted(labels.items()))), 0.0)

    assert value("ssgen_webhooks_received_total") == 5
    assert value("ssgen_webhooks_accepted_total") == 3
    assert value("ssgen_webhooks_refused_total", reason="unauthorized") == 1
    assert value("ssgen_webhooks_refused_total", reason="bad_request") == 1
    assert value("ssgen_queue_depth") == 0
    assert value("ssgen_queue_oldest_age_seconds") == 0
    assert value("ssgen_pages_rendered_total") >= 3
    assert value("ssgen_pages_written_total") >= 3
    assert value("ssgen_page_failures_total") == 0
    assert value("ssgen_rebuild_duration_seconds_count") >= 3
    assert value("ssgen_last_successful_rebuild_timestamp_seconds") > published / 1000
    # Every accepted webhook's lag to disk was observed, from the signed publish time.
    assert value("ssgen_freshness_lag_seconds_count", stage="disk") == 3
    assert value("ssgen_freshness_lag_seconds_sum", stage="disk") >= 3 * 2.0
    assert value("ssgen_freshness_lag_seconds_count", stage="deployed") == 0


def test_metrics_token(tmp_path: Path) -> None:
    with running_server(make_site(tmp_path), metrics_token="scrape-me") as srv:
        assert srv.client.get("/metrics").status_code == 401
        wrong = srv.client.get("/metrics", headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = srv.client.get("/metrics", headers={"authorization": "Bearer scrape-me"})
        assert right.status_code == 200 and b"ssgen_webhooks_received_total" in right.content


def test_one_log_id_from_webhook_to_rebuild(tmp_path: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
    site = make_site(tmp_path)
    with caplog.at_level(logging.INFO, logger="ssgen.serve"), running_server(site) as srv:
        write_docs(site, [author("a1", "Ada"), post(1), post(2)])
        reply = sanity_webhook(srv.client, {"_id": "p1", "_type": "post"}, key="delivery-42")
        assert reply.json()["trace"] == "delivery-42"
    events = {(r.__dict__.get("event"), r.__dict__.get("trace")) for r in caplog.records}
    assert ("accepted", "delivery-42") in events
    rebuilds = [r for r in caplog.records if r.__dict__.get("event") == "rebuild"]
    assert any("delivery-42" in r.__dict__["traces"] for r in rebuilds)


def test_signed_publish_time() -> None:
    assert signed_publish_time("t=1633519811129,v1=abc") == 1633519811.129
    assert signed_publish_time("v1=abc, t=1633519811129") == 1633519811.129
    assert signed_publish_time("v1=abc") is None
    assert signed_publish_time(None) is None


def test_status_command(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    runner = CliRunner()
    assert runner.invoke(app, ["--site", str(site), "build"]).exit_code == 0
    result = runner.invoke(app, ["--site", str(site), "status", "--json"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    assert status["healthy"] and status["queue_depth"] == 0 and status["pages"] > 0
    assert status["last_success"] > time.time() - 60
    from ssgen.manifest.store import Manifest

    with Manifest.open(site / ".ssgen/manifest.sqlite") as manifest:
        manifest.enqueue({"change": {}})
    result = runner.invoke(app, ["--site", str(site), "status", "--max-queue-age", "0"])
    assert result.exit_code == 1 and "UNHEALTHY" in result.stdout
