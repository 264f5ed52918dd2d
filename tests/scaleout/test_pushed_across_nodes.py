"""RFC 9126 across two nodes over one PostgreSQL (and Redis): a request pushed to one node is
authorised on the other, and a burst of uses of one request_uri on both nodes at once lets
exactly one through."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import REDIS_URL, _forget_redis_keys
from tests.support.browser_flow import authorize, redirect_params
from tests.support.burst import Post, post_together, statuses
from tests.support.postgres import create_database, drop_database
from tests.support.seed import Seeder
from tests.support.server import LiveServer, start_server
from tests.support.tokens import exchange
from tests.web.test_pushed_requests import VERIFIER, pushed


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer]]:
    database_url = create_database()
    prefix = f"openplate-test-{secrets.token_hex(4)}:"
    env = {"OPENPLATE_REDIS_URL": REDIS_URL, "OPENPLATE_REDIS_PREFIX": prefix}
    first: Path = tmp_path_factory.mktemp("node-a")
    second: Path = tmp_path_factory.mktemp("node-b")
    a = start_server(first, database_url=database_url, extra_env=env)
    b = start_server(second, database_url=database_url, extra_env=env)
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()
        drop_database(database_url)
        _forget_redis_keys(prefix)


def test_pushed_to_one_node_authorised_on_the_other(nodes: tuple[LiveServer, LiveServer]) -> None:
    a, b = nodes
    seeder = Seeder(a)
    app, account = seeder.app(seeder.user("dev")), seeder.user("u")
    request_uri = pushed(a, app)
    with httpx.Client(base_url=b.url, timeout=20) as browser:
        done = authorize(browser, account, {"client_id": app.client_id,
                                            "request_uri": request_uri})
        got = redirect_params(done)
    assert got["state"] == "st-par"
    tokens = exchange(a.url, app, got["code"], code_verifier=VERIFIER)
    assert tokens.status_code == 200, tokens.text
    again = httpx.get(a.url + "/oauth/auth", timeout=20,
                      params={"client_id": app.client_id, "request_uri": request_uri})
    assert again.status_code == 400 and "already used" in again.text


def test_a_burst_on_both_nodes_lets_exactly_one_use_through(
        nodes: tuple[LiveServer, LiveServer]) -> None:
    a, b = nodes
    seeder = Seeder(a)
    app = seeder.app(seeder.user("dev"))
    request_uri = pushed(b, app)
    form = {"client_id": app.client_id, "request_uri": request_uri}
    answers = post_together([Post(node.url + "/oauth/auth", form, source="127.0.17.21")
                             for node in (a, b) for _ in range(12)])
    assert statuses(answers) == {303: 1, 400: 23}, statuses(answers)
    assert all("invalid_request_uri" in r.text for r in answers if r.status_code == 400)
