"""Disabling holds on every node at once: two nodes over one PostgreSQL (and Redis), the
operator's command run beside them. A burst of token requests on both nodes while the
application is disabled gets it no token that works afterwards, not even one minted by a node
whose client cache still held the application as enabled."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import REDIS_URL, _forget_redis_keys
from tests.support.browser_flow import sign_in
from tests.support.operator_cli import operator_json
from tests.support.postgres import create_database, drop_database
from tests.support.seed import Seeder
from tests.support.server import LiveServer, start_server
from tests.support.tokens import me, refresh, tokens_for
from tests.support.waiting import wait_until
from tests.web.test_disabled_accounts import client_token, introspect


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


def test_a_user_disabled_is_signed_out_and_refused_on_the_other_node_at_once(
        nodes: tuple[LiveServer, LiveServer]) -> None:
    a, b = nodes
    seeder = Seeder(a)
    app, account = seeder.app(seeder.user("dev")), seeder.user("u")
    tokens = tokens_for(a.url, account, app)
    with httpx.Client(base_url=b.url, timeout=20) as on_b:
        assert sign_in(on_b, account).status_code == 303
        assert on_b.get("/account/apps").status_code == 200
        assert me(b.url, tokens["access_token"]).status_code == 200  # node B has seen it live

        operator_json(a, "user", "disable", account.username)

        assert on_b.get("/account/apps").status_code == 303  # signed out, no wait
    assert me(b.url, tokens["access_token"]).status_code == 401
    assert introspect(b, app, tokens["access_token"]) == {"active": False}
    refused = refresh(b.url, app, tokens["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_a_burst_on_both_nodes_while_the_app_is_disabled_gets_no_working_token(
        nodes: tuple[LiveServer, LiveServer]) -> None:
    a, b = nodes
    seeder = Seeder(a)
    app = seeder.app(seeder.user("dev"), grant_types=("client_credentials",))
    got: list[str] = []
    refused: list[str] = []
    lock = threading.Lock()

    def worker(node: LiveServer) -> None:
        # Ask again and again until the node refuses the application (its client cache may
        # say "enabled" for up to a second after the disabling).
        while True:
            answer = client_token(node, app)
            with lock:
                if answer.status_code == 200:
                    got.append(answer.json()["access_token"])
                    continue
                refused.append(f"{answer.status_code} {answer.json().get('error')}")
                return

    threads = [threading.Thread(target=worker, args=(node,)) for node in (a, b, a, b)]
    for thread in threads:
        thread.start()
    wait_until(lambda: len(got) >= 8, "tokens from both nodes before the disabling",
               seen=lambda: len(got))
    operator_json(b, "app", "disable", app.client_id)
    wait_until(lambda: not any(thread.is_alive() for thread in threads),
               "every worker to be refused", seen=lambda: refused)
    assert refused == ["401 invalid_client"] * len(threads)
    with lock:
        minted = list(got)
    # Every token it ever got, whichever node minted it and whenever, is inactive now.
    for node in (a, b):
        answers = {introspect(node, app, token)["active"] for token in minted}
        assert answers == {False}, node.url
