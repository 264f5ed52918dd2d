"""Throttling across two nodes sharing PostgreSQL and Redis: a parallel burst split over both
nodes checks no more passwords, and tells apart no more wrong client secrets, than one budget
allows; the owner's known device signs in on either node during the attack; and an address
blocked through one node is refused on the other without waiting for anything."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REDIS_URL, _forget_redis_keys
from tests.support.browser_flow import sign_in
from tests.support.burst import Post, browser, csrf_of, metric, post_together, statuses
from tests.support.postgres import create_database, drop_database
from tests.support.seed import Seeder
from tests.support.server import LiveServer, start_server

BURST = 300
ACCOUNT_LIMIT, IP_LIMIT, CLIENT_LIMIT, TOKEN_IP_LIMIT = 3, 12, 4, 20
HASHES = "openplate_password_hashes_total"
_addresses = itertools.count(2)


def address() -> str:
    return f"127.1.0.{next(_addresses)}"


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer]]:
    database_url = create_database()
    prefix = f"openplate-test-{secrets.token_hex(4)}:"
    env = {"OPENPLATE_REDIS_URL": REDIS_URL, "OPENPLATE_REDIS_PREFIX": prefix,
           "OPENPLATE_SIGNIN_FAILURES_PER_ACCOUNT": str(ACCOUNT_LIMIT),
           "OPENPLATE_SIGNIN_FAILURES_PER_IP": str(IP_LIMIT),
           "OPENPLATE_TOKEN_FAILURES_PER_CLIENT": str(CLIENT_LIMIT),
           "OPENPLATE_TOKEN_FAILURES_PER_IP": str(TOKEN_IP_LIMIT),
           # PostgreSQL here allows 100 connections, shared with other suites: a burst of 300
           # must queue for the pool, not open more than the server takes. The queue may be
           # long on a loaded machine; these tests count answers, so the wait for a connection
           # is generous (a pool that runs out is tests/scaleout/test_outages.py's subject).
           "OPENPLATE_DB_POOL_SIZE": "8", "OPENPLATE_DB_POOL_TIMEOUT": "120"}
    first: Path = tmp_path_factory.mktemp("throttle-node-a")
    second: Path = tmp_path_factory.mktemp("throttle-node-b")
    a = start_server(first, database_url=database_url, extra_env=env)
    b = start_server(second, database_url=database_url, extra_env=env)
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()
        drop_database(database_url)
        _forget_redis_keys(prefix)


@pytest.fixture(autouse=True)
def no_traceback(nodes: tuple[LiveServer, LiveServer]) -> Iterator[None]:
    before = [len(node.log()) for node in nodes]
    yield
    for node, start in zip(nodes, before, strict=True):
        fresh = node.log()[start:]
        assert "Traceback" not in fresh and "unhandled error" not in fresh, fresh[-3000:]


def _checked(nodes: tuple[LiveServer, LiveServer]) -> float:
    return sum(metric(node.url, HASHES, purpose="signin") for node in nodes)


def _split_signin_burst(nodes: tuple[LiveServer, LiveServer], source: str,
                        logins: list[str]) -> list[Post]:
    """One stranger's session (made on node A, good on both), its guesses alternating nodes."""
    with browser(nodes[0].url, source) as stranger:
        csrf = csrf_of(stranger.get("/signin"))
        cookies = dict(stranger.cookies)
    return [Post(nodes[i % 2].url + "/signin", {"csrf_token": csrf, "login": login,
                                                "password": f"guess number {i}", "next": "/"},
                 source, cookies) for i, login in enumerate(logins)]


def test_a_burst_against_one_account_over_two_nodes_checks_the_limit(
    nodes: tuple[LiveServer, LiveServer],
) -> None:
    victim = Seeder(nodes[0]).user("victim")
    posts = _split_signin_burst(nodes, address(), [victim.username] * BURST)
    before = _checked(nodes)
    answers = statuses(post_together(posts))
    checked = _checked(nodes) - before
    print(f"\nFIGURES one account, two nodes: {BURST} sent, answers {answers}, "
          f"passwords checked {checked:g}")
    assert answers == {401: ACCOUNT_LIMIT, 429: BURST - ACCOUNT_LIMIT}
    assert checked == ACCOUNT_LIMIT


def test_a_burst_over_many_names_and_two_nodes_checks_the_address_limit(
    nodes: tuple[LiveServer, LiveServer],
) -> None:
    posts = _split_signin_burst(nodes, address(),
                                [f"nobody{i}x{secrets.token_hex(3)}" for i in range(BURST)])
    before = _checked(nodes)
    answers = statuses(post_together(posts))
    checked = _checked(nodes) - before
    print(f"\nFIGURES many names, one address, two nodes: {BURST} sent, answers {answers}, "
          f"passwords checked {checked:g}")
    assert answers == {401: IP_LIMIT, 429: BURST - IP_LIMIT}
    assert checked == IP_LIMIT


