"""A throw-away PostgreSQL database per test run (127.0.0.1:5432, user postgres, trust auth)."""

from __future__ import annotations

import asyncio
import os
import secrets

import asyncpg

ADMIN_URL = os.environ.get("OPENPLATE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def _server_part() -> str:
    return ADMIN_URL.rsplit("/", 1)[0]


def create_database() -> str:
    name = "openplate_test_" + secrets.token_hex(6)

    async def main() -> None:
        conn = await asyncpg.connect(ADMIN_URL)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(main())
    return f"{_server_part()}/{name}"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]

    async def main() -> None:
        conn = await asyncpg.connect(ADMIN_URL)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(main())
