"""Back-Channel Logout on two nodes over one PostgreSQL (and Redis): sign-outs on both nodes at
once owe one logout token each, and between the two nodes' workers each is delivered exactly
once (claimed FOR UPDATE SKIP LOCKED), every one validated by a real receiver."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import REDIS_URL, _forget_redis_keys
from tests.support.browser_flow import authorize, hidden_fields, redirect_params
from tests.support.logout_receiver import Receiver, logout_receiver
from tests.support.postgres import create_database, drop_database
from tests.support.seed import Seeder
from tests.support.server import LiveServer, start_server
from tests.support.tokens import exchange
from tests.support.waiting import wait_until

CALLBACK = "https://rp.example/cb"
ISSUER = "http://openplate.test"
SESSIONS = 16


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer]]:
    database_url = create_database()
    prefix = f"openplate-test-{secrets.token_hex(4)}:"
    env = {"OPENPLATE_REDIS_URL": REDIS_URL, "OPENPLATE_REDIS_PREFIX": prefix,
           "OPENPLATE_ALLOW_PRIVATE_CLIENT_URLS": "1", "OPENPLATE_MAIL_POLL_INTERVAL": "1",
           # One public address for both, as behind a load balancer: one issuer.
           "OPENPLATE_PUBLIC_URL": ISSUER}
    a = start_server(tmp_path_factory.mktemp("node-a"), database_url=database_url, extra_env=env)
    b = start_server(tmp_path_factory.mktemp("node-b"), database_url=database_url, extra_env=env)
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()
        drop_database(database_url)
        _forget_redis_keys(prefix)


def test_each_logout_token_is_delivered_once_between_two_nodes(
        nodes: tuple[LiveServer, LiveServer]) -> None:
    a, b = nodes
    seeder = Seeder(a)
    with logout_receiver(ISSUER, jwks_url=a.url + "/oauth/jwks") as receiver:
        app = seeder.app(seeder.user("dev"), redirect_uris=(CALLBACK,),
                         backchannel_logout_uri=receiver.url + "/bc")
        browsers: list[httpx.Client] = []
        for n in range(SESSIONS):
            node = (a, b)[n % 2]
            browser = httpx.Client(base_url=node.url, timeout=30)
            got = redirect_params(authorize(browser, seeder.user(), {
                "client_id": app.client_id, "redirect_uri": CALLBACK, "response_type": "code",
                "scope": "openid", "state": "s"}))
            assert exchange(node.url, app, got["code"]).status_code == 200
            browsers.append(browser)

        def sign_out(browser: httpx.Client) -> int:
            csrf = hidden_fields(browser.get("/account").text)["csrf_token"]
            return browser.post("/signout", data={"csrf_token": csrf}).status_code

        with ThreadPoolExecutor(SESSIONS) as pool:
            assert list(pool.map(sign_out, browsers)) == [303] * SESSIONS
        _all_delivered(seeder, receiver)
        jtis = [claims["jti"] for _, claims in receiver.accepted]
        assert len(jtis) == SESSIONS == len(set(jtis))
        assert len({claims["sid"] for _, claims in receiver.accepted}) == SESSIONS
        assert [status for _, status in receiver.seen] == [200] * SESSIONS  # no second POST
        assert seeder.scalar("SELECT max(attempts) FROM backchannel_logouts") == 1
        for browser in browsers:
            browser.close()


def _all_delivered(seeder: Seeder, receiver: Receiver) -> None:
    wait_until(lambda: seeder.scalar(
        "SELECT count(*) FROM backchannel_logouts WHERE delivered_at IS NOT NULL") == SESSIONS,
        f"{SESSIONS} logout tokens delivered", seen=lambda: (len(receiver.seen), receiver.rejected))
