"""A throw-away PostgreSQL database per test run (127.0.0.1:5432, user postgres, trust auth)."""

from __future__ import annotations

import asyncio
import os
import secrets

import asyncpg

ADMIN_URL = os.environ.get("OPENPLATE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
#: Seconds for connecting to PostgreSQL and for one CREATE or DROP DATABASE: instant on an idle
#: machine, generous for a loaded one.
PATIENCE = 60.0


def _server_part() -> str:
    return ADMIN_URL.rsplit("/", 1)[0]


def _admin(statement: str, what: str) -> None:
    """Run ``statement`` on the admin database; fail naming ``what`` if PostgreSQL refuses it or
    does not answer in time."""

    async def main() -> None:
        conn = await asyncpg.connect(ADMIN_URL, timeout=PATIENCE)
        try:
            await conn.execute(statement, timeout=PATIENCE)
        finally:
            await conn.close(timeout=PATIENCE)

    try:
        asyncio.run(main())
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        raise RuntimeError(
            f"could not {what} on {ADMIN_URL} (OPENPLATE_TEST_POSTGRES) within {PATIENCE:g} s: "
            f"{type(error).__name__}: {error}") from error


def create_database() -> str:
    name = "openplate_test_" + secrets.token_hex(6)
    _admin(f'CREATE DATABASE "{name}"', f"create the test database {name}")
    return f"{_server_part()}/{name}"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f"drop the test database {name}")
