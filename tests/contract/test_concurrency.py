"""One-time artefacts under concurrency: of any number of units that consume the same code or
rotate the same refresh token at once, exactly one succeeds.

On every backend, units start together (``asyncio.gather``): PostgreSQL runs them on
connections of their own; SQLite and memory run them one at a time, by design. PostgreSQL is
also driven step by step with two open transactions, and SQLite with two connections in two
threads, as two worker processes would use it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from functools import partial

import asyncpg

from openplate.oauth.models import CodeRecord
from openplate.store.engine import async_url
from tests.contract.backends import (
    NOW,
    Backend,
    ContractStore,
    SqlBackend,
    code,
    grant,
    refresh_token,
    user_and_client,
)
from tests.support.waiting import PATIENCE, wait_until_async

RACERS = 8


async def _consume(backend: Backend, digest: str) -> CodeRecord | None:
    async with backend.transaction() as store:
        return await store.codes.consume(digest=digest, now=NOW + 1)


async def _rotate(backend: Backend, refresh_id: int) -> bool:
    async with backend.transaction() as store:
        return await store.tokens.use_refresh(refresh_id=refresh_id, now=NOW + 1,
                                              successor_stamp=None)


async def _refresh_id(backend: Backend, digest: str) -> int:
    async with backend.transaction(readonly=True) as store:
        record = await store.tokens.find_refresh(digest=digest)
    assert record is not None
    return record.id


async def test_concurrent_consumes_of_a_code_one_wins(backend: Backend) -> None:
    user, client = await user_and_client(backend)
    digest = await code(backend, await grant(backend, user, client), user, client)
    results = await asyncio.gather(*(_consume(backend, digest) for _ in range(RACERS)))
    assert sum(result is not None for result in results) == 1


async def test_concurrent_rotations_of_a_refresh_token_one_wins(backend: Backend) -> None:
    user, client = await user_and_client(backend)
    digest = await refresh_token(backend, await grant(backend, user, client), user, client)
    refresh_id = await _refresh_id(backend, digest)
    results = await asyncio.gather(*(_rotate(backend, refresh_id) for _ in range(RACERS)))
    assert results.count(True) == 1


async def _waiting_on_a_lock(url: str, second: asyncio.Future[object]) -> None:
    """Return once a session of this database waits for a lock, as PostgreSQL reports it; fail
    at once if the ``second`` transaction ended without waiting."""
    conn = await asyncpg.connect(url)

    async def lock_waits() -> int:
        return int(await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"))

    def ended() -> str | None:
        if not second.done():
            return None
        outcome = second.exception() or second.result()
        return f"the second transaction ended without waiting ({outcome!r})"

    try:
        await wait_until_async(lock_waits, "the second transaction to wait for the first's lock "
                               "(pg_stat_activity: wait_event_type = 'Lock')", poll=0.005, gone=ended)
    finally:
        await conn.close()


async def _second_waits_for_first(
    postgresql: SqlBackend, first_step: Callable[[ContractStore], Awaitable[object]],
    second: Callable[[], Awaitable[object]], *, first_commits: bool,
) -> object:
    """Open a transaction, take the artefact, start a second transaction that wants it, wait
    until PostgreSQL makes it wait, then commit (or roll back) the first; the second's result."""
    plain_url = postgresql.url
    try:
        async with postgresql.transaction() as store:
            assert await first_step(store)
            waiting = asyncio.ensure_future(second())
            await _waiting_on_a_lock(plain_url, waiting)
            assert not waiting.done()
            if not first_commits:
                raise LookupError("the first transaction fails")
    except LookupError:
        pass
    return await waiting


async def test_on_postgresql_a_second_consume_waits_and_loses_or_wins(
    postgresql: SqlBackend,
) -> None:
    assert async_url(postgresql.url) != postgresql.url  # a real PostgreSQL, through asyncpg
    user, client = await user_and_client(postgresql)
    for first_commits in (True, False):
        digest = await code(postgresql, await grant(postgresql, user, client), user, client)

        async def first(store: ContractStore, digest: str = digest) -> object:
            return await store.codes.consume(digest=digest, now=NOW + 1)

        result = await _second_waits_for_first(
            postgresql, first, partial(_consume, postgresql, digest),
            first_commits=first_commits)
        if first_commits:
            assert result is None
        else:
            assert isinstance(result, CodeRecord) and result.used is False


async def test_on_postgresql_a_second_rotation_waits_and_loses_or_wins(
    postgresql: SqlBackend,
) -> None:
    user, client = await user_and_client(postgresql)
    for first_commits in (True, False):
        digest = await refresh_token(postgresql, await grant(postgresql, user, client), user,
                                     client)
        refresh_id = await _refresh_id(postgresql, digest)

        async def first(store: ContractStore, refresh_id: int = refresh_id) -> object:
            return await store.tokens.use_refresh(refresh_id=refresh_id, now=NOW + 1,
                                                  successor_stamp=None)

        result = await _second_waits_for_first(
            postgresql, first, partial(_rotate, postgresql, refresh_id),
            first_commits=first_commits)
        assert result is (not first_commits)


async def test_on_sqlite_two_connections_in_two_threads_one_consume_wins(
    sqlite: SqlBackend,
) -> None:
    """Two ``Database``s on one file, each with its own connection and event loop, as two worker
    processes have: ``BEGIN IMMEDIATE`` makes the second wait for the first's commit."""
    user, client = await user_and_client(sqlite)
    digest = await code(sqlite, await grant(sqlite, user, client), user, client)
    start = threading.Barrier(2)
    results: list[object] = []
    failures: list[BaseException] = []

    def worker() -> None:
        async def main() -> None:
            other = SqlBackend("sqlite", sqlite.url)
            try:
                await other.add_user()  # opens its connection before the race
                start.wait(timeout=PATIENCE)
                results.append(await _consume(other, digest))
            finally:
                await other.aclose()
        try:
            asyncio.run(main())
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            failures.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=PATIENCE)
    assert not any(thread.is_alive() for thread in threads), (
        f"gave up after {PATIENCE:g} s waiting for both workers to consume the code")
    assert not failures, f"a worker failed: {failures!r}"
    assert sum(result is not None for result in results) == 1
