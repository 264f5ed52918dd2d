"""Database engines: SQLite (embedded default) and PostgreSQL through one SQLAlchemy code path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from openplate.settings import Settings


def async_url(url: str) -> str:
    """Map a plain database URL to its async driver (aiosqlite or asyncpg)."""
    for plain, driver in (
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain):]
    return url


def _configure_sqlite(engine: AsyncEngine, *, foreign_keys: bool, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN is ours (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front, so two writers never deadlock upgrading a
        # read lock; readers stay deferred and, under WAL, never wait for a writer.
        readonly = conn.get_execution_options().get("openplate_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def create_engine(settings: Settings, *, foreign_keys: bool = True) -> AsyncEngine:
    """The async engine for ``settings.database_url``.

    ``foreign_keys=False`` is for migrations only: SQLite rebuilds a table to alter it, and with
    foreign keys on, dropping the old copy would cascade into every table that refers to it.
    """
    url = async_url(settings.database_url)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=settings.sql_echo, pool_size=8, max_overflow=8)
        _configure_sqlite(
            engine, foreign_keys=foreign_keys, busy_timeout_ms=settings.sqlite_busy_timeout_ms
        )
        return engine
    return create_async_engine(
        url, echo=settings.sql_echo, pool_size=10, max_overflow=10, pool_pre_ping=True
    )


@asynccontextmanager
async def unit_of_work(
    engine: AsyncEngine, *, readonly: bool = False
) -> AsyncIterator[AsyncConnection]:
    """One transaction: committed when the block ends normally, rolled back on an exception."""
    async with engine.connect() as conn:
        if readonly:
            conn = await conn.execution_options(openplate_readonly=True)
        async with conn.begin():
            yield conn
