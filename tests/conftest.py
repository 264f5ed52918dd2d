"""Shared fixtures: a real Openplate server on a loopback port over a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.postgres import create_database, drop_database
from tests.support.seed import Seeder
from tests.support.server import LiveServer, start_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("openplate")
    live = start_server(folder)
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="session")
def seeder(server: LiveServer) -> Seeder:
    return Seeder(server)


@pytest.fixture()
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=20) as client:
        yield client


@pytest.fixture(autouse=True)
def no_server_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """Whatever a test sends, the server must never crash into a traceback or a 500."""
    name = next((n for n in ("server", "any_server") if n in request.fixturenames), None)
    if name is None:
        yield
        return
    live: LiveServer = request.getfixturevalue(name)
    before = len(live.log())
    yield
    fresh = live.log()[before:]
    assert "Traceback" not in fresh and "unhandled error" not in fresh, fresh[-3000:]


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def any_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The same server on each database engine: SQLite (the default) and PostgreSQL."""
    folder = tmp_path_factory.mktemp(f"openplate-{request.param}")
    database_url = create_database() if request.param == "postgresql" else None
    live = start_server(folder, database_url=database_url)
    try:
        yield live
    finally:
        live.stop()
        if database_url:
            drop_database(database_url)


@pytest.fixture(scope="session")
def any_seeder(any_server: LiveServer) -> Seeder:
    return Seeder(any_server)
