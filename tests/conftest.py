"""Shared fixtures: a real Openplate server on a loopback port over a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

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
    if "server" not in request.fixturenames:
        yield
        return
    live: LiveServer = request.getfixturevalue("server")
    before = len(live.log())
    yield
    fresh = live.log()[before:]
    assert "Traceback" not in fresh and "unhandled error" not in fresh, fresh[-3000:]
