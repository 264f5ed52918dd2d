"""Mail tests: the queue on SQLite and PostgreSQL, sent to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from openplate.oauth.tokens import Digester
from openplate.settings import Settings
from openplate.store.engine import create_engine
from openplate.store.migrate import upgrade
from openplate.store.unit import Database
from tests.support.async_tests import pytest_pyfunc_call  # noqa: F401 - runs the async tests
from tests.support.postgres import create_database, drop_database

KEY = "k" * 48


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'mail.db'}"
        upgrade(Settings(database_url=url, secret_key=KEY))
        yield url
        return
    url = create_database()
    try:
        upgrade(Settings(database_url=url, secret_key=KEY))
        yield url
    finally:
        drop_database(url)


def open_database(url: str) -> Database:
    """A Database of its own (as another node would have), opened in the running loop."""
    return Database(create_engine(Settings(database_url=url, secret_key=KEY)),
                    Digester(KEY.encode()))
