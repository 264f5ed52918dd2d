"""The library's lists at size, and view counts under parallel requests, on SQLite and
PostgreSQL (slower than the contract suite's fast tier, so here).

- 250 maps walked page by page in every order, with maps added between the pages: each of the
  250 comes exactly once.
- ``record_view`` from 50 requests at once: one viewer counts once, 50 viewers count 50; on
  SQLite also from separate connections in separate threads, as separate worker processes.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from openplate.settings import Settings
from openplate.store.map_records import MapQuery
from openplate.store.migrate import upgrade
from tests.contract.backends import NOW, SECRET_KEY, SqlBackend
from tests.contract.map_helpers import add_map, topic, walk
from tests.support.postgres import create_database, drop_database
from tests.support.waiting import PATIENCE

MAPS = 250
BURST = 50


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        made = f"sqlite:///{tmp_path_factory.mktemp('map-pages') / 'maps.db'}"
        upgrade(Settings(database_url=made, secret_key=SECRET_KEY))
        yield made
        return
    made = create_database()
    try:
        upgrade(Settings(database_url=made, secret_key=SECRET_KEY))
        yield made
    finally:
        drop_database(made)


def _name(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def test_walking_every_page_gives_every_map_once_while_maps_are_added(url: str) -> None:
    async def main() -> None:
        sql = SqlBackend(_name(url), url)
        try:
            owner = await sql.add_user()
            async with sql.db.transaction() as store:
                for n in range(MAPS):
                    # Ten maps a second, every fifth one about bees (in a topic or the title).
                    title = f"Bees {n}" if n % 10 == 0 else f"Map {n}"
                    await add_map(sql, owner, title=title, now=NOW + n // 10, store=store,
                                  outline=[topic(title, topic("bees" if n % 5 == 0 else "ants"))])
            original = await walk(sql, MapQuery(author=owner.username), limit=100)
            assert len(original) == MAPS
            queries = [(MapQuery(author=owner.username), MAPS),
                       (MapQuery(author=owner.username, order="views"), MAPS),
                       (MapQuery(author=owner.username, q="bees"), MAPS // 5)]
            for query, expected in queries:
                seen: list[int] = []
                cursor: str | None = None
                added = 0
                while True:
                    async with sql.db.transaction(readonly=True) as store:
                        page = await store.maps.page(query, limit=7, cursor=cursor)
                    seen.extend(m.id for m in page.maps)
                    # Between pages, a new map of the same author and words: newer, or as
                    # old as the oldest (same second), with a larger id.
                    added += 1
                    await add_map(sql, owner, title=f"Bees added {added}",
                                  now=NOW + (1000 + added if added % 2 else 0))
                    if page.next_cursor is None:
                        break
                    cursor = page.next_cursor
                originals = {m.id for m in original}
                from_originals = [i for i in seen if i in originals]
                assert len(seen) == len(set(seen)), "a map came twice"
                assert len(from_originals) == expected, (query, len(from_originals))
            await _delete_everything_of(sql, owner.id)
        finally:
            await sql.aclose()

    asyncio.run(main())


async def _delete_everything_of(sql: SqlBackend, owner_id: int) -> None:
    async with sql.db.transaction() as store:
        assert await store.admin.delete_user(user_id=owner_id)


async def _view(sql: SqlBackend, map_id: int, viewer: str) -> bool:
    async with sql.db.transaction() as store:
        return await store.maps.record_view(map_id, viewer, 20_500)


async def _view_count(sql: SqlBackend, public_id: str) -> tuple[int, int]:
    async with sql.db.transaction(readonly=True) as store:
        record = await store.maps.by_public_id(public_id)
    assert record is not None
    return record.id, record.view_count


def test_parallel_views_count_once_per_viewer(url: str) -> None:
    async def main() -> None:
        sql = SqlBackend(_name(url), url)
        try:
            owner = await sql.add_user()
            one, many = await add_map(sql, owner), await add_map(sql, owner)
            one_id, _ = await _view_count(sql, one)
            many_id, _ = await _view_count(sql, many)
            same = await asyncio.gather(*(_view(sql, one_id, "the-viewer") for _ in range(BURST)))
            assert same.count(True) == 1
            distinct = await asyncio.gather(*(_view(sql, many_id, f"viewer-{n}")
                                              for n in range(BURST)))
            assert distinct.count(True) == BURST
            assert (await _view_count(sql, one))[1] == 1
            assert (await _view_count(sql, many))[1] == BURST
        finally:
            await sql.aclose()

    asyncio.run(main())


def test_on_sqlite_views_from_separate_connections_count_once(url: str, tmp_path: Path) -> None:
    """Eight ``Database``s on one file, each with its connection and event loop in a thread of
    its own (as eight worker processes): of eight first views by one viewer, one counts."""
    if not url.startswith("sqlite"):
        pytest.skip("PostgreSQL's connections are already separate (the test above)")

    async def setup() -> tuple[int, str]:
        sql = SqlBackend("sqlite", url)
        try:
            public_id = await add_map(sql, await sql.add_user())
            return (await _view_count(sql, public_id))[0], public_id
        finally:
            await sql.aclose()

    map_id, public_id = asyncio.run(setup())
    start = threading.Barrier(8)
    results: list[bool] = []
    failures: list[BaseException] = []

    def worker() -> None:
        async def main() -> None:
            own = SqlBackend("sqlite", url)
            try:
                await own.add_user()  # opens its connection before the race
                start.wait(timeout=PATIENCE)
                results.append(await _view(own, map_id, "one-viewer"))
            finally:
                await own.aclose()
        try:
            asyncio.run(main())
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=PATIENCE)
    assert not failures, failures
    assert results.count(True) == 1 and len(results) == 8

    async def count() -> int:
        sql = SqlBackend("sqlite", url)
        try:
            return (await _view_count(sql, public_id))[1]
        finally:
            await sql.aclose()

    assert asyncio.run(count()) == 1


def test_the_purge_forgets_view_rows_of_past_days_and_keeps_the_counts(url: str) -> None:
    from openplate.housekeeping import purge
    from openplate.store.purge_repo import Retention

    today = 25_000

    async def main() -> None:
        sql = SqlBackend(_name(url), url)
        try:
            public_id = await add_map(sql, await sql.add_user())
            map_id, _ = await _view_count(sql, public_id)
            async with sql.db.transaction() as store:
                for day in (today - 5, today - 2, today - 1, today):
                    for viewer in range(3):
                        assert await store.maps.record_view(map_id, f"v{viewer}", day)
            counts = await purge(sql.db, batch=2, now=today * 86_400 + 3600, retention=Retention())
            assert counts["map_views"] >= 6
            async with sql.db.transaction() as store:
                # Yesterday's and today's rows are still there: those views do not count again.
                assert not await store.maps.record_view(map_id, "v0", today - 1)
                assert not await store.maps.record_view(map_id, "v0", today)
                assert await store.maps.record_view(map_id, "v0", today - 2)  # forgotten
            assert (await _view_count(sql, public_id))[1] == 13
        finally:
            await sql.aclose()

    asyncio.run(main())
