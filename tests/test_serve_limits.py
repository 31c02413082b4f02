"""Issue 13, items 13 and 14: connection limits (slowloris, slow bodies, big heads,
concurrency) on a real uvicorn server, and the start-up policy for secrets and dev mode."""

from __future__ import annotations

import select
import socket
import time
import types
from pathlib import Path

import pytest
from servekit import SECRET, Running, running_server, status_of
from sitekit import make_site, run_cli

from ssgen.errors import ConfigError
from ssgen.serve.limits import ServerLimits, uvicorn_config
from ssgen.serve.policy import MIN_SECRET, check_secret, dev_exposure_warning, is_loopback

HEAD = b"GET /blog/ HTTP/1.1\r\nHost: test\r\n"


def _address(srv: Running) -> tuple[str, int]:
    host, port = srv.url.removeprefix("http://").split(":")
    return host, int(port)


def _cut_off_times(socks: list[socket.socket], started: list[float],
                   give_up: float) -> list[float]:
    """Trickle one header line per socket every 0.2 s; how long after its own start
    (``started``, per socket) did the server close each?"""
    closed: dict[socket.socket, float] = {}
    since = dict(zip(socks, started, strict=True))
    first = min(started)
    while len(closed) < len(socks) and time.monotonic() - first < give_up:
        for sock in socks:
            if sock in closed:
                continue
            try:
                sock.send(b"X-Slow: 1\r\n")
            except OSError:
                closed[sock] = time.monotonic() - since[sock]
        readable, _, _ = select.select([s for s in socks if s not in closed], [], [], 0.2)
        for sock in readable:
            try:
                data = sock.recv(4096)
            except OSError:
                data = b""
            if not data:
                closed[sock] = time.monotonic() - since[sock]
    return [closed.get(s, float("inf")) for s in socks]


def test_item13_a_slowloris_batch_is_cut_off_at_the_header_timeout(tmp_path: Path) -> None:
    limits = ServerLimits(header_timeout=1.0)
    with running_server(make_site(tmp_path), limits=limits) as srv:
        socks, started = [], []
        for _ in range(200):
            # Each socket's time counts from its own connect: on a loaded machine opening
            # the batch takes a while, and the server's deadline is per connection.
            started.append(time.monotonic())
            sock = socket.create_connection(_address(srv))
            sock.sendall(HEAD)
            sock.setblocking(False)
            socks.append(sock)
        try:
            times = _cut_off_times(socks, started, give_up=15.0)
        finally:
            for sock in socks:
                sock.close()
        assert max(times) < 15.0, "some partial-header connections were never closed"
        # the deadline is absolute: trickled bytes do not extend it (the bound is loose: a
        # loaded CI machine may be slow to run the timers, never early)
        assert min(times) >= 0.9 * limits.header_timeout
        assert max(times) <= limits.header_timeout + 6.0
        assert srv.client.get("/blog/").status_code == 200  # the server is fine


def test_item13_a_keep_alive_connection_trickling_its_next_request_is_cut_off(
    tmp_path: Path,
) -> None:
    limits = ServerLimits(header_timeout=1.0, keep_alive=30)
    with running_server(make_site(tmp_path), limits=limits) as srv:
        sock = socket.create_connection(_address(srv))
        try:
            sock.sendall(HEAD + b"\r\n")
            sock.settimeout(30)  # the reply, however late a loaded machine sends it
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
            sock.sendall(HEAD)
            sock.setblocking(False)
            times = _cut_off_times([sock], [time.monotonic()], give_up=10.0)
        finally:
            sock.close()
        assert times[0] <= limits.header_timeout + 6.0


def test_item13_a_slow_body_is_a_408(tmp_path: Path) -> None:
    with running_server(make_site(tmp_path), body_timeout=0.5) as srv, \
            socket.create_connection(_address(srv)) as sock:
        sock.sendall(b"POST /api/revalidate HTTP/1.1\r\nHost: t\r\n"
                     b"Authorization: Bearer " + SECRET.encode() +
                     b"\r\nContent-Length: 100\r\n\r\n{\"tags\":")
        sock.settimeout(30)  # the reply, however late a loaded machine sends it
        assert sock.recv(65536).startswith(b"HTTP/1.1 408")


