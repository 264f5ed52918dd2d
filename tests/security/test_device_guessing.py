"""RFC 8628 §5.1 and §5.2: user codes typed on /device are throttled per signed-in user and per
address, counted before the lookup, so a parallel burst of guesses gets at most the budget's
worth of answers (the rest 429, Retry-After) on SQLite and on PostgreSQL with Redis; a right
code gives its attempt back, so the owner never spends budget on success."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import REDIS_URL, _forget_redis_keys
from tests.support.browser_flow import hidden_fields, sign_in
from tests.support.burst import Post, browser, post_together, statuses
from tests.support.device_flow import DEVICE_GRANTS, start
from tests.support.postgres import create_database, drop_database
from tests.support.seed import Account, Seeder
from tests.support.server import LiveServer, start_server

BURST = 200
USER_LIMIT, IP_LIMIT = 4, 9
LIMITS = {"OPENPLATE_DEVICE_CODES_PER_USER": str(USER_LIMIT),
          "OPENPLATE_DEVICE_CODES_PER_IP": str(IP_LIMIT)}
_addresses = itertools.count(50)


def address() -> str:
    """A client address no other test uses (per-address budgets stay apart)."""
    n = next(_addresses)
    return f"127.1.{n // 250}.{n % 250 + 2}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql+redis"])
def strict_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    folder: Path = tmp_path_factory.mktemp("device-throttled")
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


def _signed_in(server: LiveServer, account: Account, source: str) -> tuple[dict[str, str], str]:
    """A browser of ``account`` from ``source``: its cookies and the /device form's CSRF token."""
    with browser(server.url, source) as visitor:
        assert sign_in(visitor, account, next_path="/device").status_code == 303
        page = visitor.get("/device")
        return dict(visitor.cookies), hidden_fields(page.text)["csrf_token"]


def _wrong_code(i: int) -> str:
    letters = "BCDFGHJKLMNPQRSTVWXZ"
    return "".join(letters[(i // 20 ** k) % 20] for k in range(8))


def _guesses(server: LiveServer, account: Account, source: str, count: int,
             offset: int = 0) -> list[Post]:
    cookies, csrf = _signed_in(server, account, source)
    return [Post(server.url + "/device", {"csrf_token": csrf, "user_code": _wrong_code(offset + i)},
                 source, cookies) for i in range(count)]


def _failures(seeder: Seeder, user_id: int | None = None) -> int:
    sql = "SELECT count(*) FROM security_events WHERE kind = 'device.code_failure'"
    if user_id is None:
        return int(seeder.scalar(sql))  # type: ignore[arg-type]
    return int(seeder.scalar(sql + " AND user_id = :uid", uid=user_id))  # type: ignore[arg-type]


def test_a_burst_of_guesses_by_one_user_gets_the_user_budget(strict_server: LiveServer) -> None:
    seeder = Seeder(strict_server)
    guesser = seeder.user("guesser")
    answers = post_together(_guesses(strict_server, guesser, address(), BURST))
    counted = statuses(answers)
    print(f"\nFIGURES device guesses, one user: {BURST} sent, answers {counted}")
    assert counted == {400: USER_LIMIT, 429: BURST - USER_LIMIT}
    assert _failures(seeder, guesser.id) == USER_LIMIT  # only that many codes were looked up
    refused = next(a for a in answers if a.status_code == 429)
    assert 0 < int(refused.headers["retry-after"]) <= 900 and "Too many wrong codes" in refused.text


def test_a_burst_from_one_address_over_many_users_gets_the_address_budget(
    strict_server: LiveServer,
) -> None:
    seeder = Seeder(strict_server)
    source = address()
    before = _failures(seeder)
    posts: list[Post] = []
    for n in range(5):  # 5 users x 4 = 20 would pass the per-user budgets; the address has 9
        posts += _guesses(strict_server, seeder.user(f"sprayer{n}"), source, BURST // 5, n * 1000)
    counted = statuses(post_together(posts))
    print(f"\nFIGURES device guesses, one address: {len(posts)} sent, answers {counted}")
    assert counted == {400: IP_LIMIT, 429: len(posts) - IP_LIMIT}
    assert _failures(seeder) - before == IP_LIMIT


def test_a_right_code_spends_nothing_and_a_spent_budget_refuses_even_it(
    strict_server: LiveServer,
) -> None:
    seeder = Seeder(strict_server)
    app = seeder.app(seeder.user("tvmaker"), grant_types=DEVICE_GRANTS)
    owner = seeder.user("owner")
    source = address()
    cookies, csrf = _signed_in(strict_server, owner, source)

    def typed(code: str) -> int:
        with httpx.Client(base_url=strict_server.url, cookies=cookies, timeout=60) as visitor:
            return visitor.post("/device", data={"csrf_token": csrf, "user_code": code}).status_code

    codes = [start(strict_server.url, app)["user_code"] for _ in range(USER_LIMIT + 1)]
    assert [typed(_wrong_code(7000 + i)) for i in range(USER_LIMIT - 1)] == [400] * (USER_LIMIT - 1)
    assert [typed(code) for code in codes[:3]] == [303] * 3  # right codes: given back
    assert typed(_wrong_code(7100)) == 400  # the budget's last attempt
    assert typed(codes[3]) == 429  # spent: even a right code waits, so a hit looks like a miss
