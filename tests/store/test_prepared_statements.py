"""``Prepared`` statements run on the driver directly (sqlite3, asyncpg) inside the unit of work's
transaction, and behave as the same Core statements run through SQLAlchemy: same rows, same
errors, same rollback. Real SQLite and PostgreSQL databases."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.schema import CreateTable, DropTable

from openplate.settings import Settings
from openplate.store.engine import AsyncFace, create_engine, dispose, unit_of_work
from openplate.store.prepared import Prepared
from tests.support.postgres import create_database, drop_database

metadata = MetaData()
items = Table("prepared_items", metadata, Column("id", Integer, primary_key=True),
              Column("name", String(40), unique=True), Column("size", Integer))
ADD = Prepared(insert(items).returning(items.c.id))
ADD_PLAIN = Prepared(insert(items))
BY_NAME = Prepared(select(items).where(items.c.name == bindparam("n")))
GROW = Prepared(update(items).where(items.c.size < bindparam("limit")).values(size=bindparam("to")))


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'prepared.db'}"
        return
    created = create_database()
    try:
        yield created
    finally:
        drop_database(created)


def run(url: str, work):  # type: ignore[no-untyped-def]
    async def main():  # type: ignore[no-untyped-def]
        engine = create_engine(Settings(database_url=url, secret_key="k" * 48))
        try:
            async with unit_of_work(engine, lock=asyncio.Lock()) as conn:
                await conn.execute(DropTable(items, if_exists=True))
                await conn.execute(CreateTable(items))
            return await work(engine)
        finally:
            await dispose(engine)

    return asyncio.run(main())


def test_rows_counts_and_errors_match_core(url: str) -> None:
    async def work(engine):  # type: ignore[no-untyped-def]
        lock = asyncio.Lock()
        async with unit_of_work(engine, lock=lock) as conn:
            first = (await conn.execute(ADD, {"name": "a", "size": 1})).scalar_one()
            await conn.execute(ADD_PLAIN, {"name": "b", "size": 5})
            grown = await conn.execute(GROW, {"limit": 3, "to": 3})
            row = (await conn.execute(BY_NAME, {"n": "a"})).first()
            missing = (await conn.execute(BY_NAME, {"n": "zzz"})).first()
            if isinstance(conn, AsyncFace):
                assert await conn._driver_adapter(), "asyncpg fast path not in use"
        assert (row.id, row.name, row.size) == (first, "a", 3)
        assert grown.rowcount == 1 and missing is None
        with pytest.raises(IntegrityError):
            async with unit_of_work(engine, lock=lock) as conn:
                await conn.execute(ADD_PLAIN, {"name": "c", "size": 0})
                await conn.execute(ADD_PLAIN, {"name": "a", "size": 0})  # duplicate name
        async with unit_of_work(engine, readonly=True, lock=lock) as conn:
            rolled_back = (await conn.execute(BY_NAME, {"n": "c"})).first()
            # Core and Prepared statements share one transaction.
            names = [r.name for r in await conn.execute(select(items).order_by(items.c.name))]
        assert rolled_back is None and names == ["a", "b"]

    run(url, work)
