"""Brute force is throttled per account, per known device, per address and per client, with 429
and Retry-After, without telling whether an account exists, on SQLite and on PostgreSQL with
Redis. Every limit holds under a parallel burst of 300 requests: an attempt is counted before its
password is checked (the metric of argon2id checks says how many were), and a wrong client
secret is counted before it is answered. Nobody locks anyone else out: the owner of a known
device signs in while strangers fail against the account from the same address, and a right
client secret works while others send wrong ones for that client_id."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import REDIS_URL, _forget_redis_keys
from tests.support.browser_flow import sign_in
from tests.support.burst import Post, browser, csrf_of, fresh_forms, metric, post_together, statuses
from tests.support.postgres import create_database, drop_database
from tests.support.seed import Account, Seeder
from tests.support.server import LiveServer, start_server

BURST = 300
ACCOUNT_LIMIT, IP_LIMIT, CLIENT_LIMIT, TOKEN_IP_LIMIT, SIGNUP_LIMIT = 3, 12, 4, 20, 5
LIMITS = {
    "OPENPLATE_SIGNIN_FAILURES_PER_ACCOUNT": str(ACCOUNT_LIMIT),
    "OPENPLATE_SIGNIN_FAILURES_PER_IP": str(IP_LIMIT),
    "OPENPLATE_TOKEN_FAILURES_PER_CLIENT": str(CLIENT_LIMIT),
    "OPENPLATE_TOKEN_FAILURES_PER_IP": str(TOKEN_IP_LIMIT),
    "OPENPLATE_SIGNUPS_PER_IP": str(SIGNUP_LIMIT),
}
HASHES = "openplate_password_hashes_total"
_addresses = itertools.count(250)


def address() -> str:
    """A client address no other test uses (per-address budgets stay apart)."""
    n = next(_addresses)
    return f"127.0.{n // 250}.{n % 250 + 2}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql+redis"])
def strict_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    folder: Path = tmp_path_factory.mktemp("throttled")
    if request.param == "sqlite":
        live = start_server(folder, extra_env=LIMITS)
        try:
            yield live
        finally:
            live.stop()
        return
    database_url = create_database()
    prefix = f"openplate-test-{secrets.token_hex(4)}:"
    live = start_server(folder, database_url=database_url, extra_env={
        **LIMITS, "OPENPLATE_REDIS_URL": REDIS_URL, "OPENPLATE_REDIS_PREFIX": prefix,
        # A burst queues for the pool, within PostgreSQL's 100 connections, as long as a loaded
        # machine needs: these tests count answers, not how fast a connection is handed out.
        "OPENPLATE_DB_POOL_SIZE": "8", "OPENPLATE_DB_POOL_TIMEOUT": "120"})
    try:
        yield live
    finally:
        live.stop()
        drop_database(database_url)
        _forget_redis_keys(prefix)


@pytest.fixture(autouse=True)
def no_traceback(strict_server: LiveServer) -> Iterator[None]:
    before = len(strict_server.log())
    yield
    fresh = strict_server.log()[before:]
    assert "Traceback" not in fresh and "unhandled error" not in fresh, fresh[-3000:]


def _attempt(server: LiveServer, login: str, password: str, source: str) -> httpx.Response:
    with browser(server.url, source) as visitor:
        csrf = csrf_of(visitor.get("/signin"))
        return visitor.post("/signin", data={"csrf_token": csrf, "login": login,
                                             "password": password, "next": "/"})


def _signin_burst(server: LiveServer, source: str, logins: list[str]) -> tuple[list[Post], str]:
    """One stranger's browser: a wrong password for each login, all from one session."""
    with browser(server.url, source) as stranger:
        csrf = csrf_of(stranger.get("/signin"))
        cookies = dict(stranger.cookies)
    posts = [Post(server.url + "/signin", {"csrf_token": csrf, "login": login,
                                           "password": f"guess number {i}", "next": "/"},
                  source, cookies) for i, login in enumerate(logins)]
    return posts, csrf


