"""Operations: health and readiness, metrics, structured logs, Redis outages, graceful shutdown,
housekeeping and several worker processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.browser_flow import obtain_code, sign_in
from tests.support.mindmaps import make_xmind_json
from tests.support.seed import Seeder
from tests.support.server import LiveServer, free_port, start_server
from tests.support.tokens import exchange, me
from tests.support.waiting import exited, wait_for_exit, wait_until


def test_health_readiness_and_request_ids(server: LiveServer) -> None:
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(server.url + "/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "keys": "ok"}}
    echoed = httpx.get(server.url + "/healthz", headers={"X-Request-ID": "trace-123"})
    assert echoed.headers["x-request-id"] == "trace-123"
    minted = httpx.get(server.url + "/healthz", headers={"X-Request-ID": "x" * 100})
    assert len(minted.headers["x-request-id"]) == 16
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    assert any(e.get("request_id") == "trace-123" and e.get("path") == "/healthz" for e in lines)


def test_metrics(server: LiveServer, seeder: Seeder) -> None:
    app = seeder.app(seeder.user("dev"))
    exchange(server.url, app, obtain_code(server.url, seeder.user("u"), app.client_id,
                                          app.redirect_uris[0]))
    httpx.post(server.url + "/oauth/token", data={"grant_type": "refresh_token",
               "refresh_token": "oprt_x", "client_id": app.client_id, "client_secret": "wrong"})
    with httpx.Client(base_url=server.url) as browser:
        page = browser.get("/signin")
        csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        browser.post("/signin", data={"csrf_token": csrf, "login": "nobody", "password": "x" * 9})
    text = httpx.get(server.url + "/metrics").text
    assert 'openplate_tokens_issued_total{grant_type="authorization_code"}' in text
    assert 'openplate_grant_errors_total{error="invalid_client"}' in text
    assert "openplate_signin_failures_total" in text
    assert 'openplate_http_requests_total{method="POST",route="/oauth/token",status="200"}' in text
    assert 'openplate_http_request_duration_seconds_bucket{le="0.005",route="/oauth/token"}' in text
    assert 'openplate_db_pool_connections{state="idle"}' in text
    assert "opat_" not in text and "oprt_" not in text


@pytest.fixture()
def redis_down_server(tmp_path: Path) -> Iterator[LiveServer]:
    live = start_server(tmp_path, extra_env={
        "OPENPLATE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        "OPENPLATE_SIGNIN_FAILURES_PER_ACCOUNT": "2",
    })
    yield live
    live.stop()


def test_redis_down_stays_correct_and_limited(redis_down_server: LiveServer) -> None:
    live = redis_down_server
    seeder = Seeder(live)
    account = seeder.user("u")
    ready = httpx.get(live.url + "/readyz").json()
    assert ready["status"] == "ready" and ready["checks"]["redis"].startswith("degraded")
    with httpx.Client(base_url=live.url, timeout=20) as browser:
        assert sign_in(browser, account).status_code == 303  # sign-in works without Redis
    app = seeder.app(seeder.user("dev"))
    tokens = exchange(live.url, app, obtain_code(live.url, account, app.client_id,
                                                 app.redirect_uris[0]))
    assert tokens.status_code == 200 and me(live.url, tokens.json()["access_token"]).status_code == 200
    wrong = type(account)(account.id, account.username, account.email, "wrong password")
    statuses = []
    for _ in range(3):
        with httpx.Client(base_url=live.url, timeout=20) as browser:
            statuses.append(sign_in(browser, wrong).status_code)
    assert statuses == [401, 401, 429]  # limits still hold: counted in the database
    assert "throttling on the database" in live.log()


def test_graceful_shutdown_finishes_in_flight_requests(tmp_path: Path) -> None:
    live = start_server(tmp_path)
    try:
        seeder = Seeder(live)
        app = seeder.app(seeder.user("dev"))
        token = exchange(live.url, app, obtain_code(live.url, seeder.user("u"), app.client_id,
                                                    app.redirect_uris[0])).json()["access_token"]
        upload = httpx.Request("POST", live.url + "/maps",
                               files={"map": ("m.xmind", make_xmind_json())})
        body = upload.read()
        head = (f"POST /maps HTTP/1.1\r\nHost: {upload.url.netloc.decode()}\r\n"
                f"Authorization: Bearer {token}\r\n"
                f"Content-Type: {upload.headers['content-type']}\r\n"
                f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n").encode()
        with socket.create_connection((upload.url.host, upload.url.port), timeout=30) as conn:
            conn.sendall(head)
            # The server answers "100 Continue" only once the application asks for the body, so
            # the request is in flight, not merely waiting in the kernel to be accepted: a
            # connection with no request yet is closed at shutdown, as it should be.
            assert _read_until(conn, b"\r\n\r\n").startswith(b"HTTP/1.1 100 Continue")
            conn.sendall(body[: len(body) // 2])
            os.kill(live.process.pid, signal.SIGTERM)  # the request is half received
            # The rest only once the server is shutting down and waits for this request.
            wait_until(lambda: "Waiting for connections to close" in live.log(),
                       "the server to begin its graceful shutdown and wait for the request in "
                       "flight (uvicorn: 'Waiting for connections to close')",
                       log=live.log, gone=exited(live.process))
            conn.sendall(body[len(body) // 2:])
            answer = _read_until(conn, b"")
        head_lines, _, payload = answer.partition(b"\r\n\r\n")
        status, *headers = head_lines.split(b"\r\n")
        assert status == b"HTTP/1.1 201 Created", answer[:500]
        assert b"connection: close" in [h.lower() for h in headers]  # the connection is not kept
        assert json.loads(payload)["url"].startswith(live.url + "/")
        # uvicorn finishes the request, shuts the app down, then re-raises SIGTERM as its exit
        # status.
        assert wait_for_exit(live.process, "the server, after the request in flight",
                             log=live.log) in (0, -signal.SIGTERM)
        assert "Application shutdown complete" in live.log()
    finally:
        live.stop()


def _read_until(conn: socket.socket, end: bytes) -> bytes:
    """Bytes from conn up to and including end, or up to the close when end is empty."""
    data = b""
    while not end or end not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_purge_deletes_only_what_expired(tmp_path: Path) -> None:
    live = start_server(tmp_path)
    try:
        seeder = Seeder(live)
        app = seeder.app(seeder.user("dev"))
        account = seeder.user("u")
        old = exchange(live.url, app, obtain_code(live.url, account, app.client_id,
                                                  app.redirect_uris[0])).json()
        fresh = exchange(live.url, app, obtain_code(live.url, account, app.client_id,
                                                    app.redirect_uris[0])).json()
        past = int(time.time()) - 10 * 86_400
        seeder.execute("UPDATE access_tokens SET expires_at = :t WHERE digest = :d", t=past,
                       d=seeder.digester.digest(old["access_token"]))
        seeder.execute("UPDATE authorization_codes SET expires_at = :t", t=past)
        seeder.execute("UPDATE sessions SET expires_at = :t", t=past)
        purged = subprocess.run([sys.executable, "-m", "openplate.cli", "purge", "--batch", "1",
                                 "--json"],
                                env=live.env, capture_output=True, text=True, timeout=60, check=True)
        counts = json.loads(purged.stdout)
        assert counts["access_tokens"] == 1 and counts["authorization_codes"] == 2
        assert counts["sessions"] >= 2
        assert me(live.url, fresh["access_token"]).status_code == 200  # live tokens untouched
        events = seeder.scalar("SELECT COUNT(*) FROM security_events")
        assert isinstance(events, int) and events > 0  # recent security-log events stay
    finally:
        live.stop()


def test_several_workers(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "OPENPLATE_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}",
           "OPENPLATE_SECRET_KEY": "k" * 48}
    log_file = tmp_path / "server.log"
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "openplate.cli", "serve", "--port", str(port), "--workers", "2",
             "--log-level", "warning"], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)

    def server_log() -> str:
        return log_file.read_text(errors="replace")

    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: httpx.get(url + "/readyz", timeout=5).status_code == 200,
                   f"openplate serve --workers 2 to answer GET {url}/readyz with 200",
                   log=server_log, gone=exited(process), ignore=(httpx.HTTPError,))
        pids = {httpx.get(url + "/healthz").status_code for _ in range(10)}
        assert pids == {200}
        metrics = httpx.get(url + "/metrics").text
        assert "openplate_http_requests_total" in metrics
    finally:
        process.send_signal(signal.SIGTERM)
        wait_for_exit(process, "openplate serve --workers 2, after SIGTERM", log=server_log)
