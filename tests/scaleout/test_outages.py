"""Outages: a frozen PostgreSQL or Redis (a real one behind a proxy that stops forwarding, see
tests/support/freezer.py; the shared services are never touched) and failures that are not the
database. Every request is answered while the service is still frozen, so it is the server's
time limit that answered, not the service waking up; pages get an HTML error page, API clients
JSON; keep-alive connections survive; the access log and /metrics record the status sent; and
no traceback is logged for an outage."""

from __future__ import annotations

import http.client
import json
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import openplate
from tests.support.browser_flow import sign_in
from tests.support.freezer import FreezingProxy
from tests.support.postgres import create_database, drop_database
from tests.support.seed import Seeder
from tests.support.server import LiveServer, start_server

#: The time limits, small so the tests are quick. Nothing here measures time: each answer comes
#: while the service is frozen, which only a time limit can explain. Without the limits, a
#: request would wait for the client's own timeout (HANG) and the test fail.
LIMITS = {
    "OPENPLATE_DB_CONNECT_TIMEOUT": "1", "OPENPLATE_DB_POOL_TIMEOUT": "1",
    "OPENPLATE_DB_STATEMENT_TIMEOUT": "1", "OPENPLATE_READYZ_TIMEOUT": "1",
    "OPENPLATE_REDIS_TIMEOUT": "0.3",
}
HANG = 60


@pytest.fixture()
def frozen_postgres(tmp_path: Path) -> Iterator[tuple[LiveServer, FreezingProxy]]:
    url = create_database()
    proxy = FreezingProxy(5432)
    name = url.rsplit("/", 1)[1]
    live = start_server(tmp_path, database_url=f"postgresql://postgres@127.0.0.1:{proxy.port}/{name}",
                        extra_env=LIMITS)
    try:
        yield live, proxy
    finally:
        proxy.thaw()
        live.stop()
        proxy.close()
        drop_database(url)


