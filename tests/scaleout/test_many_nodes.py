"""Several identical nodes over one PostgreSQL (and Redis): any node answers any step of a flow."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import REDIS_URL, _forget_redis_keys
from tests.support.browser_flow import hidden_fields, redirect_params, rotate_secret, sign_in
from tests.support.postgres import create_database, drop_database
from tests.support.seed import Seeder
from tests.support.server import LiveServer, start_server
from tests.support.tokens import all_at_once, exchange, me
from tests.support.waiting import wait_until


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer]]:
    database_url = create_database()
    prefix = f"openplate-test-{secrets.token_hex(4)}:"
    env = {"OPENPLATE_REDIS_URL": REDIS_URL, "OPENPLATE_REDIS_PREFIX": prefix,
           "OPENPLATE_TOKEN_FAILURES_PER_CLIENT": "6"}
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


def test_flow_started_on_one_node_finishes_on_the_other(nodes: tuple[LiveServer, LiveServer]) -> None:
    a, b = nodes
    seeder = Seeder(a)
    app, account = seeder.app(seeder.user("dev")), seeder.user("u")
    params = {"client_id": app.client_id, "redirect_uri": app.redirect_uris[0],
              "response_type": "code", "state": "x"}
    with httpx.Client(base_url=a.url, timeout=20) as on_a:
        start = on_a.get("/oauth/auth", params=params)  # session and redirect made on node A
        assert start.status_code == 303
        signin_path = start.headers["location"]
    with httpx.Client(base_url=b.url, timeout=20, cookies=on_a.cookies) as on_b:
        page = on_b.get(signin_path)  # the same session, read on node B
        signed = on_b.post("/signin", data={**hidden_fields(page.text), "login": account.username,
                                            "password": account.password})
        assert signed.status_code == 303
        consent = on_b.get(signed.headers["location"])
        assert consent.status_code == 200, consent.text[-1500:]
        fields = hidden_fields(consent.text)
    with httpx.Client(base_url=a.url, timeout=20, cookies=on_b.cookies) as back_on_a:
        decided = back_on_a.post("/oauth/auth/decision", data={**fields, "decision": "allow"})
    code = redirect_params(decided)["code"]
    tokens = exchange(b.url, app, code).json()  # redeemed on B
    assert me(a.url, tokens["access_token"]).status_code == 200  # used on A


def test_token_minted_on_one_node_revoked_on_the_other(nodes: tuple[LiveServer, LiveServer]) -> None:
    a, b = nodes
    seeder = Seeder(a)
    app, account = seeder.app(seeder.user("dev")), seeder.user("u")
    from tests.support.browser_flow import obtain_code

    tokens = exchange(a.url, app, obtain_code(a.url, account, app.client_id,
                                               app.redirect_uris[0])).json()
    assert me(b.url, tokens["access_token"]).status_code == 200
    revoked = httpx.post(b.url + "/oauth/revoke", auth=(app.client_id, app.client_secret or ""),
                         data={"token": tokens["access_token"]})
    assert revoked.status_code == 200
    assert me(a.url, tokens["access_token"]).status_code == 401
    assert me(b.url, tokens["access_token"]).status_code == 401


def test_one_code_redeemed_on_both_nodes_at_once(nodes: tuple[LiveServer, LiveServer]) -> None:
    a, b = nodes
    seeder = Seeder(a)
    from tests.support.browser_flow import obtain_code

    def race() -> list[int]:
        app = seeder.app(seeder.user("dev"))
        code = obtain_code(a.url, seeder.user("u"), app.client_id, app.redirect_uris[0])
        urls = [a.url, b.url] * 4  # four redemptions on each node
        return sorted(r.status_code for r in all_at_once(8, lambda: exchange(urls.pop(), app, code)))

    for _ in range(3):
        statuses = race()
        # Exactly one wins; the losers get invalid_grant, or 429 once this module's tight
        # per-client failure limit (set for the throttling test) is reached.
        assert statuses.count(200) == 1
        assert all(status in (400, 429) for status in statuses if status != 200)


def test_throttling_is_shared_between_nodes(nodes: tuple[LiveServer, LiveServer]) -> None:
    a, b = nodes
    seeder = Seeder(a)
    app = seeder.app(seeder.user("dev"))
    form = {"grant_type": "refresh_token", "refresh_token": "oprt_guess",
            "client_id": app.client_id, "client_secret": "opcs_wrong"}
    # 6 failures per client per minute, spread over both nodes, then both refuse.
    statuses = [httpx.post((a.url, b.url)[i % 2] + "/oauth/token", data=form).status_code
                for i in range(8)]
    assert statuses == [401] * 6 + [429, 429]


def test_sessions_survive_a_node(nodes: tuple[LiveServer, LiveServer]) -> None:
    a, b = nodes
    account = Seeder(a).user("u")
    with httpx.Client(base_url=a.url, timeout=20) as browser:
        assert sign_in(browser, account).status_code == 303
        cookies = browser.cookies
    with httpx.Client(base_url=b.url, timeout=20, cookies=cookies) as elsewhere:
        assert elsewhere.get("/account/apps").status_code == 200


def test_a_new_secret_reaches_every_node(nodes: tuple[LiveServer, LiveServer]) -> None:
    """Client records are cached per process for a second (docs/deploy.md): the node that
    rotated the secret refuses the old one at once, the others once the record they hold has
    expired. The second itself is held to a test clock in tests/store/test_client_cache.py;
    here the other node is watched until it refuses the old secret (while it still accepts it,
    nothing counts against the client's failure budget)."""
    a, b = nodes
    seeder = Seeder(a)
    developer = seeder.user("dev")
    app = seeder.app(developer)

    def authenticates(node: LiveServer, secret: str | None) -> int:
        form = {"token": "opat_unknown", "client_id": app.client_id, "client_secret": secret}
        return httpx.post(node.url + "/oauth/introspect", data=form).status_code

    assert authenticates(b, app.client_secret) == 200  # b now holds the client record
    new_secret = rotate_secret(a.url, developer, app.client_id)
    assert authenticates(a, app.client_secret) == 401
    assert authenticates(a, new_secret) == 200
    wait_until(lambda: authenticates(b, app.client_secret) == 401,
               f"node B ({b.url}) to refuse the secret node A rotated away", log=b.log, poll=0.1)
    assert authenticates(b, new_secret) == 200


def test_a_browser_signed_out_on_one_node_is_signed_out_on_every_node(
        nodes: tuple[LiveServer, LiveServer]) -> None:
    """/account/sessions on node B ends a session made on node A: its next request, on either
    node, is signed out (sessions live in the database; no node keeps them)."""
    a, b = nodes
    account = Seeder(a).user("browsers")
    with httpx.Client(base_url=a.url, timeout=20, headers={"User-Agent": "curl/8.5.0"}) as on_a, \
            httpx.Client(base_url=b.url, timeout=20) as on_b:
        assert sign_in(on_a, account).status_code == 303
        assert sign_in(on_b, account).status_code == 303
        page = on_b.get("/account/sessions").text
        assert "curl 8 on an unknown system" in page
        ids = re.findall(r'action="/account/sessions/(\d+)/sign-out"', page)
        assert len(ids) == 1
        ended = on_b.post(f"/account/sessions/{ids[0]}/sign-out",
                          data={"csrf_token": hidden_fields(page)["csrf_token"]})
        assert ended.status_code == 303
        assert on_a.get("/account").headers["location"].startswith("/signin")
        with httpx.Client(base_url=b.url, timeout=20, cookies=on_a.cookies) as a_cookie_on_b:
            assert a_cookie_on_b.get("/account").headers["location"].startswith("/signin")
        assert on_b.get("/account").status_code == 200
