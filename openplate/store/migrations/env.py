"""Alembic environment: runs migrations over the async engine that the server itself uses."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.ext.asyncio import AsyncEngine

from openplate.settings import Settings
from openplate.store.engine import create_engine
from openplate.store.tables import metadata


def _run(connection: Any) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def _main_async(engine: AsyncEngine) -> None:
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def _main() -> None:
    settings = context.config.attributes.get("settings") or Settings()
    engine = create_engine(settings, foreign_keys=False, statement_limit=False)
    if isinstance(engine, AsyncEngine):
        asyncio.run(_main_async(engine))
        return
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


_main()
