"""Shared fixtures: real Openplate servers on loopback ports, over a real SQLite file or over
PostgreSQL and Redis (the scale-out path)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.postgres import create_database, drop_database
from tests.support.seed import Seeder
from tests.support.server import LiveServer, start_server

REDIS_URL = "redis://127.0.0.1:6379/0"
TESTS = Path(__file__).parent
#: The fast tier (``-m core``): the protocol core over the memory store, the repository
#: contract suite over memory, SQLite and PostgreSQL, and the check that the docs name real code
#: and tests. No server, no browser. Folders and files directly under tests/.
CORE_PATHS = ("oauth", "accounts", "contract", "test_docs.py")


def _in_core(path: Path) -> bool:
    return path.is_relative_to(TESTS) and path.relative_to(TESTS).parts[:1] in [
        (name,) for name in CORE_PATHS]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _in_core(item.path):
            item.add_marker(pytest.mark.core)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """With ``-m core`` alone, nothing else is even imported: every core test is in CORE_PATHS,
    so this changes no selection, only the time it takes (a third of the run)."""
    if config.getoption("markexpr") != "core" or collection_path == TESTS:
        return None
    if not collection_path.is_relative_to(TESTS) or _in_core(collection_path):
        return None
    return True


def _backend_server(kind: str, tmp_path_factory: pytest.TempPathFactory,
                    extra_env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp(f"openplate-{kind}")
    if kind == "sqlite":
        live = start_server(folder, extra_env=extra_env)
        try:
            yield live
        finally:
            live.stop()
        return
    database_url = create_database()
    prefix = f"openplate-test-{secrets.token_hex(4)}:"
    live = start_server(folder, database_url=database_url, extra_env={
        "OPENPLATE_REDIS_URL": REDIS_URL, "OPENPLATE_REDIS_PREFIX": prefix, **(extra_env or {})})
    try:
        yield live
    finally:
        live.stop()
        drop_database(database_url)
        _forget_redis_keys(prefix)


def _forget_redis_keys(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        for key in client.scan_iter(match=prefix + "*"):
            client.delete(key)
    finally:
        client.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The default deployment: one process on SQLite."""
    yield from _backend_server("sqlite", tmp_path_factory)


@pytest.fixture(scope="session", params=["sqlite", "postgresql+redis"])
def flow_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The same server on each engine; the flow suites (web, security, oidc) run on both."""
    yield from _backend_server(request.param, tmp_path_factory)


@pytest.fixture(scope="module")
def seeder(server: LiveServer) -> Seeder:
    # Module scope: folders override `server` (flow suites run on every engine), and a session-wide
    # seeder would keep writing to whichever server the first module used.
    return Seeder(server)


@pytest.fixture()
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=20) as client:
        yield client


@pytest.fixture(autouse=True)
def no_server_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """Whatever a test sends, the server must never crash into a traceback or a 500."""
    name = next((n for n in ("server", "flow_server") if n in request.fixturenames), None)
    if name is None:
        yield
        return
    live: LiveServer = request.getfixturevalue(name)
    before = len(live.log())
    yield
    fresh = live.log()[before:]
    assert "Traceback" not in fresh and "unhandled error" not in fresh, fresh[-3000:]
