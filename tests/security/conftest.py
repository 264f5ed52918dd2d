"""These flows run on every engine: SQLite, and PostgreSQL with Redis."""

from __future__ import annotations

import pytest

from tests.support.server import LiveServer


@pytest.fixture(scope="session")
def server(flow_server: LiveServer) -> LiveServer:
    return flow_server