class KeptAlive:
    """One HTTP/1.1 connection that must stay open across requests (http.client would quietly
    open a new one if the server closed it: ``ask`` checks that it did not)."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=HANG)
        self.sock: object = None

    def ask(self, method: str, path: str, body: str | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        self.conn.request(method, path, body=body, headers=headers or {})
        if self.sock is None:
            self.sock = self.conn.sock
        assert self.conn.sock is self.sock, "the server closed the keep-alive connection"
        answer = self.conn.getresponse()
        body_bytes = answer.read()
        assert not answer.will_close, f"{method} {path}: the server will close the connection"
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, body_bytes

    def close(self) -> None:
        self.conn.close()


def access_lines(live: LiveServer) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in live.log().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("logger") == "openplate.access"]


def test_frozen_postgresql_is_a_503_in_time_and_nothing_else_breaks(
        frozen_postgres: tuple[LiveServer, FreezingProxy]) -> None:
    live, proxy = frozen_postgres
    seeder = Seeder(live)
    app = seeder.app(seeder.user("dev"))
    # The app may not use this grant: the answer (400) says its record was read, while frozen
    # reading it fails (no request before the freeze, so the client cache is empty).
    form = (f"grant_type=client_credentials&client_id={app.client_id}"
            f"&client_secret={app.client_secret}")
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    browser = KeptAlive(live.url)
    try:
        assert browser.ask("GET", "/signin", headers={"Accept": "text/html"})[0] == 200
        with proxy.frozen():
            status, headers, page = browser.ask("GET", "/signin", headers={"Accept": "text/html"})
            assert status == 503 and headers["content-type"].startswith("text/html")
            assert b"briefly unavailable" in page and headers["retry-after"] == "1"
            assert headers["x-request-id"] and headers["x-frame-options"]  # the front's headers
            status, headers, body = browser.ask("POST", "/oauth/token", form, form_type)
            assert status == 503 and json.loads(body)["error"] == "temporarily_unavailable"
            status, _, body = browser.ask("GET", "/readyz")
            assert status == 503 and json.loads(body)["checks"]["database"] == "TimeoutError"
            frozen_requests = len(access_lines(live))
        # Thawed: the same connection carries on, and the database is used again.
        status, _, body = browser.ask("POST", "/oauth/token", form, form_type)
        assert json.loads(body)["error"] == "unauthorized_client"  # the client was read: no 503
        assert browser.ask("GET", "/readyz")[0] == 200
    finally:
        browser.close()
    statuses = {(line["method"], line["path"]): line["status"]
                for line in access_lines(live)[:frozen_requests]}
    assert statuses[("GET", "/signin")] == 503 and statuses[("POST", "/oauth/token")] == 503
    metrics = httpx.get(live.url + "/metrics").text
    assert 'openplate_http_requests_total{method="GET",route="/signin",status="503"} 1.0' in metrics
    assert 'route="/oauth/token",status="503"} 1.0' in metrics
    log = live.log()
    assert "Traceback" not in log and "unhandled error" not in log
    assert "database unavailable on GET /signin: TimeoutError" in log


def test_frozen_redis_falls_back_to_the_database_in_time(tmp_path: Path) -> None:
    proxy = FreezingProxy(6379)
    prefix = f"openplate-test-{secrets.token_hex(4)}:"
    live = start_server(tmp_path, extra_env={
        **LIMITS, "OPENPLATE_REDIS_URL": f"redis://127.0.0.1:{proxy.port}/0",
        "OPENPLATE_REDIS_PREFIX": prefix, "OPENPLATE_SIGNIN_FAILURES_PER_ACCOUNT": "2"})
    try:
        account = Seeder(live).user("u")
        wrong = type(account)(account.id, account.username, account.email, "wrong password")
        with httpx.Client(base_url=live.url, timeout=HANG) as browser:
            assert sign_in(browser, wrong).status_code == 401  # Redis answers: counted there
        with proxy.frozen():
            ready = httpx.get(live.url + "/readyz", timeout=HANG)
            assert ready.status_code == 200
            assert ready.json()["checks"]["redis"].startswith("degraded (TimeoutError)")
            before = proxy.accepted
            statuses = []
            for _ in range(3):
                with httpx.Client(base_url=live.url, timeout=HANG) as browser:
                    statuses.append(sign_in(browser, wrong).status_code)
            # One connection per Redis call at most (two a sign-in): a timed-out call is
            # neither retried nor left to block the next one on its connection.
            assert proxy.accepted - before <= 6
        assert statuses == [401, 401, 429]  # counted in the database while Redis was frozen
        assert "throttling on the database: TimeoutError" in live.log()
    finally:
        proxy.thaw()
        live.stop()
        proxy.close()
        _forget(prefix)


def _forget(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        for key in client.scan_iter(match=prefix + "*"):
            client.delete(key)
    finally:
        client.close()


def test_a_failure_that_is_not_the_database_is_a_500_named_for_what_it_is(tmp_path: Path) -> None:
    """A real server from a copy of the package whose home page template is missing (a broken
    install): jinja2's TemplateNotFound is an OSError, which was answered as 'database
    unavailable'. The server runs with the copy as its working directory, so it imports it."""
    copy = tmp_path / "openplate"
    shutil.copytree(Path(openplate.__file__).parent, copy,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "web" / "templates" / "home.html").unlink()
    live = start_server(tmp_path)
    try:
        browser = KeptAlive(live.url)
        try:
            status, headers, page = browser.ask("GET", "/", headers={"Accept": "text/html"})
            assert status == 500 and headers["content-type"].startswith("text/html")
            assert b"Something went wrong" in page and b"unavailable" not in page
            status, _, body = browser.ask("GET", "/")
            assert status == 500 and json.loads(body)["error"] == "server_error"
            assert browser.ask("GET", "/healthz")[0] == 200  # the connection survived
        finally:
            browser.close()
        log = live.log()
        assert "unhandled error on GET /: TemplateNotFound" in log
        assert "database unavailable" not in log
        assert [line["status"] for line in access_lines(live) if line["path"] == "/"] == [500, 500]
        assert 'route="/",status="500"} 2.0' in httpx.get(live.url + "/metrics").text
    finally:
        live.stop()
