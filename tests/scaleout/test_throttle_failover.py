"""Throttling blocks survive Redis failing over to the database and back. The test runs a Redis
of its own (not the shared one), stops it and starts it again empty (no persistence), with a
server on PostgreSQL using it: a key blocked while Redis answered stays blocked during the
outage and after Redis comes back empty, and a key blocked during the outage stays blocked
when Redis is back."""

from __future__ import annotations

import itertools
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.support.burst import browser, csrf_of
from tests.support.postgres import create_database, drop_database
from tests.support.seed import App, Seeder
from tests.support.server import LiveServer, free_port, start_server
from tests.support.waiting import exited, wait_for_exit, wait_until

ACCOUNT_LIMIT, CLIENT_LIMIT = 3, 4
_addresses = itertools.count(2)


class OwnRedis:
    """redis-server on a free port, without persistence: a restart comes back empty."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        program = shutil.which("redis-server")
        assert program, "redis-server is not installed (Debian: apt-get install redis-server)"
        with (self.folder / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(
                [program, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no"], stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=5, socket_timeout=5)
        try:
            wait_until(client.ping, f"the test's own redis-server to answer PING on port {self.port}",
                       log=self.log, gone=exited(self.process), ignore=(redis.RedisError,))
        finally:
            client.close()

    def log(self) -> str:
        return (self.folder / "redis.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            wait_for_exit(self.process, f"the test's own redis-server (port {self.port})",
                          log=self.log)
            self.process = None

    def keys(self) -> int:
        client = redis.Redis.from_url(self.url)
        try:
            return int(client.dbsize())
        finally:
            client.close()


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path_factory.mktemp("own-redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def node(own_redis: OwnRedis, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    database_url = create_database()
    live = start_server(tmp_path_factory.mktemp("failover-node"), database_url=database_url,
                        extra_env={"OPENPLATE_REDIS_URL": own_redis.url,
                                   "OPENPLATE_SIGNIN_FAILURES_PER_ACCOUNT": str(ACCOUNT_LIMIT),
                                   "OPENPLATE_TOKEN_FAILURES_PER_CLIENT": str(CLIENT_LIMIT),
                                   "OPENPLATE_DB_POOL_SIZE": "4",
                                   "OPENPLATE_DB_POOL_TIMEOUT": "120"})
    try:
        yield live
    finally:
        live.stop()
        drop_database(database_url)


@pytest.fixture(autouse=True)
def redis_running(own_redis: OwnRedis, node: LiveServer) -> Iterator[None]:
    """Each test starts with Redis up and answering the server; the server logs no traceback."""
    if own_redis.process is None:
        own_redis.start()
    _wait_until_redis_is(node, "ok")
    before = len(node.log())
    yield
    fresh = node.log()[before:]
    assert "Traceback" not in fresh and "unhandled error" not in fresh, fresh[-3000:]


def _wait_until_redis_is(node: LiveServer, state: str) -> None:
    """Until the server's /readyz reports Redis as ``state`` ("ok" or "degraded")."""
    def checks() -> dict[str, str]:
        found: dict[str, str] = httpx.get(node.url + "/readyz", timeout=20).json()["checks"]
        return found

    wait_until(lambda: checks().get("redis", "").startswith(state),
               f"{node.url}/readyz to report Redis as {state}", log=node.log,
               gone=exited(node.process), seen=checks, ignore=(httpx.HTTPError,))


def _signin(node: LiveServer, login: str, password: str, source: str) -> int:
    with browser(node.url, source) as visitor:
        csrf = csrf_of(visitor.get("/signin"))
        return visitor.post("/signin", data={"csrf_token": csrf, "login": login,
                                             "password": password}).status_code


def _token(node: LiveServer, app: App, secret: str, source: str) -> int:
    with browser(node.url, source) as client:
        return client.post("/oauth/token", data={
            "grant_type": "client_credentials", "client_id": app.client_id,
            "client_secret": secret}).status_code


def test_a_block_made_in_redis_holds_through_an_outage_and_an_empty_restart(
    own_redis: OwnRedis, node: LiveServer,
) -> None:
    seeder = Seeder(node)
    victim = seeder.user("victim")
    app = seeder.app(seeder.user("dev"), grant_types=["client_credentials"])
    source = f"127.2.0.{next(_addresses)}"
    assert [_signin(node, victim.username, "guess", source)
            for _ in range(ACCOUNT_LIMIT + 1)] == [401] * ACCOUNT_LIMIT + [429]
    assert [_token(node, app, "opcs_guess", source)
            for _ in range(CLIENT_LIMIT + 1)] == [401] * CLIENT_LIMIT + [429]
    assert own_redis.keys() > 0  # counted in Redis

    own_redis.stop()
    _wait_until_redis_is(node, "degraded")
    assert _signin(node, victim.username, victim.password, source) == 429
    assert _signin(node, victim.username, "guess", source) == 429
    assert _token(node, app, "opcs_guess", source) == 429
    assert _token(node, app, app.client_secret or "", source) == 200  # never locked out

    own_redis.start()
    _wait_until_redis_is(node, "ok")
    assert own_redis.keys() == 0  # Redis came back empty
    assert _signin(node, victim.username, victim.password, source) == 429
    assert _signin(node, victim.username, "guess", source) == 429
    assert _token(node, app, "opcs_guess", source) == 429
    assert _token(node, app, app.client_secret or "", source) == 200


def test_a_block_made_during_an_outage_holds_when_redis_is_back(
    own_redis: OwnRedis, node: LiveServer,
) -> None:
    seeder = Seeder(node)
    victim = seeder.user("victim")
    app = seeder.app(seeder.user("dev"), grant_types=["client_credentials"])
    source = f"127.2.0.{next(_addresses)}"
    own_redis.stop()
    _wait_until_redis_is(node, "degraded")
    assert [_signin(node, victim.username, "guess", source)
            for _ in range(ACCOUNT_LIMIT + 1)] == [401] * ACCOUNT_LIMIT + [429]
    assert [_token(node, app, "opcs_guess", source)
            for _ in range(CLIENT_LIMIT + 1)] == [401] * CLIENT_LIMIT + [429]

    own_redis.start()
    _wait_until_redis_is(node, "ok")
    assert _signin(node, victim.username, victim.password, source) == 429
    assert _signin(node, victim.username, "guess", source) == 429
    # Nothing was counted in Redis for those: the database refused them first.
    assert own_redis.keys() == 0
    assert _token(node, app, "opcs_guess", source) == 429
    assert _token(node, app, app.client_secret or "", source) == 200
