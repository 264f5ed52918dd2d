"""Every call to PostgreSQL has a time limit: a database that stops answering (a real PostgreSQL
behind a proxy that stops forwarding, tests/support/freezer.py) fails a unit of work with
``DatabaseUnavailable`` or the pool's timeout while it is still frozen, at each step: connecting,
waiting for a pooled connection, a statement, and the COMMIT. Text PostgreSQL cannot store is
refused before it is sent, as bad input."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout

from openplate.settings import Settings
from openplate.store.engine import (
    AnyEngine,
    DatabaseUnavailable,
    UnstorableText,
    create_engine,
    dispose,
    unit_of_work,
)
from tests.support.freezer import FreezingProxy
from tests.support.postgres import create_database, drop_database
from tests.support.waiting import within

LIMIT = 0.5  # seconds; small so the test is quick (nothing here measures time)
#: A safety net only: without the limits a frozen call would hang the test for good.
HANG = 60


@pytest.fixture(scope="module")
def proxied() -> Iterator[tuple[FreezingProxy, str]]:
    url = create_database()
    proxy = FreezingProxy(5432)
    name = url.rsplit("/", 1)[1]
    try:
        yield proxy, f"postgresql://postgres@127.0.0.1:{proxy.port}/{name}"
    finally:
        proxy.close()
        drop_database(url)


def engine_for(url: str, pool_size: int) -> AnyEngine:
    return create_engine(Settings(
        database_url=url, secret_key="k" * 48, db_connect_timeout=LIMIT, db_pool_timeout=LIMIT,
        db_statement_timeout=LIMIT, db_pool_size=pool_size))


def run(url: str, work: Callable[[AnyEngine], Awaitable[None]], pool_size: int = 32) -> None:
    async def main() -> None:
        engine = engine_for(url, pool_size)
        try:
            await within(work(engine), f"the database calls to end (each is limited to "
                         f"{LIMIT} s: one that hangs here has no limit)", patience=HANG)
        finally:
            await dispose(engine)

    return asyncio.run(main())


async def select_one(engine: AnyEngine) -> int:
    async with unit_of_work(engine) as conn:
        return int((await conn.execute(text("SELECT 1"))).scalar_one())


def test_connecting_to_a_frozen_database(proxied: tuple[FreezingProxy, str]) -> None:
    proxy, url = proxied

    async def work(engine: AnyEngine) -> None:
        with proxy.frozen():  # no connection in the pool yet: this one must be opened
            with pytest.raises(DatabaseUnavailable):
                await select_one(engine)
        assert await select_one(engine) == 1  # thawed: the next unit connects afresh

    run(url, work)


def test_a_statement_and_the_pre_ping_on_a_frozen_database(
        proxied: tuple[FreezingProxy, str]) -> None:
    proxy, url = proxied

    async def work(engine: AnyEngine) -> None:
        assert await select_one(engine) == 1  # a pooled connection, pinged on its next checkout
        with proxy.frozen():
            with pytest.raises(DatabaseUnavailable):
                await select_one(engine)
        with pytest.raises(DatabaseUnavailable):
            async with unit_of_work(engine) as conn:
                await conn.execute(text("SELECT 1"))
                proxy.freeze()  # mid-transaction: the statement itself times out
                await conn.execute(text("SELECT 2"))
        proxy.thaw()
        assert await select_one(engine) == 1

    try:
        run(url, work)
    finally:
        proxy.thaw()


def test_a_commit_on_a_frozen_database(proxied: tuple[FreezingProxy, str]) -> None:
    proxy, url = proxied

    async def work(engine: AnyEngine) -> None:
        async with unit_of_work(engine) as conn:
            await conn.execute(text("CREATE TABLE IF NOT EXISTS limits_t (x integer)"))
        with pytest.raises(DatabaseUnavailable):
            async with unit_of_work(engine) as conn:
                await conn.execute(text("INSERT INTO limits_t VALUES (1)"))
                proxy.freeze()  # the block ends normally: its COMMIT meets the frozen server
        proxy.thaw()
        # Whether the COMMIT the frozen server received counts is its to say once it wakes (a
        # commit that timed out has an unknown outcome); the engine carries on either way.
        async with unit_of_work(engine) as conn:
            rows = (await conn.execute(text("SELECT count(*) FROM limits_t"))).scalar_one()
        assert rows in (0, 1)

    try:
        run(url, work)
    finally:
        proxy.thaw()


def test_waiting_for_a_pooled_connection(proxied: tuple[FreezingProxy, str]) -> None:
    _, url = proxied

    async def work(engine: AnyEngine) -> None:
        # Pool size 1 and as many again under bursts: two units hold both connections.
        release, both_held = asyncio.Event(), asyncio.Event()
        holding: list[int] = []

        async def hold() -> None:
            async with unit_of_work(engine) as conn:
                await conn.execute(text("SELECT 1"))
                holding.append(1)
                if len(holding) == 2:
                    both_held.set()
                await release.wait()

        holders = [asyncio.create_task(hold()) for _ in range(2)]
        await both_held.wait()
        with pytest.raises(PoolTimeout):
            await select_one(engine)
        release.set()
        await asyncio.gather(*holders)
        assert await select_one(engine) == 1

    run(url, work, pool_size=1)


def test_text_postgresql_cannot_store_is_refused_before_it_is_sent(
        proxied: tuple[FreezingProxy, str]) -> None:
    _, url = proxied

    async def work(engine: AnyEngine) -> None:
        for bad in ("a\x00b", "\ud800", "x" * 100 + "\udfff"):
            with pytest.raises(UnstorableText):
                async with unit_of_work(engine) as conn:
                    await conn.execute(text("SELECT :v"), {"v": bad})
        async with unit_of_work(engine) as conn:
            assert (await conn.execute(text("SELECT :v"), {"v": "é€😀"})).scalar_one() == "é€😀"

    run(url, work)
