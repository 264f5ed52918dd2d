"""Brute force is throttled per account, per client and per address, with 429 and Retry-After,
without telling whether an account exists."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from tests.support.browser_flow import sign_in
from tests.support.seed import Seeder
from tests.support.server import LiveServer, start_server


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder: Path = tmp_path_factory.mktemp("throttled")
    live = start_server(folder, extra_env={
        "OPENPLATE_SIGNIN_FAILURES_PER_ACCOUNT": "3",
        "OPENPLATE_SIGNIN_FAILURES_PER_IP": "12",
        "OPENPLATE_TOKEN_FAILURES_PER_CLIENT": "4",
        "OPENPLATE_TOKEN_FAILURES_PER_IP": "1000",
    })
    yield live
    live.stop()


def _attempt(server: LiveServer, login: str, password: str) -> httpx.Response:
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        page = browser.get("/signin")
        csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        return browser.post("/signin", data={"csrf_token": csrf, "login": login,
                                             "password": password, "next": "/"})


def test_signin_throttled_per_account_alike_for_unknown_names(strict_server: LiveServer) -> None:
    seeder = Seeder(strict_server)
    account = seeder.user("victim")
    for login in (account.username, "no-such-person"):
        statuses = [_attempt(strict_server, login, "wrong password").status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429], (login, statuses)
        blocked = _attempt(strict_server, login, "wrong password")
        assert blocked.status_code == 429 and 0 < int(blocked.headers["retry-after"]) <= 900
    # Even the right password waits: the attacker cannot tell a hit from a miss.
    assert _attempt(strict_server, account.username, account.password).status_code == 429
    # Another account is unaffected.
    other = seeder.user("bystander")
    with httpx.Client(base_url=strict_server.url, timeout=20) as browser:
        assert sign_in(browser, other).status_code == 303
    # A wrong password on it and then the right one: success clears its counter.
    assert _attempt(strict_server, other.username, "bad").status_code == 401
    with httpx.Client(base_url=strict_server.url, timeout=20) as browser:
        assert sign_in(browser, replace(other)).status_code == 303


def test_signin_throttled_per_address(strict_server: LiveServer) -> None:
    statuses = [_attempt(strict_server, f"spray{i}", "guess").status_code for i in range(14)]
    assert 429 in statuses
    assert all(s in (401, 429) for s in statuses)


def test_token_endpoint_throttled_per_client(strict_server: LiveServer) -> None:
    seeder = Seeder(strict_server)
    app = seeder.app(seeder.user("dev"))
    form = {"grant_type": "authorization_code", "code": "opac_guess", "redirect_uri": app.redirect_uris[0],
            "client_id": app.client_id, "client_secret": "opcs_wrong"}
    statuses = [httpx.post(strict_server.url + "/oauth/token", data=form).status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    right = {**form, "client_secret": app.client_secret or ""}
    blocked = httpx.post(strict_server.url + "/oauth/token", data=right)
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert blocked.json()["error"] == "too_many_requests"


def test_introspection_failures_are_counted_and_logged(strict_server: LiveServer) -> None:
    """Introspection reads in a reading unit; its failures are still counted (in a writing unit
    of their own) and logged, and a throttled client is refused there too."""
    seeder = Seeder(strict_server)
    app = seeder.app(seeder.user("dev"))
    form = {"token": "opat_guess", "client_id": app.client_id, "client_secret": "opcs_wrong"}
    url = strict_server.url + "/oauth/introspect"
    assert [httpx.post(url, data=form).status_code for _ in range(5)] == [401] * 4 + [429]
    right = httpx.post(url, data={**form, "client_secret": app.client_secret or ""})
    assert right.status_code == 429 and int(right.headers["retry-after"]) > 0
    failures = seeder.scalar(
        "SELECT COUNT(*) FROM security_events WHERE kind = 'token.failure' AND client_id = :cid",
        cid=app.client_id)
    throttled = seeder.scalar(
        "SELECT COUNT(*) FROM security_events WHERE kind = 'token.throttled' AND client_id = :cid",
        cid=app.client_id)
    assert (failures, throttled) == (4, 2)


def test_introspection_answers_without_writing(strict_server: LiveServer) -> None:
    seeder = Seeder(strict_server)
    app = seeder.app(seeder.user("dev"))
    before = seeder.scalar("SELECT COUNT(*) FROM security_events")
    answer = httpx.post(strict_server.url + "/oauth/introspect",
                        data={"token": "opat_unknown", "client_id": app.client_id,
                              "client_secret": app.client_secret or ""})
    assert answer.status_code == 200 and answer.json() == {"active": False}
    assert seeder.scalar("SELECT COUNT(*) FROM security_events") == before