def _report(what: str, server: LiveServer, answers: dict[int, int], checked: float) -> None:
    engine = "sqlite" if server.database_url.startswith("sqlite") else "postgresql+redis"
    print(f"\nFIGURES {what} on {engine}: {BURST} sent, answers {answers}, "
          f"passwords checked {checked:g}")


def test_signin_throttled_per_account_alike_for_unknown_names(strict_server: LiveServer) -> None:
    seeder = Seeder(strict_server)
    account = seeder.user("victim")
    source = address()
    for login in (account.username, "no-such-person"):
        attempts = [_attempt(strict_server, login, "wrong password", source) for _ in range(4)]
        assert [a.status_code for a in attempts] == [401] * ACCOUNT_LIMIT + [429], login
        blocked = _attempt(strict_server, login, "wrong password", source)
        assert blocked.status_code == 429 and 0 < int(blocked.headers["retry-after"]) <= 900
    # Even the right password waits, from a browser that never signed in to the account: the
    # attacker cannot tell a hit from a miss.
    assert _attempt(strict_server, account.username, account.password, source).status_code == 429
    # Another account is unaffected; a right password gives its attempt back, so after one
    # failure and one success the account has its whole budget but that one failure.
    other = seeder.user("bystander")
    assert _attempt(strict_server, other.username, other.password, source).status_code == 303
    assert _attempt(strict_server, other.username, "bad", source).status_code == 401
    assert _attempt(strict_server, other.username, other.password, source).status_code == 303
    assert _attempt(strict_server, other.username, other.password, source).status_code == 303
    assert [_attempt(strict_server, other.username, "bad", source).status_code
            for _ in range(ACCOUNT_LIMIT)] == [401] * (ACCOUNT_LIMIT - 1) + [429]


def test_signin_throttled_per_address(strict_server: LiveServer) -> None:
    source = address()
    answers = [_attempt(strict_server, f"spray{i}", "guess", source).status_code
               for i in range(IP_LIMIT + 2)]
    assert answers == [401] * IP_LIMIT + [429, 429]


def test_a_parallel_burst_against_one_account_checks_the_limit(strict_server: LiveServer) -> None:
    victim = Seeder(strict_server).user("victim")
    posts, _csrf = _signin_burst(strict_server, address(), [victim.username] * BURST)
    before = metric(strict_server.url, HASHES, purpose="signin")
    answers = statuses(post_together(posts))
    checked = metric(strict_server.url, HASHES, purpose="signin") - before
    _report("one account", strict_server, answers, checked)
    assert answers == {401: ACCOUNT_LIMIT, 429: BURST - ACCOUNT_LIMIT}
    assert checked == ACCOUNT_LIMIT


def test_a_parallel_burst_over_many_names_checks_the_address_limit(
    strict_server: LiveServer,
) -> None:
    posts, _csrf = _signin_burst(strict_server, address(),
                                 [f"nobody{i}x{secrets.token_hex(3)}" for i in range(BURST)])
    before = metric(strict_server.url, HASHES, purpose="signin")
    answers = statuses(post_together(posts))
    checked = metric(strict_server.url, HASHES, purpose="signin") - before
    _report("many names, one address", strict_server, answers, checked)
    assert answers == {401: IP_LIMIT, 429: BURST - IP_LIMIT}
    assert checked == IP_LIMIT


@contextmanager
def _known_device(server: LiveServer, owner: Account, source: str) -> Iterator[httpx.Client]:
    """The owner's browser after a sign-in (device cookie kept), its session since expired."""
    with browser(server.url, source) as device:
        assert sign_in(device, owner).status_code == 303
        assert device.cookies.get("openplate_device")
        device.cookies.delete("openplate_session")
        yield device


