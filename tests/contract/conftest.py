"""The repository contract suite: every test runs against memory, SQLite and PostgreSQL.

A fresh SQLite file and a PostgreSQL database are made (and migrated) once per run, and the
PostgreSQL one is dropped at the end. Every test here is in the fast tier (``-m core``, see
tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from openplate.settings import Settings
from openplate.store.migrate import upgrade
from tests.contract.backends import SECRET_KEY, Backend, MemoryBackend, SqlBackend
from tests.support.async_tests import pytest_pyfunc_call  # noqa: F401 - runs the async tests
from tests.support.postgres import create_database, drop_database


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('contract') / 'contract.db'}"
    upgrade(Settings(database_url=url, secret_key=SECRET_KEY))
    return url


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    url = create_database()
    try:
        upgrade(Settings(database_url=url, secret_key=SECRET_KEY))
        yield url
    finally:
        drop_database(url)


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "memory":
        return MemoryBackend()
    return SqlBackend(request.param, request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture()
def postgresql(postgresql_url: str) -> SqlBackend:
    return SqlBackend("postgresql", postgresql_url)


@pytest.fixture()
def sqlite(sqlite_url: str) -> SqlBackend:
    return SqlBackend("sqlite", sqlite_url)