def test_item13_an_oversized_request_head_is_refused(tmp_path: Path) -> None:
    limit = ServerLimits.max_head_bytes
    with running_server(make_site(tmp_path)) as srv:
        assert srv.client.get("/blog/", headers={"x-big": "a" * (limit - 200)}).status_code == 200
        for size in (limit + 1, 100_000, 300_000):
            reply = srv.client.get("/blog/", headers={"x-big": "a" * size})
            assert reply.status_code == 431, size
        with socket.create_connection(_address(srv)) as sock:  # trickled in small pieces
            sock.sendall(HEAD)
            sock.settimeout(5)
            try:
                for _ in range(limit // 1000 + 2):
                    sock.sendall(b"X-Part: " + b"b" * 990 + b"\r\n")
            except OSError:
                pass  # closed by the server while sending
            assert sock.recv(65536).startswith(b"HTTP/1.1 431")
        assert srv.client.get("/blog/").status_code == 200


def test_item13_over_the_concurrency_limit_new_requests_wait_out_the_head_timeout(
    tmp_path: Path,
) -> None:
    limits = ServerLimits(header_timeout=1.0, concurrency=4)
    with running_server(make_site(tmp_path), limits=limits) as srv:
        holders = [socket.create_connection(_address(srv)) for _ in range(4)]
        try:
            for sock in holders:
                sock.sendall(HEAD)
            with socket.create_connection(_address(srv)) as sock:
                sock.sendall(HEAD + b"\r\n")
                sock.settimeout(30)  # the reply, however late a loaded machine sends it
                assert sock.recv(65536).startswith(b"HTTP/1.1 503")
            # the holders are cut off after the head timeout (polled: a loaded machine may
            # run the timers late, never early), and then requests are served again
            time.sleep(limits.header_timeout)
            deadline = time.monotonic() + 10
            while status_of(srv.client, "/blog/") in (503, None):
                assert time.monotonic() < deadline, "the holders were never cut off"
                time.sleep(0.1)
            assert srv.client.get("/blog/").status_code == 200
        finally:
            for sock in holders:
                sock.close()


def test_item13_defaults_are_the_documented_limits() -> None:
    config = uvicorn_config(object())
    assert config.timeout_keep_alive == 5
    assert config.limit_concurrency == 512
    assert config.h11_max_incomplete_event_size == 16 * 1024
    assert config.backlog == 2048
    assert getattr(config.http, "header_timeout", None) == 10.0
    docs = (Path(__file__).parent.parent / "docs" / "serve.md").read_text()
    for fact in ("10 s", "keep-alive", "512", "16 KiB", "408"):
        assert fact in docs, fact


# --- item 14: secrets and dev mode ----------------------------------------------------------


@pytest.mark.parametrize("secret", ["x", " " * 40, "short-secret", "a b c d e f g h i j k l m n o",
                                    "\t" * 8 + "123456789012345"])
def test_item14_weak_secrets_are_refused(secret: str) -> None:
    with pytest.raises(ConfigError, match=f"at least {MIN_SECRET}"):
        check_secret(secret, dev=False)
    assert check_secret(secret, dev=False, allow_weak=True) == secret


def test_item14_strong_secret_and_dev_without_secret_are_accepted() -> None:
    assert check_secret(SECRET, dev=False) == SECRET
    assert check_secret(None, dev=True) is None
    with pytest.raises(ConfigError, match="needs a webhook secret"):
        check_secret("", dev=False)


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.8.9.1", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("0.0.0.0", False), ("::", False), ("192.168.1.4", False),
    ("example.com", False),
])
def test_item14_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    assert (dev_exposure_warning(host, dev=True) is None) is loopback
    assert dev_exposure_warning(host, dev=False) is None


class _FakeServer:
    """What serve uses of ``uvicorn.Server``: its config's port, and ``run``."""

    ran = 0

    def __init__(self) -> None:
        self.config = types.SimpleNamespace(port=0)

    def run(self, sockets: list[socket.socket] | None = None) -> None:
        _FakeServer.ran += 1


def test_item14_the_cli_refuses_weak_secrets_and_warns_about_exposed_dev_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site(tmp_path)
    monkeypatch.setattr("ssgen.cli.serve._server", lambda *a, **k: _FakeServer())
    # the real setup would point the serve loggers at this run's (then closed) stderr
    monkeypatch.setattr("ssgen.cli.serve.setup_logging", lambda *a: None)
    monkeypatch.delenv("SSGEN_REVALIDATE_SECRET", raising=False)
    result = run_cli("--site", str(site), "serve", "--port", "0", "--revalidate-secret", "x")
    assert result.exit_code == 2 and "too weak" in result.output
    monkeypatch.setenv("SSGEN_REVALIDATE_SECRET", "   ")
    result = run_cli("--site", str(site), "serve", "--port", "0")
    assert result.exit_code == 2 and "too weak" in result.output
    result = run_cli("--site", str(site), "serve", "--port", "0", "--revalidate-secret", "x",
                     "--allow-weak-secret")
    assert result.exit_code == 0 and _FakeServer.ran == 1
    monkeypatch.setenv("SSGEN_REVALIDATE_SECRET", SECRET)
    result = run_cli("--site", str(site), "serve", "--port", "0")
    assert result.exit_code == 0 and "warning" not in result.output
    result = run_cli("--site", str(site), "serve", "--port", "0", "--dev", "--host", "0.0.0.0")
    assert result.exit_code == 0 and "--dev listens on 0.0.0.0" in result.output
    monkeypatch.delenv("SSGEN_REVALIDATE_SECRET")
    result = run_cli("--site", str(site), "serve", "--port", "0", "--dev")
    assert result.exit_code == 0 and "warning" not in result.output


def test_serve_logs_follow_a_swapped_stderr_and_never_write_to_a_closed_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import logging

    from ssgen.cli.serve import setup_logging

    first = io.StringIO()
    monkeypatch.setattr("sys.stderr", first)
    setup_logging("text", 1)
    log = logging.getLogger("ssgen.serve")
    log.warning("one")
    first.close()  # a test runner's capture ends; the handler must not keep it
    second = io.StringIO()
    monkeypatch.setattr("sys.stderr", second)
    log.warning("two")
    assert "two" in second.getvalue()
    assert "Logging error" not in second.getvalue()
    log.handlers.clear()
