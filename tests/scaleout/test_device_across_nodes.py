"""RFC 8628 over two nodes sharing one PostgreSQL and Redis: a device starts on node A, the
user allows it on node B's pages, the device polls node A and gets its tokens; a burst of polls
over both nodes after approval gets exactly one token, and slow_down is one pace across nodes;
a guessing burst over both nodes holds the user's budget once, not once per node."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REDIS_URL, _forget_redis_keys
from tests.security.test_device_guessing import _guesses
from tests.support.burst import Post, post_together, statuses
from tests.support.device_flow import DEVICE_GRANT, DEVICE_GRANTS, approve, poll, start
from tests.support.postgres import create_database, drop_database
from tests.support.seed import Seeder
from tests.support.server import LiveServer, start_server

USER_LIMIT = 4


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer]]:
    database_url = create_database()
    prefix = f"openplate-test-{secrets.token_hex(4)}:"
    env = {"OPENPLATE_REDIS_URL": REDIS_URL, "OPENPLATE_REDIS_PREFIX": prefix,
           "OPENPLATE_DEVICE_CODES_PER_USER": str(USER_LIMIT),
           "OPENPLATE_DB_POOL_SIZE": "8", "OPENPLATE_DB_POOL_TIMEOUT": "120"}
    first: Path = tmp_path_factory.mktemp("device-node-a")
    second: Path = tmp_path_factory.mktemp("device-node-b")
    a = start_server(first, database_url=database_url, extra_env=env)
    b = start_server(second, database_url=database_url, extra_env=env)
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()
        drop_database(database_url)
        _forget_redis_keys(prefix)


def test_allowed_on_one_node_polled_on_the_other(nodes: tuple[LiveServer, LiveServer]) -> None:
    a, b = nodes
    seeder = Seeder(a)
    app = seeder.app(seeder.user("dev"), grant_types=DEVICE_GRANTS, public=True)
    started = start(a.url, app)
    assert poll(a.url, app, started["device_code"]).json()["error"] == "authorization_pending"
    # The user's side on node B (its pages, its sign-in); the link names node A's URL, so the
    # browser is pointed at B with the same path and query.
    link = started["verification_uri_complete"].replace(a.url, b.url)
    result = approve(b.url, seeder.user("viewer"), {**started, "verification_uri_complete": link})
    assert "Device connected" in result.text
    # Polled too soon after the first poll, on either node: one pace for both.
    slowed = poll(b.url, app, started["device_code"])
    assert slowed.status_code == 400 and slowed.json()["error"] == "slow_down"
    seeder.execute("UPDATE device_codes SET last_polled_at = last_polled_at - 60"
                   " WHERE id = (SELECT max(id) FROM device_codes)")
    form = {"grant_type": DEVICE_GRANT, "device_code": started["device_code"],
            "client_id": app.client_id}
    answers = post_together([Post(node.url + "/oauth/token", form)
                             for node in (a, b) for _ in range(20)])
    counted = statuses(answers)
    print(f"\nFIGURES device polls over two nodes after approval: 40 sent, answers {counted}")
    assert counted.get(200) == 1, counted
    assert {r.json()["error"] for r in answers if r.status_code != 200} <= {"slow_down",
                                                                           "invalid_grant"}


def test_a_guessing_burst_over_both_nodes_holds_one_budget(
        nodes: tuple[LiveServer, LiveServer]) -> None:
    a, b = nodes
    guesser = Seeder(a).user("guesser")
    posts = _guesses(a, guesser, "127.2.0.2", 60)
    # The same browser (its cookies and CSRF token) on node B too: one session, two nodes.
    posts += [Post(post.url.replace(a.url, b.url), post.data, post.source, post.cookies)
              for post in _guesses(a, guesser, "127.2.0.2", 60, 500)]
    counted = statuses(post_together(posts))
    print(f"\nFIGURES device guesses over two nodes, one user: 120 sent, answers {counted}")
    assert counted == {400: USER_LIMIT, 429: 120 - USER_LIMIT}