def test_the_owner_signs_in_on_either_node_during_an_attack(
    nodes: tuple[LiveServer, LiveServer],
) -> None:
    owner = Seeder(nodes[0]).user("owner")
    source = address()
    with browser(nodes[0].url, source) as device:  # signed in on A once: a known device
        assert sign_in(device, owner).status_code == 303
        device_cookie = device.cookies["openplate_device"]
    own = []
    for node in nodes:
        with browser(node.url, source) as device:
            device.cookies.set("openplate_device", device_cookie)
            csrf = csrf_of(device.get("/signin"))
            own.append(Post(node.url + "/signin", {"csrf_token": csrf, "login": owner.username,
                                                   "password": owner.password, "next": "/"},
                            source, dict(device.cookies)))
    posts = _split_signin_burst(nodes, source, [owner.username] * BURST)
    answers = post_together(posts[:100] + own[:1] + posts[100:200] + own[1:] + posts[200:])
    mine = [answers.pop(201), answers.pop(100)]
    assert [m.status_code for m in mine] == [303, 303]
    assert statuses(answers) == {401: ACCOUNT_LIMIT, 429: BURST - ACCOUNT_LIMIT}


def test_wrong_client_secrets_over_two_nodes_beside_right_ones(
    nodes: tuple[LiveServer, LiveServer],
) -> None:
    seeder = Seeder(nodes[0])
    app = seeder.app(seeder.user("dev"), grant_types=["client_credentials"])
    attacker, honest = address(), address()
    wrong = [Post(nodes[i % 2].url + "/oauth/token",
                  {"grant_type": "client_credentials", "client_id": app.client_id,
                   "client_secret": f"opcs_guess{i}"}, attacker) for i in range(BURST)]
    right = [Post(nodes[i % 2].url + "/oauth/token",
                  {"grant_type": "client_credentials", "client_id": app.client_id,
                   "client_secret": app.client_secret or ""}, honest) for i in range(10)]
    mixed = list(itertools.chain.from_iterable(
        (*wrong[30 * i:30 * i + 30], right[i]) for i in range(10)))
    answers = post_together(mixed)
    mine = [a.status_code for a, post in zip(answers, mixed, strict=True) if post in right]
    theirs = statuses([a for a, post in zip(answers, mixed, strict=True) if post not in right])
    print(f"\nFIGURES wrong secrets for one client, two nodes: {theirs}, right ones: {mine}")
    assert mine == [200] * 10
    assert theirs == {401: CLIENT_LIMIT, 429: BURST - CLIENT_LIMIT}
    # Guesses over many client_ids: the address's budget, shared by both nodes.
    many = [Post(nodes[i % 2].url + "/oauth/token",
                 {"grant_type": "client_credentials", "client_id": f"opc_guess{i}",
                  "client_secret": "opcs_guess"}, attacker)
            for i in range(BURST)]
    spread = statuses(post_together(many))
    print(f"\nFIGURES wrong secrets over many clients, one address, two nodes: {spread}")
    # The attacker's address spent TOKEN_IP_LIMIT already in the first burst (each failure
    # counts on the address first): every one of these is refused.
    assert spread == {429: BURST}


def test_an_address_blocked_through_one_node_is_refused_on_the_other(
    nodes: tuple[LiveServer, LiveServer],
) -> None:
    """Node B remembers the address as clear (a right request), then the address spends its
    budget through node A. B never tells another wrong guess apart: a failure there is counted
    in the shared counters before it is answered, so it gets 429 at once; and from then on B
    refuses the address's right requests too."""
    a, b = nodes
    seeder = Seeder(a)
    app = seeder.app(seeder.user("dev"), grant_types=["client_credentials"])
    source = address()
    right = {"grant_type": "client_credentials", "client_id": app.client_id,
             "client_secret": app.client_secret or ""}
    with browser(a.url, source) as on_a, browser(b.url, source) as on_b:
        assert on_b.post("/oauth/token", data=right).status_code == 200  # B: the address is clear
        wrong = [on_a.post("/oauth/token", data={
            "grant_type": "client_credentials", "client_id": f"opc_guess{i}",
            "client_secret": "opcs_guess"}).status_code for i in range(TOKEN_IP_LIMIT + 1)]
        assert wrong == [401] * TOKEN_IP_LIMIT + [429]
        guess = on_b.post("/oauth/token", data={**right, "client_secret": "opcs_guess"})
        assert guess.status_code == 429
        refused = on_b.post("/oauth/token", data=right)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
