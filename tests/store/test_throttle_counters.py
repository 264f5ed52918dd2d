"""The throttle counters themselves, on SQLite, PostgreSQL and Redis (and Redis with the
database behind it): ``take`` counts at most ``limit`` attempts per window however many units of
work take at once, refuses without counting, gives back only within its window, and a block
kept in the database holds while Redis answers. The clock (``now``) is the test's."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from redis.asyncio import Redis

from openplate.oauth.tokens import Digester
from openplate.settings import Settings
from openplate.store.engine import create_engine
from openplate.store.migrate import upgrade
from openplate.store.redis_counters import FallbackCounters, RedisCounters
from openplate.store.unit import Database
from openplate.throttling import Counters, Limit, Refused, Taken
from tests.conftest import REDIS_URL, _forget_redis_keys
from tests.support.postgres import create_database, drop_database

LIMIT = Limit(attempts=5, window=60)
TOGETHER = 300
DIGESTER = Digester(b"k" * 48)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        folder: Path = tmp_path_factory.mktemp("counters")
        yield f"sqlite:///{folder / 'counters.db'}"
        return
    url = create_database()
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture(scope="module")
def migrated(database_url: str) -> str:
    upgrade(Settings(database_url=database_url, secret_key="k" * 48))
    return database_url


@pytest.fixture()
def prefix() -> Iterator[str]:
    name = f"openplate-test-{secrets.token_hex(4)}:"
    yield name
    _forget_redis_keys(name)


CountersIn = Callable[..., Counters]


@asynccontextmanager
async def opened(url: str) -> AsyncIterator[Database]:
    # A burst of 300 queues for the pool's connections: this checks counting, not how long a
    # loaded machine takes to hand a connection out, so the wait for one is long.
    db = Database(create_engine(Settings(database_url=url, secret_key="k" * 48,
                                         db_pool_timeout=120)), DIGESTER)
    try:
        yield db
    finally:
        await db.dispose()


async def take(db: Database, make: CountersIn, key: str, now: int) -> Taken | Refused:
    async with db.transaction() as store:
        return await make(store).take({key: LIMIT}, now=now)


async def give_back(db: Database, make: CountersIn, taken: Taken) -> None:
    async with db.transaction() as store:
        await make(store).give_back(taken)


def _sides(redis: Redis | None, prefix: str) -> dict[str, CountersIn]:
    sides: dict[str, CountersIn] = {"database": lambda store: store.counters}
    if redis is not None:
        sides["redis+database"] = lambda store: FallbackCounters(
            RedisCounters(redis, DIGESTER, prefix), store.counters)
    return sides


def test_parallel_takes_count_at_most_the_limit(migrated: str, prefix: str) -> None:
    async def main() -> dict[str, list[int]]:
        redis = Redis.from_url(REDIS_URL)
        figures = {}
        try:
            async with opened(migrated) as db:
                for side, make in _sides(redis, prefix).items():
                    key = f"burst:{side}:{secrets.token_hex(4)}"
                    results = await asyncio.gather(*(take(db, make, key, 1000)
                                                     for _ in range(TOGETHER)))
                    figures[side] = [sum(isinstance(r, Taken) for r in results),
                                     sum(isinstance(r, Refused) for r in results)]
        finally:
            await redis.aclose()
        return figures

    figures = asyncio.run(main())
    assert figures == {"database": [5, 295], "redis+database": [5, 295]}, figures


def test_refusal_counts_nothing_and_give_back_frees_one(migrated: str, prefix: str) -> None:
    async def main() -> None:
        redis = Redis.from_url(REDIS_URL)
        try:
            async with opened(migrated) as db:
                for make in _sides(redis, prefix).values():
                    key = f"k:{secrets.token_hex(4)}"
                    taken = [await take(db, make, key, 1000) for _ in range(LIMIT.attempts)]
                    assert all(isinstance(t, Taken) for t in taken)
                    refused = await take(db, make, key, 1010)
                    assert isinstance(refused, Refused) and 0 < refused.retry_after <= 60
                    first = taken[0]
                    assert isinstance(first, Taken)
                    await give_back(db, make, first)
                    assert isinstance(await take(db, make, key, 1010), Taken)  # the freed one
                    assert isinstance(await take(db, make, key, 1010), Refused)
        finally:
            await redis.aclose()

    asyncio.run(main())


def test_two_keys_are_taken_together_or_not_at_all(migrated: str) -> None:
    async def main() -> None:
        async with opened(migrated) as db:
            full, fresh = f"full:{secrets.token_hex(4)}", f"fresh:{secrets.token_hex(4)}"
            for _ in range(LIMIT.attempts):
                await take(db, lambda store: store.counters, full, 1000)
            async with db.transaction() as store:
                refused = await store.counters.take({fresh: LIMIT, full: LIMIT}, now=1000)
                assert isinstance(refused, Refused)
                assert await store.counters.retry_after({fresh: LIMIT}, now=1000) is None
            for _ in range(LIMIT.attempts):  # nothing was counted on ``fresh``
                assert isinstance(await take(db, lambda store: store.counters, fresh, 1000), Taken)

    asyncio.run(main())


def test_a_window_ends(migrated: str) -> None:
    async def main() -> None:
        async with opened(migrated) as db:
            key = f"w:{secrets.token_hex(4)}"
            taken = [await take(db, lambda store: store.counters, key, 1000)
                     for _ in range(LIMIT.attempts)]
            assert isinstance(await take(db, lambda store: store.counters, key, 1059), Refused)
            assert isinstance(await take(db, lambda store: store.counters, key, 1060), Taken)
            # An attempt of the window that ended is not given back to the new one.
            old = taken[0]
            assert isinstance(old, Taken)
            await give_back(db, lambda store: store.counters, old)
            for _ in range(LIMIT.attempts - 1):
                assert isinstance(await take(db, lambda store: store.counters, key, 1061), Taken)
            assert isinstance(await take(db, lambda store: store.counters, key, 1061), Refused)

    asyncio.run(main())


def test_redis_blocks_are_kept_in_the_database_and_given_back_there(
    migrated: str, prefix: str,
) -> None:
    async def main() -> None:
        redis = Redis.from_url(REDIS_URL)
        both = _sides(redis, prefix)["redis+database"]
        try:
            async with opened(migrated) as db:
                key = f"m:{secrets.token_hex(4)}"
                taken = [await take(db, both, key, 1000) for _ in range(LIMIT.attempts)]
                assert all(isinstance(t, Taken) for t in taken)
                async with db.transaction() as store:  # the database alone refuses it now
                    assert await store.counters.retry_after({key: LIMIT}, now=1000)
                first = taken[0]
                assert isinstance(first, Taken)
                await give_back(db, both, first)  # any attempt given back, not the last one
                async with db.transaction() as store:  # …and no longer once one is given back
                    assert await store.counters.retry_after({key: LIMIT}, now=1000) is None
                # A block in the database alone (an outage) refuses while Redis answers.
                other = f"o:{secrets.token_hex(4)}"
                for _ in range(LIMIT.attempts):
                    await take(db, lambda store: store.counters, other, 1000)
                assert isinstance(await take(db, both, other, 1000), Refused)
        finally:
            await redis.aclose()

    asyncio.run(main())