def test_the_owner_signs_in_on_a_known_device_during_an_attack(strict_server: LiveServer) -> None:
    """Strangers at the owner's own address spend the account's and the address's budgets in a
    parallel burst; the owner's browser, which signed in before, signs in in the middle of it."""
    owner = Seeder(strict_server).user("owner")
    source = address()
    with _known_device(strict_server, owner, source) as device:
        own_csrf = csrf_of(device.get("/signin"))
        own = Post(strict_server.url + "/signin", {"csrf_token": own_csrf, "login": owner.username,
                                                   "password": owner.password, "next": "/"},
                   source, dict(device.cookies))
        posts, _csrf = _signin_burst(strict_server, source, [owner.username] * BURST)
        answers = post_together(posts[:BURST // 2] + [own] + posts[BURST // 2:])
        mine = answers.pop(BURST // 2)
        assert mine.status_code == 303, mine.text[:300]
        assert statuses(answers) == {401: ACCOUNT_LIMIT, 429: BURST - ACCOUNT_LIMIT}
        # After the attack: a browser that never signed in waits, like the strangers…
        assert _attempt(strict_server, owner.username, owner.password, source).status_code == 429
        # …and the known device still signs in.
        device.cookies.delete("openplate_session")
        again = device.post("/signin", data={"csrf_token": csrf_of(device.get("/signin")),
                                             "login": owner.username, "password": owner.password})
        assert again.status_code == 303


def test_a_device_cookie_counts_only_for_its_own_account(strict_server: LiveServer) -> None:
    """A stranger's device cookie from signing in to their own account, or a forged one, is no
    way around another account's budget."""
    seeder = Seeder(strict_server)
    victim, stranger = seeder.user("victim"), seeder.user("stranger")
    source = address()
    for _ in range(ACCOUNT_LIMIT):
        assert _attempt(strict_server, victim.username, "guess", source).status_code == 401
    with _known_device(strict_server, stranger, source) as device:
        cookie = device.cookies["openplate_device"]
        nonce = cookie.split(".")[0]
        for forged in (cookie, f"{nonce}.{'A' * 43}", "junk"):
            device.cookies.delete("openplate_device")
            device.cookies.set("openplate_device", forged)
            tried = device.post("/signin", data={"csrf_token": csrf_of(device.get("/signin")),
                                                 "login": victim.username,
                                                 "password": victim.password})
            assert tried.status_code == 429, forged


def test_the_current_password_field_spends_the_same_budget(strict_server: LiveServer) -> None:
    """/account/password checks the current password like a sign-in: counted before the check,
    so a burst of wrong ones from a signed-in browser checks only the budget's worth."""
    user = Seeder(strict_server).user("changer")
    source = address()
    with browser(strict_server.url, source) as signed_in:
        assert sign_in(signed_in, user).status_code == 303
        csrf = csrf_of(signed_in.get("/account/password"))
        posts = [Post(strict_server.url + "/account/password",
                      {"csrf_token": csrf, "current_password": f"guess number {i}",
                       "new_password": "a brand new password"}, source, dict(signed_in.cookies))
                 for i in range(BURST)]
        before = metric(strict_server.url, HASHES, purpose="password_change")
        answers = statuses(post_together(posts))
        checked = metric(strict_server.url, HASHES, purpose="password_change") - before
        _report("current password", strict_server, answers, checked)
        assert answers == {401: ACCOUNT_LIMIT, 429: BURST - ACCOUNT_LIMIT}
        assert checked == ACCOUNT_LIMIT
        # The same budget as this browser's sign-ins: spent, so the right password waits too.
        right = signed_in.post("/account/password", data={
            "csrf_token": csrf, "current_password": user.password,
            "new_password": "a brand new password"})
        assert right.status_code == 429 and int(right.headers["retry-after"]) > 0


def test_the_account_deletion_password_spends_the_same_budget(strict_server: LiveServer) -> None:
    """/account/delete checks the password like a sign-in: of a burst of wrong ones from a
    signed-in browser only the budget's worth are checked, and nothing is deleted."""
    seeder = Seeder(strict_server)
    user = seeder.user("deleter")
    source = address()
    with browser(strict_server.url, source) as signed_in:
        assert sign_in(signed_in, user).status_code == 303
        csrf = csrf_of(signed_in.get("/account/delete"))
        posts = [Post(strict_server.url + "/account/delete",
                      {"csrf_token": csrf, "password": f"guess number {i}"}, source,
                      dict(signed_in.cookies)) for i in range(BURST)]
        before = metric(strict_server.url, HASHES, purpose="account_delete")
        answers = statuses(post_together(posts))
        checked = metric(strict_server.url, HASHES, purpose="account_delete") - before
        _report("account deletion password", strict_server, answers, checked)
        assert answers == {401: ACCOUNT_LIMIT, 429: BURST - ACCOUNT_LIMIT}
        assert checked == ACCOUNT_LIMIT
        right = signed_in.post("/account/delete", data={"csrf_token": csrf,
                                                        "password": user.password})
        assert right.status_code == 429 and int(right.headers["retry-after"]) > 0
    assert seeder.scalar("SELECT COUNT(*) FROM users WHERE id = :u", u=user.id) == 1


def test_a_parallel_burst_of_wrong_client_secrets_is_told_the_address_limit(
    strict_server: LiveServer,
) -> None:
    """Guesses spread over many client_ids from one address: each client's budget is fresh, the
    address's is not; at most its worth of wrong guesses get their 401."""
    source = address()
    posts = [Post(strict_server.url + "/oauth/token",
                  {"grant_type": "client_credentials", "client_id": f"opc_guess{i}",
                   "client_secret": f"opcs_guess{i}"}, source) for i in range(BURST)]
    answers = statuses(post_together(posts))
    print(f"\nFIGURES wrong client secrets, one address: {BURST} sent, answers {answers}")
    assert answers == {401: TOKEN_IP_LIMIT, 429: BURST - TOKEN_IP_LIMIT}


def test_a_right_client_secret_works_while_others_send_wrong_ones(
    strict_server: LiveServer,
) -> None:
    seeder = Seeder(strict_server)
    app = seeder.app(seeder.user("dev"), grant_types=["client_credentials"])
    url = strict_server.url + "/oauth/token"
    attacker = address()
    wrong = [Post(url, {"grant_type": "client_credentials", "client_id": app.client_id,
                        "client_secret": f"opcs_guess{i}"}, attacker) for i in range(BURST)]
    honest = address()
    right = Post(url, {"grant_type": "client_credentials", "client_id": app.client_id,
                       "client_secret": app.client_secret or ""}, honest)
    mixed = list(itertools.chain.from_iterable(
        (*wrong[i:i + 30], right) for i in range(0, BURST, 30)))
    answers = post_together(mixed)
    mine = [a.status_code for a, post in zip(answers, mixed, strict=True) if post is right]
    theirs = statuses([a for a, post in zip(answers, mixed, strict=True) if post is not right])
    print(f"\nFIGURES wrong secrets for one client, right ones beside them: {theirs}, right: {mine}")
    assert mine == [200] * (BURST // 30)
    assert theirs == {401: CLIENT_LIMIT, 429: BURST - CLIENT_LIMIT}
    # With the client's budget spent, the right secret still works.
    with browser(strict_server.url, honest) as client:
        assert client.post("/oauth/token", data=right.data).status_code == 200


def test_token_endpoint_failures_throttled_per_client(strict_server: LiveServer) -> None:
    seeder = Seeder(strict_server)
    app = seeder.app(seeder.user("dev"), grant_types=["authorization_code", "client_credentials"])
    form = {"grant_type": "authorization_code", "code": "opac_guess", "redirect_uri": app.redirect_uris[0],
            "client_id": app.client_id, "client_secret": "opcs_wrong"}
    url = strict_server.url + "/oauth/token"
    answers = [httpx.post(url, data=form) for _ in range(CLIENT_LIMIT + 1)]
    assert [a.status_code for a in answers] == [401] * CLIENT_LIMIT + [429]
    assert answers[-1].json()["error"] == "too_many_requests"
    assert int(answers[-1].headers["retry-after"]) > 0
    right = {"grant_type": "client_credentials", "client_id": app.client_id,
             "client_secret": app.client_secret or ""}
    assert httpx.post(url, data=right).status_code == 200


def test_introspection_failures_are_counted_and_logged(strict_server: LiveServer) -> None:
    """Introspection reads in a reading unit; its failures are still counted (in a writing unit
    of their own) and logged; a right secret is answered whatever the client's failures."""
    seeder = Seeder(strict_server)
    app = seeder.app(seeder.user("dev"))
    form = {"token": "opat_guess", "client_id": app.client_id, "client_secret": "opcs_wrong"}
    url = strict_server.url + "/oauth/introspect"
    assert [httpx.post(url, data=form).status_code for _ in range(5)] == [401] * 4 + [429]
    right = httpx.post(url, data={**form, "client_secret": app.client_secret or ""})
    assert right.status_code == 200 and right.json() == {"active": False}
    failures = seeder.scalar(
        "SELECT COUNT(*) FROM security_events WHERE kind = 'token.failure' AND client_id = :cid",
        cid=app.client_id)
    throttled = seeder.scalar(
        "SELECT COUNT(*) FROM security_events WHERE kind = 'token.throttled' AND client_id = :cid",
        cid=app.client_id)
    assert (failures, throttled) == (4, 1)


def test_introspection_answers_without_writing(strict_server: LiveServer) -> None:
    seeder = Seeder(strict_server)
    app = seeder.app(seeder.user("dev"))
    before = seeder.scalar("SELECT COUNT(*) FROM security_events")
    answer = httpx.post(strict_server.url + "/oauth/introspect",
                        data={"token": "opat_unknown", "client_id": app.client_id,
                              "client_secret": app.client_secret or ""})
    assert answer.status_code == 200 and answer.json() == {"active": False}
    assert seeder.scalar("SELECT COUNT(*) FROM security_events") == before


def _signup_posts(server: LiveServer, source: str, names: list[str]) -> list[Post]:
    """A sign-up per name, each from a browser of its own (a sign-up replaces its session)."""
    forms = fresh_forms(server.url + "/signup", len(names), source=source)
    return [Post(server.url + "/signup", {"csrf_token": csrf, "username": name,
                                          "email": f"{name}@example.org",
                                          "password": "correct horse battery", "next": "/"},
                 source, cookies) for name, (cookies, csrf) in zip(names, forms, strict=True)]


def test_a_parallel_burst_of_sign_ups_from_one_address(strict_server: LiveServer) -> None:
    seeder = Seeder(strict_server)
    tag = secrets.token_hex(3)
    posts = _signup_posts(strict_server, address(), [f"flood{tag}n{i}" for i in range(BURST)])
    before = metric(strict_server.url, HASHES, purpose="signup")
    answers = post_together(posts)
    hashed = metric(strict_server.url, HASHES, purpose="signup") - before
    counted = statuses(answers)
    print(f"\nFIGURES sign-ups, one address: {BURST} sent, answers {counted}, hashed {hashed:g}")
    assert counted == {303: SIGNUP_LIMIT, 429: BURST - SIGNUP_LIMIT}
    assert hashed == SIGNUP_LIMIT
    made = seeder.scalar("SELECT COUNT(*) FROM users WHERE username LIKE :p", p=f"flood{tag}%")
    assert made == SIGNUP_LIMIT
    refused = next(a for a in answers if a.status_code == 429)
    assert int(refused.headers["retry-after"]) > 0 and "Too many sign-ups" in refused.text


def test_a_taken_name_is_answered_before_hashing(strict_server: LiveServer) -> None:
    existing = Seeder(strict_server).user("taken")
    source = address()
    fresh = f"fresh{secrets.token_hex(4)}"
    before = metric(strict_server.url, HASHES, purpose="signup")
    for username, email, field in ((existing.username.upper(), f"{fresh}@example.org", "username"),
                                   (fresh, existing.email.upper(), "e-mail address")):
        post = _signup_posts(strict_server, source, [username])[0]
        answer = post_together([Post(post.url, {**post.data, "email": email}, source, post.cookies)])[0]
        assert answer.status_code == 409 and f"That {field} is already taken." in answer.text
    assert metric(strict_server.url, HASHES, purpose="signup") == before
